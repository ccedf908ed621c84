import {
  AuthorityInfoAccessExtension,
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  CRLDistributionPointsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  GeneralName,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
} from './x509.js';
import type { ExtendedKeyUsageName, KeyUsageName, SubjectAltName } from './types.js';

export interface ExtensionParams {
  /** Present for CA certificates; pathLength undefined means unlimited. */
  ca?: { pathLength?: number };
  keyUsage: KeyUsageName[];
  extendedKeyUsage?: ExtendedKeyUsageName[];
  sans?: SubjectAltName[];
  crlUrl?: string;
  ocspUrl?: string;
}

const SAN_TYPE = { dns: 'dns', ip: 'ip', email: 'email', uri: 'url' } as const;

export function sanExtension(sans: SubjectAltName[]): SubjectAlternativeNameExtension {
  return new SubjectAlternativeNameExtension(sans.map((san) => ({ type: SAN_TYPE[san.type], value: san.value })));
}

/** The profile extensions; SKI and AKI are added by the certificate builder. */
export function profileExtensions(params: ExtensionParams): Extension[] {
  const extensions: Extension[] = [
    new BasicConstraintsExtension(params.ca !== undefined, params.ca?.pathLength, true),
    new KeyUsagesExtension(
      params.keyUsage.reduce((flags, usage) => flags | KeyUsageFlags[usage], 0),
      true,
    ),
  ];
  if (params.extendedKeyUsage?.length) {
    extensions.push(new ExtendedKeyUsageExtension(params.extendedKeyUsage.map((usage) => ExtendedKeyUsage[usage])));
  }
  if (params.sans?.length) extensions.push(sanExtension(params.sans));
  if (params.crlUrl) extensions.push(new CRLDistributionPointsExtension([params.crlUrl]));
  if (params.ocspUrl) {
    extensions.push(new AuthorityInfoAccessExtension({ ocsp: [new GeneralName('url', params.ocspUrl)] }));
  }
  return extensions;
}

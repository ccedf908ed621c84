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
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName as AsnGeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { Extension as X509Extension, X509Certificate } from './x509.js';
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

/** Permitted subtrees of a CA's nameConstraints: DNS domains, CIDR ranges, e-mail domains or mailboxes. */
export interface NameConstraintSet {
  dns: string[];
  ip: string[];
  email: string[];
}

/**
 * A critical nameConstraints extension (RFC 5280 4.2.1.10) with these permitted subtrees, for any
 * CA certificate: the intermediate, and sub-CAs through `extraExtensions` of createCertificate.
 */
export function nameConstraintsExtension(permitted: NameConstraintSet): X509Extension {
  const subtrees = [
    ...permitted.dns.map((dNSName) => new AsnGeneralName({ dNSName })),
    ...permitted.ip.map((iPAddress) => new AsnGeneralName({ iPAddress })),
    ...permitted.email.map((rfc822Name) => new AsnGeneralName({ rfc822Name })),
  ].map((base) => new GeneralSubtree({ base }));
  const value = new NameConstraints({ permittedSubtrees: new GeneralSubtrees(subtrees) });
  return new X509Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

/** The permitted subtrees of a certificate's nameConstraints, or undefined when it has none. */
export function readNameConstraints(pem: string): NameConstraintSet | undefined {
  const extension = new X509Certificate(pem).extensions.find((candidate) => candidate.type === id_ce_nameConstraints);
  if (!extension) return undefined;
  const value = AsnConvert.parse(extension.value, NameConstraints);
  const set: NameConstraintSet = { dns: [], ip: [], email: [] };
  for (const { base } of value.permittedSubtrees ?? []) {
    if (base.dNSName !== undefined) set.dns.push(base.dNSName);
    else if (base.iPAddress !== undefined) set.ip.push(base.iPAddress);
    else if (base.rfc822Name !== undefined) set.email.push(base.rfc822Name);
  }
  return set;
}

import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLNumber,
  CRLReason,
  CRLReasons,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  NameConstraints,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ad_ocsp,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_cRLDistributionPoints,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_emailProtection,
  id_kp_serverAuth,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';
import { ipAsnText } from './ip-address.js';
import { certificateExtensionQuickly } from './quick-check.js';
import { X509Certificate } from './x509.js';
import type { ExtendedKeyUsageName, KeyUsageName, RevocationReason, SubjectAltName } from './types.js';

/** A certificate extension as the ASN.1 schema of @peculiar/asn1-x509 has it. */
export { Extension };

export interface ExtensionParams {
  /** Present for CA certificates; pathLength undefined means unlimited. */
  ca?: { pathLength?: number };
  keyUsage: KeyUsageName[];
  extendedKeyUsage?: ExtendedKeyUsageName[];
  sans?: SubjectAltName[];
  crlUrl?: string;
  ocspUrl?: string;
}

const EXTENDED_KEY_USAGE: Record<ExtendedKeyUsageName, string> = {
  serverAuth: id_kp_serverAuth,
  clientAuth: id_kp_clientAuth,
  emailProtection: id_kp_emailProtection,
};

function extension(extnID: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function generalName(san: SubjectAltName): GeneralName {
  switch (san.type) {
    case 'dns':
      return new GeneralName({ dNSName: san.value });
    case 'ip':
      return new GeneralName({ iPAddress: ipAsnText(san.value) });
    case 'email':
      return new GeneralName({ rfc822Name: san.value });
    case 'uri':
      return new GeneralName({ uniformResourceIdentifier: san.value });
  }
}

export function sanExtension(sans: SubjectAltName[]): Extension {
  return extension(id_ce_subjectAltName, false, new SubjectAlternativeName(sans.map(generalName)));
}

/** The profile extensions; the key identifiers are added by the certificate builder. */
export function profileExtensions(params: ExtensionParams): Extension[] {
  return [...extensionsBeforeSans(params), ...(params.sans?.length ? [sanExtension(params.sans)] : []), ...extensionsAfterSans(params)];
}

/** basicConstraints, keyUsage and extKeyUsage: what profileExtensions puts before the SANs. */
function extensionsBeforeSans(params: ExtensionParams): Extension[] {
  const extensions = [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: params.ca !== undefined, ...(params.ca?.pathLength !== undefined ? { pathLenConstraint: params.ca.pathLength } : {}) })),
    extension(id_ce_keyUsage, true, new KeyUsage(params.keyUsage.reduce((flags, usage) => flags | KeyUsageFlags[usage], 0))),
  ];
  if (params.extendedKeyUsage?.length) {
    extensions.push(extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(params.extendedKeyUsage.map((usage) => EXTENDED_KEY_USAGE[usage]))));
  }
  return extensions;
}

/** cRLDistributionPoints and authorityInfoAccess: what profileExtensions puts after the SANs. */
function extensionsAfterSans(params: ExtensionParams): Extension[] {
  const extensions: Extension[] = [];
  if (params.crlUrl) {
    const fullName = [new GeneralName({ uniformResourceIdentifier: params.crlUrl })];
    extensions.push(extension(id_ce_cRLDistributionPoints, false, new CRLDistributionPoints([new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName }) })])));
  }
  if (params.ocspUrl) {
    const ocsp = new AccessDescription({ accessMethod: id_ad_ocsp, accessLocation: new GeneralName({ uniformResourceIdentifier: params.ocspUrl }) });
    extensions.push(extension(id_pe_authorityInfoAccess, false, new AuthorityInfoAccessSyntax([ocsp])));
  }
  return extensions;
}

/**
 * The DER of each extension of a certificate's profile, in profileExtensions' order: every
 * certificate of an apply or an ACME server shares all of them but the SANs, so the rest is
 * encoded once per set of parameters (encoding an extension through the schema costs ~40 µs).
 */
export function profileExtensionsDer(params: ExtensionParams): Uint8Array[] {
  // Every field of ExtensionParams but the SANs.
  const key = JSON.stringify([params.ca ?? null, params.keyUsage, params.extendedKeyUsage ?? [], params.crlUrl ?? '', params.ocspUrl ?? '']);
  let shared = sharedProfileExtensions.get(key);
  if (!shared) {
    shared = { before: extensionsBeforeSans(params).map(extensionDer), after: extensionsAfterSans(params).map(extensionDer) };
    if (sharedProfileExtensions.size >= SHARED_PROFILES_KEPT) sharedProfileExtensions.clear();
    sharedProfileExtensions.set(key, shared);
  }
  return [...shared.before, ...(params.sans?.length ? [sanExtensionDer(params.sans)] : []), ...shared.after];
}

/** The DER of sanExtension(sans); the last one is kept, since a certificate and its CSR carry the same. */
export function sanExtensionDer(sans: SubjectAltName[]): Uint8Array {
  const key = JSON.stringify(sans.map(({ type, value }) => [type, value]));
  if (lastSans?.key !== key) lastSans = { key, der: extensionDer(sanExtension(sans)) };
  return lastSans.der;
}

let lastSans: { key: string; der: Uint8Array } | undefined;

const SHARED_PROFILES_KEPT = 32;
const sharedProfileExtensions = new Map<string, { before: Uint8Array[]; after: Uint8Array[] }>();

/** The DER of one extension. */
export function extensionDer(extension: Extension): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(extension));
}

/** subjectKeyIdentifier (RFC 5280 4.2.1.2) with this key identifier (hex). */
export function subjectKeyIdExtension(keyId: string): Extension {
  return extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(Buffer.from(keyId, 'hex')));
}

/** authorityKeyIdentifier (RFC 5280 4.2.1.1) naming the issuer's key identifier (hex). */
export function authorityKeyIdExtension(keyId: string): Extension {
  return extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(Buffer.from(keyId, 'hex')) }));
}

/** cRLNumber (RFC 5280 5.2.3). */
export function crlNumberExtension(crlNumber: number): Extension {
  return extension(id_ce_cRLNumber, false, new CRLNumber(crlNumber));
}

/** reasonCode of a CRL entry (RFC 5280 5.3.1). */
export function crlReasonExtension(reason: RevocationReason): Extension {
  return extension(id_ce_cRLReasons, false, new CRLReason(CRLReasons[reason]));
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
 * With `excludeUnlisted`, a kind with no permitted subtree is shut altogether: DNS names and IP
 * addresses by excluding a zero-length dNSName, 0.0.0.0/0 and ::/0, as the CA/Browser Forum's
 * technically constrained CAs do; e-mail by permitting only the reserved domain ".invalid" (RFC
 * 6761), since verifiers match no address against an empty rfc822Name. Otherwise a kind the list
 * leaves out is free.
 */
export function nameConstraintsExtension(permitted: NameConstraintSet, options: { excludeUnlisted?: boolean } = {}): Extension {
  const subtrees = (names: GeneralName[]) => new GeneralSubtrees(names.map((base) => new GeneralSubtree({ base })));
  const shut = options.excludeUnlisted === true;
  const email = permitted.email.length || !shut ? permitted.email : ['.invalid'];
  const allowed = [
    ...permitted.dns.map((dNSName) => new GeneralName({ dNSName })),
    ...permitted.ip.map((range) => new GeneralName({ iPAddress: ipAsnText(range) })),
    ...email.map((rfc822Name) => new GeneralName({ rfc822Name })),
  ];
  const excluded = shut
    ? [
        ...(permitted.dns.length ? [] : [new GeneralName({ dNSName: '' })]),
        ...(permitted.ip.length ? [] : [new GeneralName({ iPAddress: ipAsnText('0.0.0.0/0') }), new GeneralName({ iPAddress: ipAsnText('::/0') })]),
      ]
    : [];
  return extension(
    id_ce_nameConstraints,
    true,
    new NameConstraints({ ...(allowed.length ? { permittedSubtrees: subtrees(allowed) } : {}), ...(excluded.length ? { excludedSubtrees: subtrees(excluded) } : {}) }),
  );
}

/** The permitted subtrees of a certificate's nameConstraints, or undefined when it has none. */
export function readNameConstraints(pem: string): NameConstraintSet | undefined {
  // Found without the X.509 library in a certificate as certified writes it (see quick-check.ts).
  const quick = certificateExtensionQuickly(pem, id_ce_nameConstraints);
  const der = quick === undefined ? new X509Certificate(pem).extensions.find((candidate) => candidate.type === id_ce_nameConstraints)?.value : quick;
  if (!der) return undefined;
  const value = AsnConvert.parse(der, NameConstraints);
  const set: NameConstraintSet = { dns: [], ip: [], email: [] };
  for (const { base } of value.permittedSubtrees ?? []) {
    if (base.dNSName !== undefined) set.dns.push(base.dNSName);
    else if (base.iPAddress !== undefined) set.ip.push(base.iPAddress);
    else if (base.rfc822Name !== undefined) set.email.push(base.rfc822Name);
  }
  return set;
}

import { X509Certificate as NodeX509Certificate, createHash, type KeyObject, type webcrypto } from 'node:crypto';
import {
  AuthorityKeyIdentifierExtension,
  AuthorityInfoAccessExtension,
  BasicConstraintsExtension,
  CRLDistributionPointsExtension,
  ExtendedKeyUsageExtension,
  type Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  type PublicKey,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from './x509.js';
import { profileExtensions, type ExtensionParams } from './extensions.js';
import { keySpecOf, signingAlgorithm, describeKey, type KeySpec, type SigningKey } from './keys.js';
import { fromX509Name, toX509Name } from './name.js';
import { toPem } from './pem.js';
import { normalizeSerial } from './serial.js';
import type { DistinguishedName, ExtendedKeyUsageName, KeyUsageName, SanType, SubjectAltName } from './types.js';
import { createPublicKey } from 'node:crypto';
import { toArrayBuffer } from './bytes.js';

export interface CreateCertificateParams extends ExtensionParams {
  subject: DistinguishedName;
  publicKey: webcrypto.CryptoKey | PublicKey;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** The issuing CA, or undefined for a self-signed certificate signed by signingKey. */
  issuerPem?: string;
  signingKey: SigningKey;
  extraExtensions?: Extension[];
}

export interface CertificateInfo {
  pem: string;
  der: Uint8Array;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, upper-case hex pairs joined by colons (as OpenSSL prints it). */
  fingerprint: string;
  key: KeySpec;
  isCa: boolean;
  pathLength?: number;
  keyUsage: KeyUsageName[];
  extendedKeyUsage: ExtendedKeyUsageName[];
  sans: SubjectAltName[];
  crlUrls: string[];
  ocspUrls: string[];
  subjectKeyId?: string;
  authorityKeyId?: string;
  selfSigned: boolean;
}

/** The issuer's parsed certificate, kept between calls: a process that issues many parses it once. */
let lastIssuer: { pem: string; certificate: X509Certificate; keyId: string | undefined } | undefined;

function parseIssuer(pem: string): { certificate: X509Certificate; keyId: string | undefined } {
  if (lastIssuer?.pem !== pem) {
    const certificate = new X509Certificate(pem);
    lastIssuer = { pem, certificate, keyId: certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId };
  }
  return lastIssuer;
}

export async function createCertificate(params: CreateCertificateParams): Promise<CertificateInfo> {
  const parsedIssuer = params.issuerPem === undefined ? undefined : parseIssuer(params.issuerPem);
  const issuer = parsedIssuer?.certificate;
  const ski = await SubjectKeyIdentifierExtension.create(params.publicKey);
  const issuerKeyId = parsedIssuer ? parsedIssuer.keyId : ski.keyId;
  const extensions = [...profileExtensions(params), ski, ...(params.extraExtensions ?? [])];
  if (issuerKeyId) extensions.push(new AuthorityKeyIdentifierExtension(issuerKeyId));
  const subject = toX509Name(params.subject);
  const certificate = await X509CertificateGenerator.create({
    serialNumber: params.serial,
    subject,
    issuer: issuer ? issuer.subjectName : subject,
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    publicKey: params.publicKey,
    signingKey: params.signingKey.privateKey,
    signingAlgorithm: signingAlgorithm(params.signingKey.spec),
    extensions,
  });
  return describeCertificate(certificate);
}

export function parseCertificate(pem: string | Uint8Array): CertificateInfo {
  const input = typeof pem === 'string' ? pem : toArrayBuffer(pem);
  return describeCertificate(new X509Certificate(input));
}

/** True when `pem` carries a valid signature by the key of `issuerPem`. */
export async function verifyCertificateSignature(pem: string, issuerPem: string): Promise<boolean> {
  // Node's native verifier: `check` calls this once per certificate, thousands of times.
  try {
    return new NodeX509Certificate(pem).verify(issuerPublicKey(issuerPem));
  } catch {
    return false; // unparseable, or a key of another algorithm than the signature's
  }
}

const issuerKeys = new Map<string, KeyObject>();

function issuerPublicKey(issuerPem: string): KeyObject {
  let key = issuerKeys.get(issuerPem);
  if (!key) {
    key = new NodeX509Certificate(issuerPem).publicKey;
    issuerKeys.set(issuerPem, key);
  }
  return key;
}

const SAN_TYPES: Record<string, SanType> = { dns: 'dns', ip: 'ip', email: 'email', url: 'uri' };

/** The plain view of an already parsed certificate (parsing is the slow part: do it once). */
export function describeCertificate(certificate: X509Certificate): CertificateInfo {
  const der = new Uint8Array(certificate.rawData);
  const basic = certificate.getExtension(BasicConstraintsExtension);
  const keyUsageFlags = certificate.getExtension(KeyUsagesExtension)?.usages ?? 0;
  const eku = certificate.getExtension(ExtendedKeyUsageExtension)?.usages ?? [];
  const san = certificate.getExtension(SubjectAlternativeNameExtension);
  const crl = certificate.getExtension(CRLDistributionPointsExtension);
  const aia = certificate.getExtension(AuthorityInfoAccessExtension);
  const subjectKeyId = certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  const authorityKeyId = certificate.getExtension(AuthorityKeyIdentifierExtension)?.keyId;
  const keyObject = createPublicKey({ key: Buffer.from(certificate.publicKey.rawData), format: 'der', type: 'spki' });
  return {
    pem: toPem(der, 'CERTIFICATE'),
    der,
    subject: fromX509Name(certificate.subjectName),
    issuer: fromX509Name(certificate.issuerName),
    serial: normalizeSerial(certificate.serialNumber),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprint: fingerprintOf(der),
    key: keySpecOf(keyObject),
    isCa: basic?.ca ?? false,
    ...(basic?.pathLength !== undefined ? { pathLength: basic.pathLength } : {}),
    keyUsage: (['digitalSignature', 'keyEncipherment', 'keyCertSign', 'cRLSign'] as const).filter(
      (usage) => (keyUsageFlags & KeyUsageFlags[usage]) !== 0,
    ),
    extendedKeyUsage: eku.flatMap((oid) =>
      oid === '1.3.6.1.5.5.7.3.1' ? ['serverAuth' as const] : oid === '1.3.6.1.5.5.7.3.2' ? ['clientAuth' as const] : [],
    ),
    sans: (san?.names.items ?? []).flatMap((name) => {
      const type = SAN_TYPES[name.type];
      return type ? [{ type, value: name.value }] : [];
    }),
    crlUrls: (crl?.distributionPoints ?? []).flatMap((point) =>
      (point.distributionPoint?.fullName ?? []).flatMap((name) =>
        name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : [],
      ),
    ),
    ocspUrls: (aia?.ocsp ?? []).map((name) => name.value),
    ...(subjectKeyId ? { subjectKeyId } : {}),
    ...(authorityKeyId ? { authorityKeyId } : {}),
    selfSigned: certificate.subjectName.toString() === certificate.issuerName.toString(),
  };
}

export function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

export function describeKeyOf(info: CertificateInfo): string {
  return describeKey(info.key);
}

/** The public key a certificate certifies, for issuing a new certificate over the same key. */
export function certificatePublicKey(pem: string): CreateCertificateParams['publicKey'] {
  return new X509Certificate(pem).publicKey;
}

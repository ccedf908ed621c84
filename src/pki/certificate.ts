import { X509Certificate as NodeX509Certificate, createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { Extensions, TBSCertificate, Validity, Version, type AlgorithmIdentifier, type Extension, type Name as AsnName, type SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import {
  AuthorityKeyIdentifierExtension,
  AuthorityInfoAccessExtension,
  BasicConstraintsExtension,
  CRLDistributionPointsExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
} from './x509.js';
import { authorityKeyIdExtension, extensionDer, profileExtensionsDer, subjectKeyIdExtension, type ExtensionParams } from './extensions.js';
import { encodedItem } from './encoded-block.js';
import { keySpecOf, keySpecOfSpki, describeKey, type KeySpec, type SigningKey } from './keys.js';
import { definedAttributes, fromX509Name, nameDer } from './name.js';
import { toPem } from './pem.js';
import { normalizeSerial, serialOctets } from './serial.js';
import { readIssuer, type IssuerName } from './issuer.js';
import { inspectCertificateTextQuickly } from './quick-check.js';
import { keyIdentifier, signStructureOffThread, signatureAlgorithmDer, subjectPublicKeyInfo, subjectPublicKeyInfoDer, type SpkiKey } from './signature.js';
import type { DistinguishedName, ExtendedKeyUsageName, KeyUsageName, SanType, SubjectAltName } from './types.js';
import { toArrayBuffer } from './bytes.js';

export interface CreateCertificateParams extends ExtensionParams {
  subject: DistinguishedName;
  publicKey: KeyObject | SpkiKey;
  /** Hex; encoded as a positive INTEGER without leading zero bytes. */
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

/**
 * Builds and signs a certificate with the ASN.1 schema of @peculiar/asn1-x509 and Node's native
 * signing. The X.509 library's generator costs ~3x more: it re-parses every extension, name and
 * key it is given and then the whole certificate it made, and signs through WebCrypto's promises.
 */
export async function createCertificate(params: CreateCertificateParams): Promise<CertificateInfo> {
  const issuer = params.issuerPem === undefined ? undefined : readIssuer(params.issuerPem);
  const subjectKeyId = keyIdentifier(subjectPublicKeyInfo(params.publicKey));
  const authorityKeyId = issuer ? issuer.keyId : subjectKeyId;
  const { tbsCertificate, serialNumber, subjectDer } = toBeSigned(params, issuer, subjectKeyId, authorityKeyId);
  const der = await signStructureOffThread(tbsCertificate, params.signingKey);
  const selfSigned = !issuer || issuer.nameDer.equals(subjectDer);
  const serial = normalizeSerial(Buffer.from(serialNumber).toString('hex'));
  return describeCreated(der, params, { serial, issuerDn: issuer?.dn, subjectKeyId, authorityKeyId, selfSigned });
}

/**
 * The to-be-signed part of a certificate (RFC 5280 4.1). The names, the key and the extensions go
 * in already encoded (encodedItem), each by the schema: converting them through the whole
 * TBSCertificate cost ~2.5 ms a certificate in apply's threads, and the certificates of an apply
 * share their issuer's name and all their extensions but the SANs and key identifier.
 */
export function toBeSigned(
  params: CreateCertificateParams,
  issuer: IssuerName | undefined,
  subjectKeyId: string,
  authorityKeyId: string | undefined,
): { tbsCertificate: TBSCertificate; serialNumber: ArrayBuffer; subjectDer: Buffer } {
  const extensions = [...profileExtensionsDer(params), extensionDer(subjectKeyIdExtension(subjectKeyId)), ...(params.extraExtensions ?? []).map(extensionDer)];
  if (authorityKeyId) extensions.push(authorityKeyIdDer(authorityKeyId));
  const subjectDer = Buffer.from(nameDer(params.subject));
  const serialNumber = serialOctets(params.serial);
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber,
    signature: encodedItem<AlgorithmIdentifier>(signatureAlgorithmDer(params.signingKey.spec)),
    issuer: encodedItem<AsnName>(issuer ? issuer.nameDer : subjectDer),
    validity: new Validity({ notBefore: params.notBefore, notAfter: params.notAfter }),
    subject: encodedItem<AsnName>(subjectDer),
    subjectPublicKeyInfo: encodedItem<SubjectPublicKeyInfo>(subjectPublicKeyInfoDer(params.publicKey)),
    extensions: new Extensions(extensions.map((der) => encodedItem<Extension>(der))),
  });
  return { tbsCertificate, serialNumber, subjectDer };
}

/** The authorityKeyIdentifier of the last issuer, kept: an apply's certificates share it. */
function authorityKeyIdDer(keyId: string): Uint8Array {
  if (lastAuthorityKeyId?.keyId !== keyId) lastAuthorityKeyId = { keyId, der: extensionDer(authorityKeyIdExtension(keyId)) };
  return lastAuthorityKeyId.der;
}

let lastAuthorityKeyId: { keyId: string; der: Uint8Array } | undefined;

/** Whole seconds, as UTCTime and GeneralizedTime encode a date. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * The plain view of a certificate just built, taken from the parameters it was built with:
 * parsing it back costs more than building it, and apply issues thousands. Where the encoding may
 * not give back the same text (IPv6 addresses, extra extensions), it parses.
 */
function describeCreated(
  der: Uint8Array,
  params: CreateCertificateParams,
  built: { serial: string; issuerDn: DistinguishedName | undefined; subjectKeyId: string; authorityKeyId: string | undefined; selfSigned: boolean },
): CertificateInfo {
  const sans = params.sans ?? [];
  if (params.extraExtensions?.length || sans.some((san) => san.type === 'ip' && !isIPv4(san.value))) return parseCertificate(der);
  const keyUsage = new Set(params.keyUsage);
  const subject = definedAttributes(params.subject);
  return {
    pem: toPem(der, 'CERTIFICATE'),
    der,
    subject,
    issuer: built.issuerDn ?? subject,
    serial: built.serial,
    notBefore: wholeSeconds(params.notBefore),
    notAfter: wholeSeconds(params.notAfter),
    fingerprint: fingerprintOf(der),
    key: publicKeySpec(params.publicKey),
    isCa: params.ca !== undefined,
    ...(params.ca?.pathLength !== undefined ? { pathLength: params.ca.pathLength } : {}),
    keyUsage: KEY_USAGES.filter((usage) => keyUsage.has(usage)),
    extendedKeyUsage: [...(params.extendedKeyUsage ?? [])],
    sans: sans.map(({ type, value }) => ({ type, value })),
    crlUrls: params.crlUrl ? [params.crlUrl] : [],
    ocspUrls: params.ocspUrl ? [params.ocspUrl] : [],
    subjectKeyId: built.subjectKeyId,
    ...(built.authorityKeyId ? { authorityKeyId: built.authorityKeyId } : {}),
    selfSigned: built.selfSigned,
  };
}

function publicKeySpec(key: CreateCertificateParams['publicKey']): KeySpec {
  // A PublicKey of @peculiar/x509 (a key read from a CSR or a certificate) carries its DER.
  if ('rawData' in key) return key.spec ?? keySpecOf(createPublicKey({ key: Buffer.from(key.rawData), format: 'der', type: 'spki' }));
  return keySpecOf(key);
}

export function parseCertificate(pem: string | Uint8Array): CertificateInfo {
  if (typeof pem !== 'string') return describeCertificate(new X509Certificate(toArrayBuffer(pem)));
  // The CA's own certificates are parsed again and again (each issue loads its issuer, a server
  // each batch): the last few parsed are kept, as the frozen descriptions callers only read.
  let info = parsedCertificates.get(pem);
  if (info) {
    parsedCertificates.delete(pem);
  } else {
    info = deepFreeze(certificateInfoQuickly(pem) ?? describeCertificate(new X509Certificate(pem)));
    if (parsedCertificates.size >= PARSED_CERTIFICATES_KEPT) parsedCertificates.delete(parsedCertificates.keys().next().value!);
  }
  parsedCertificates.set(pem, info);
  return info;
}

/**
 * parseCertificate's answer for a certificate file as certified writes it, without the X.509
 * library (see quick-check.ts; a unit test compares the two): each command reads its issuer's
 * certificate, and the library's decoding of it cost ~15 ms of a ~300 ms issue.
 */
function certificateInfoQuickly(pem: string): CertificateInfo | undefined {
  const view = inspectCertificateTextQuickly(pem);
  if (!view) return undefined;
  const { kind, signatureAlgorithm, keyUsageNames, keyUsageCritical, extendedKeyUsageNames, basicConstraintsCritical, ...info } = view;
  return info;
}

const PARSED_CERTIFICATES_KEPT = 16;
const parsedCertificates = new Map<string, CertificateInfo>();

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
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

/** The key usages a certificate's description lists, in this order. */
const KEY_USAGES = ['digitalSignature', 'keyEncipherment', 'keyCertSign', 'cRLSign'] as const;

const EXTENDED_KEY_USAGE_NAMES: Record<string, ExtendedKeyUsageName> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
};

const SAN_TYPES: Record<string, SanType> = { dns: 'dns', ip: 'ip', email: 'email', url: 'uri' };

/** The plain view of an already parsed certificate (parsing is the slow part: do it once). */
export function describeCertificate(certificate: X509Certificate): CertificateInfo {
  const basic = certificate.getExtension(BasicConstraintsExtension);
  const keyUsageFlags = certificate.getExtension(KeyUsagesExtension)?.usages ?? 0;
  // Plain arrays: some of the library's lists are Array subclasses, and map/flatMap would keep them.
  const eku = [...(certificate.getExtension(ExtendedKeyUsageExtension)?.usages ?? [])];
  const san = certificate.getExtension(SubjectAlternativeNameExtension);
  const crl = certificate.getExtension(CRLDistributionPointsExtension);
  const aia = certificate.getExtension(AuthorityInfoAccessExtension);
  const subjectKeyId = certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  const authorityKeyId = certificate.getExtension(AuthorityKeyIdentifierExtension)?.keyId;
  const spki = new Uint8Array(certificate.publicKey.rawData);
  return {
    ...describeEnvelope(certificate),
    key: keySpecOfSpki(spki) ?? keySpecOf(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })),
    isCa: basic?.ca ?? false,
    ...(basic?.pathLength !== undefined ? { pathLength: basic.pathLength } : {}),
    keyUsage: KEY_USAGES.filter(
      (usage) => (keyUsageFlags & KeyUsageFlags[usage]) !== 0,
    ),
    extendedKeyUsage: eku.flatMap((oid) => {
      const name = EXTENDED_KEY_USAGE_NAMES[String(oid)];
      return name ? [name] : [];
    }),
    sans: [...(san?.names.items ?? [])].flatMap((name) => {
      const type = SAN_TYPES[name.type];
      return type ? [{ type, value: name.value }] : [];
    }),
    crlUrls: [...(crl?.distributionPoints ?? [])].flatMap((point) =>
      (point.distributionPoint?.fullName ?? []).flatMap((name) =>
        name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : [],
      ),
    ),
    ocspUrls: [...(aia?.ocsp ?? [])].map((name) => name.value),
    ...(subjectKeyId ? { subjectKeyId } : {}),
    ...(authorityKeyId ? { authorityKeyId } : {}),
    selfSigned: certificate.subjectName.toString() === certificate.issuerName.toString(),
  };
}

/** What every description has, read from the certificate's outer structure (no extension is parsed). */
function describeEnvelope(certificate: X509Certificate): Pick<CertificateInfo, 'pem' | 'der' | 'subject' | 'issuer' | 'serial' | 'notBefore' | 'notAfter' | 'fingerprint'> {
  const der = new Uint8Array(certificate.rawData);
  return {
    pem: toPem(der, 'CERTIFICATE'),
    der,
    subject: fromX509Name(certificate.subjectName),
    issuer: fromX509Name(certificate.issuerName),
    serial: normalizeSerial(certificate.serialNumber),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprint: fingerprintOf(der),
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

/** Whether a DER certificate is a CA's (basicConstraints CA:TRUE), read natively without describing it. */
export function isCaCertificate(der: Uint8Array): boolean {
  return new NodeX509Certificate(der).ca;
}

import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { CertificateInfo } from './certificate.js';
import type { CertificateView, CrlView, CsrView, PkiView } from './inspect.js';
import type { CrlEntry } from './crl.js';
import { NotQuick, TAG, asciiOf, childrenOf, contentOf, encodingOf, expect, hexOf, readBoolean, readOid, readOne, readSmallInteger, readString, readTime, type Tlv } from './der-reader.js';
import { keySpecOf, type KeySpec } from './key-spec.js';
import { readPemBlocks } from './pem-blocks.js';
import type { DistinguishedName, DnAttribute, ExtendedKeyUsageName, KeyUsageName, RevocationReason, SanType, SubjectAltName } from './types.js';
import { PEM_KINDS } from './pem-labels.js';

/**
 * The views of inspectContent (inspect.ts), read without @peculiar/x509 for the PEM files a CA
 * holds: git runs `certified show` once per file of a diff, and loading the library costs far more
 * than the decoding. Undefined when anything is outside the shapes read here (DER input, an
 * extension or algorithm not listed, a block that would be reported unreadable): the caller then
 * uses inspectContent, so the output is the same either way (test/unit/quick-inspect.test.ts).
 */
export function inspectContentQuickly(content: Uint8Array): PkiView[] | undefined {
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (!bytes.includes('-----BEGIN ')) return undefined;
  try {
    return readPemBlocks(bytes.toString('latin1')).map((block): PkiView => {
      const kind = PEM_KINDS[block.label];
      if (!kind) return { kind: 'other', label: block.label };
      if (kind === 'certificate') return quickCertificate(block.der);
      if (kind === 'csr') return quickCsr(block.der);
      return quickCrl(block.der);
    });
  } catch (error) {
    if (error instanceof NotQuick) return undefined;
    throw error;
  }
}


/** Every key usage bit, by its RFC 5280 name, in bit order. */
export const KEY_USAGE_NAMES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;

export const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** The key usages and extended key usages CertificateInfo keeps (certificate.ts). */
const INFO_KEY_USAGES: readonly KeyUsageName[] = ['digitalSignature', 'keyEncipherment', 'keyCertSign', 'cRLSign'];
const INFO_EKU: Record<string, ExtendedKeyUsageName> = { '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '1.3.6.1.5.5.7.3.4': 'emailProtection' };

/** Signature algorithms as @peculiar/x509 names them ("<name> with <hash>"), with the parameters they must carry. */
const SIGNATURES: Record<string, { name: string; hash: 'sha256' | 'sha384' | 'sha512'; keyType: 'ec' | 'rsa' }> = {
  '1.2.840.10045.4.3.2': { name: 'ECDSA with SHA-256', hash: 'sha256', keyType: 'ec' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA with SHA-384', hash: 'sha384', keyType: 'ec' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA with SHA-512', hash: 'sha512', keyType: 'ec' },
  '1.2.840.113549.1.1.11': { name: 'RSASSA-PKCS1-v1_5 with SHA-256', hash: 'sha256', keyType: 'rsa' },
  '1.2.840.113549.1.1.12': { name: 'RSASSA-PKCS1-v1_5 with SHA-384', hash: 'sha384', keyType: 'rsa' },
  '1.2.840.113549.1.1.13': { name: 'RSASSA-PKCS1-v1_5 with SHA-512', hash: 'sha512', keyType: 'rsa' },
};

const DN_OIDS: Record<string, DnAttribute> = { '2.5.4.6': 'C', '2.5.4.8': 'ST', '2.5.4.7': 'L', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.3': 'CN' };
const NAME_STRINGS = [TAG.utf8String, TAG.printableString, TAG.ia5String];
const REASONS: Record<number, RevocationReason> = { 1: 'keyCompromise', 2: 'cACompromise', 3: 'affiliationChanged', 4: 'superseded', 5: 'cessationOfOperation' };

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocsp: '1.3.6.1.5.5.7.48.1',
  caIssuers: '1.3.6.1.5.5.7.48.2',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

function fingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

export function pemOf(der: Uint8Array, label: string): string {
  const lines = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** An AlgorithmIdentifier we name, with no parameters (ECDSA) or NULL ones (RSA). */
function readSignatureAlgorithm(tlv: Tlv): (typeof SIGNATURES)[string] {
  const [oid, parameters, ...rest] = childrenOf(expect(tlv, TAG.sequence));
  const algorithm = SIGNATURES[readOid(oid!)];
  if (!algorithm || rest.length) throw new NotQuick('signature algorithm');
  if (parameters && !(algorithm.keyType === 'rsa' && parameters.tag === 0x05 && parameters.end === parameters.contentStart)) throw new NotQuick('algorithm parameters');
  return algorithm;
}

/** An AlgorithmIdentifier the library would parse (the copy inside what is signed, which nothing prints). */
function checkAlgorithmIdentifier(tlv: Tlv | undefined): void {
  const [oid, parameters, ...rest] = childrenOf(expect(tlv, TAG.sequence));
  readOid(oid ?? expect(undefined, TAG.oid));
  if (rest.length || (parameters && !(parameters.tag === 0x05 && parameters.end === parameters.contentStart))) throw new NotQuick('algorithm identifier');
}

interface QuickName {
  dn: DistinguishedName;
  /** Each attribute as type and text, RDN by RDN: two names render alike when these are equal. */
  rendering: string[][];
  der: Uint8Array;
}

/** A Name as fromX509Name reads it: the first value of each attribute we know. */
function readName(tlv: Tlv): QuickName {
  const dn: DistinguishedName = {};
  const rendering = childrenOf(expect(tlv, TAG.sequence)).map((rdn) => {
    const attributes = childrenOf(expect(rdn, TAG.set));
    if (attributes.length === 0) throw new NotQuick('empty RDN');
    return attributes.map((attribute) => {
      const [type, value, ...rest] = childrenOf(expect(attribute, TAG.sequence));
      if (!value || rest.length) throw new NotQuick('attribute');
      const oid = readOid(type!);
      const text = readString(value, NAME_STRINGS);
      const known = DN_OIDS[oid];
      if (known && dn[known] === undefined) dn[known] = text;
      return `${oid}=${text}`;
    });
  });
  return { dn, rendering, der: encodingOf(tlv) };
}

/** Whether @peculiar/x509 would print both names alike (what describeCertificate compares). */
function sameName(a: QuickName, b: QuickName): boolean {
  if (Buffer.from(a.der).equals(b.der)) return true;
  // Another encoding of the same text, or text its escaping could make ambiguous: leave it to the library.
  const values = [...a.rendering, ...b.rendering].flat().map((attribute) => attribute.slice(attribute.indexOf('=') + 1));
  if (JSON.stringify(a.rendering) === JSON.stringify(b.rendering) || values.some((value) => /[,+"\\<>;=#]|^ | $/.test(value))) throw new NotQuick('names alike');
  return false;
}

function readKey(spki: Tlv): { keyObject: KeyObject; key: KeySpec } {
  readKeyShape(spki);
  try {
    const keyObject = createPublicKey({ key: Buffer.from(encodingOf(expect(spki, TAG.sequence))), format: 'der', type: 'spki' });
    return { keyObject, key: keySpecOf(keyObject) };
  } catch {
    throw new NotQuick('key');
  }
}

/**
 * A certificate's key as the library's reader (describeCertificate) names it: a P-256 or P-384 key
 * from the DER alone, as keySpecOfSpki (keys.ts) does (the library reads no more of an EC key);
 * any other through Node, which imports the key (~0.5 ms an EC key: check reads thousands). RSA
 * keys are imported: the library parses the modulus and exponent, and refuses what Node refuses.
 */
function readCertificateKey(spki: Tlv): KeySpec {
  const { oid, parameters } = readKeyShape(spki);
  const curve = oid === EC_KEY && parameters?.tag === TAG.oid ? CURVES[readOid(parameters)] : undefined;
  return curve ? { type: 'ecdsa', curve } : readKey(spki).key;
}

const EC_KEY = '1.2.840.10045.2.1';
const CURVES: Record<string, 'P-256' | 'P-384'> = { '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.34': 'P-384' };

/** The shape the library parses (Node's reader lets odd parameters through): an algorithm with no parameters, NULL ones (RSA) or a curve's OID (EC), then the key's bits. */
function readKeyShape(spki: Tlv): { oid: string; parameters: Tlv | undefined; bits: Tlv } {
  const [algorithm, bits, ...rest] = childrenOf(expect(spki, TAG.sequence));
  const [oid, parameters, ...more] = childrenOf(expect(algorithm, TAG.sequence));
  const name = readOid(oid ?? expect(undefined, TAG.oid));
  if (parameters && parameters.tag === TAG.oid) readOid(parameters);
  else if (parameters && !(parameters.tag === 0x05 && parameters.end === parameters.contentStart)) throw new NotQuick('key parameters');
  if (rest.length || more.length) throw new NotQuick('key shape');
  return { oid: name, parameters, bits: expect(bits, TAG.bitString) };
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new NotQuick('IP address length');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // The longest run of zero groups (the first of equal ones), when longer than one, becomes "::".
  let best = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    let run = 0;
    while (i + run < 8 && parts[i + run] === '0') run++;
    if (run > bestLength) [best, bestLength] = [i, run];
    i += run || 1;
  }
  if (bestLength <= 1) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLength).join(':')}`;
}

const SAN_TAGS: Record<number, SanType> = { 0x81: 'email', 0x82: 'dns', 0x86: 'uri', 0x87: 'ip' };

function readGeneralName(tlv: Tlv): SubjectAltName {
  const type = SAN_TAGS[tlv.tag];
  if (!type) throw new NotQuick(`general name ${tlv.tag.toString(16)}`);
  if (type === 'ip') return { type, value: ipText(contentOf(tlv)) };
  return { type, value: asciiOf(contentOf(tlv)) };
}

function readGeneralNames(tlv: Tlv): SubjectAltName[] {
  return childrenOf(tlv).map(readGeneralName);
}

interface Extensions {
  critical: Map<string, boolean>;
  values: Map<string, Tlv>;
}

/** Extensions by OID, each value read as one TLV; duplicates and OIDs not read here (unless 'any') are not quick. */
function readExtensions(tlv: Tlv, allowed: readonly string[] | 'any'): Extensions {
  const extensions: Extensions = { critical: new Map(), values: new Map() };
  for (const extension of childrenOf(expect(tlv, TAG.sequence))) {
    const parts = childrenOf(expect(extension, TAG.sequence));
    const oid = readOid(parts[0]!);
    const critical = parts.length === 3 ? readBoolean(parts[1]!) : false;
    if (parts.length < 2 || parts.length > 3 || (allowed !== 'any' && !allowed.includes(oid)) || extensions.values.has(oid)) throw new NotQuick(`extension ${oid}`);
    extensions.critical.set(oid, critical);
    extensions.values.set(oid, readOne(contentOf(expect(parts[parts.length - 1], TAG.octetString))));
  }
  return extensions;
}

const CERTIFICATE_EXTENSIONS = [OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName, OID.subjectKeyId, OID.authorityKeyId, OID.crlDistributionPoints, OID.authorityInfoAccess];

/** Bit i of a BIT STRING is flag 1 << i (as @peculiar/asn1-schema's BitString.toNumber reads it). */
function readFlags(tlv: Tlv): number {
  const content = contentOf(expect(tlv, TAG.bitString));
  const unused = content[0] ?? 8;
  if (content.length < 1 || content.length > 3 || unused > 7 || (content.length === 1 && unused !== 0)) throw new NotQuick('bit string');
  let flags = 0;
  const bits = (content.length - 1) * 8 - unused;
  for (let i = 0; i < bits; i++) if ((content[1 + (i >> 3)]! >> (7 - (i & 7))) & 1) flags |= 1 << i;
  return flags;
}

function readKeyId(tlv: Tlv): string {
  if (tlv.contentStart === tlv.end) throw new NotQuick('empty key id');
  return hexOf(contentOf(tlv));
}

interface CertificateExtensions {
  isCa: boolean;
  pathLength?: number;
  basicConstraintsCritical: boolean;
  keyUsage: number;
  keyUsageCritical: boolean;
  eku: string[];
  sans: SubjectAltName[];
  crlUrls: string[];
  ocspUrls: string[];
  subjectKeyId?: string;
  authorityKeyId?: string;
}

function readCertificateExtensions(extensions: Extensions): CertificateExtensions {
  const get = (oid: string) => extensions.values.get(oid);
  const basic = get(OID.basicConstraints) ? childrenOf(expect(get(OID.basicConstraints), TAG.sequence)) : [];
  let isCa = false;
  let pathLength: number | undefined;
  for (const [index, part] of basic.entries()) {
    if (index === 0 && part.tag === TAG.boolean) isCa = readBoolean(part);
    else if (index === basic.length - 1 && pathLength === undefined) pathLength = readSmallInteger(part);
    else throw new NotQuick('basic constraints');
  }
  const sanTlv = get(OID.subjectAltName);
  const crlTlv = get(OID.crlDistributionPoints);
  const aiaTlv = get(OID.authorityInfoAccess);
  const skiTlv = get(OID.subjectKeyId);
  const akiTlv = get(OID.authorityKeyId);
  return {
    isCa,
    ...(pathLength !== undefined ? { pathLength } : {}),
    basicConstraintsCritical: extensions.critical.get(OID.basicConstraints) ?? false,
    keyUsage: get(OID.keyUsage) ? readFlags(get(OID.keyUsage)!) : 0,
    keyUsageCritical: extensions.critical.get(OID.keyUsage) ?? false,
    eku: get(OID.extKeyUsage) ? childrenOf(expect(get(OID.extKeyUsage), TAG.sequence)).map(readOid) : [],
    sans: sanTlv ? readGeneralNames(expect(sanTlv, TAG.sequence)) : [],
    crlUrls: crlTlv ? childrenOf(expect(crlTlv, TAG.sequence)).flatMap(readDistributionPoint) : [],
    ocspUrls: aiaTlv ? childrenOf(expect(aiaTlv, TAG.sequence)).flatMap(readOcspUrl) : [],
    ...(skiTlv ? { subjectKeyId: readKeyId(expect(skiTlv, TAG.octetString)) } : {}),
    ...(akiTlv ? readAuthorityKeyId(akiTlv) : {}),
  };
}

/** A DistributionPoint holding only a fullName of URIs. */
function readDistributionPoint(tlv: Tlv): string[] {
  const [name, ...rest] = childrenOf(expect(tlv, TAG.sequence));
  const [fullName, ...others] = childrenOf(expect(name, 0xa0));
  if (rest.length || others.length) throw new NotQuick('distribution point');
  return readGeneralNames(expect(fullName, 0xa0)).map((general) => {
    if (general.type !== 'uri') throw new NotQuick('distribution point name');
    return general.value;
  });
}

function readOcspUrl(tlv: Tlv): string[] {
  const [method, location, ...rest] = childrenOf(expect(tlv, TAG.sequence));
  const oid = readOid(method!);
  const name = readGeneralName(location ?? expect(undefined, 0x86));
  if (rest.length || (oid !== OID.ocsp && oid !== OID.caIssuers) || name.type !== 'uri') throw new NotQuick('access description');
  return oid === OID.ocsp ? [name.value] : [];
}

function readAuthorityKeyId(tlv: Tlv): { authorityKeyId?: string } {
  const parts = childrenOf(expect(tlv, TAG.sequence));
  if (parts.length > 1 || (parts[0] && parts[0].tag !== 0x80)) throw new NotQuick('authority key id');
  return parts[0] ? { authorityKeyId: readKeyId(parts[0]) } : {};
}

/** A signature algorithm read here: its name as the library gives it, its hash and the type of key that makes it. */
export type SignatureAlgorithm = (typeof SIGNATURES)[string];

/** The outer SEQUENCE of a signed object: what is signed, the algorithm (and its encoding) and the signature bits. */
export function readSigned(der: Uint8Array): { signed: Tlv; algorithm: SignatureAlgorithm; algorithmDer: Uint8Array; signature: Uint8Array } {
  const [signed, algorithm, signature, ...rest] = childrenOf(readOne(der, TAG.sequence));
  const bits = contentOf(expect(signature, TAG.bitString));
  if (rest.length || bits[0] !== 0) throw new NotQuick('signed object');
  return { signed: expect(signed, TAG.sequence), algorithm: readSignatureAlgorithm(algorithm!), algorithmDer: encodingOf(algorithm!), signature: bits.subarray(1) };
}

/** The fields of a certificate's TBSCertificate after its version (checked), and its signature algorithm. */
function certificateFields(der: Uint8Array): { fields: Tlv[]; algorithm: SignatureAlgorithm } {
  const { signed, algorithm } = readSigned(der);
  const fields = childrenOf(signed);
  if (fields[0]?.tag === 0xa0) {
    const [version, ...rest] = childrenOf(fields.shift()!);
    if (rest.length || readSmallInteger(version!) > 2) throw new NotQuick('version');
  }
  const [, , , , , spki, extensionsTlv, ...rest] = fields;
  if (rest.length || !spki || (extensionsTlv && extensionsTlv.tag !== 0xa3)) throw new NotQuick('certificate shape');
  return { fields, algorithm };
}

export function quickCertificate(der: Uint8Array): CertificateView {
  const { fields, algorithm } = certificateFields(der);
  const [serial, innerAlgorithm, issuerTlv, validity, subjectTlv, spki, extensionsTlv] = fields;
  checkAlgorithmIdentifier(innerAlgorithm);
  const serialBytes = contentOf(expect(serial, TAG.integer));
  if (serialBytes.length === 0) throw new NotQuick('serial');
  const [notBefore, notAfter, ...more] = childrenOf(expect(validity, TAG.sequence));
  if (!notAfter || more.length) throw new NotQuick('validity');
  const subject = readName(subjectTlv!);
  const issuer = readName(issuerTlv!);
  const key = readCertificateKey(spki!);
  const extensionList = extensionsTlv ? childrenOf(extensionsTlv) : [];
  if (extensionList.length > 1) throw new NotQuick('extensions');
  const extensions = readCertificateExtensions(extensionList[0] ? readExtensions(extensionList[0], CERTIFICATE_EXTENSIONS) : { critical: new Map(), values: new Map() });
  const info: CertificateInfo = {
    pem: pemOf(der, 'CERTIFICATE'),
    der,
    subject: subject.dn,
    issuer: issuer.dn,
    serial: hexOf(serialBytes).replace(/^(00)+(?=[0-9a-f])/, ''),
    notBefore: readTime(notBefore!),
    notAfter: readTime(notAfter),
    fingerprint: fingerprint(der),
    key,
    isCa: extensions.isCa,
    ...(extensions.pathLength !== undefined ? { pathLength: extensions.pathLength } : {}),
    keyUsage: INFO_KEY_USAGES.filter((usage) => (extensions.keyUsage & (1 << KEY_USAGE_NAMES.indexOf(usage))) !== 0),
    extendedKeyUsage: extensions.eku.flatMap((oid) => (INFO_EKU[oid] ? [INFO_EKU[oid]] : [])),
    sans: extensions.sans,
    crlUrls: extensions.crlUrls,
    ocspUrls: extensions.ocspUrls,
    ...(extensions.subjectKeyId ? { subjectKeyId: extensions.subjectKeyId } : {}),
    ...(extensions.authorityKeyId ? { authorityKeyId: extensions.authorityKeyId } : {}),
    selfSigned: sameName(subject, issuer),
  };
  return {
    ...info,
    kind: 'certificate',
    signatureAlgorithm: algorithm.name,
    keyUsageNames: KEY_USAGE_NAMES.filter((_, bit) => (extensions.keyUsage & (1 << bit)) !== 0),
    keyUsageCritical: extensions.keyUsageCritical,
    extendedKeyUsageNames: extensions.eku.map((oid) => EKU_NAMES[oid] ?? oid),
    basicConstraintsCritical: extensions.basicConstraintsCritical,
  };
}

/**
 * The value (the TLV inside extnValue) of one extension of a certificate, null when it has none:
 * the certificate is read as quickCertificate reads it up to its extensions, which may be any.
 */
export function certificateExtensionValue(der: Uint8Array, oid: string): Tlv | null {
  const extensionsTlv = certificateFields(der).fields[6];
  const extensionList = extensionsTlv ? childrenOf(extensionsTlv) : [];
  if (extensionList.length > 1) throw new NotQuick('extensions');
  return extensionList[0] ? (readExtensions(extensionList[0], 'any').values.get(oid) ?? null) : null;
}

/** The subject name's DER, exactly as encoded, of a certificate quickCertificate reads. */
export function certificateSubjectDer(der: Uint8Array): Uint8Array {
  return encodingOf(expect(certificateFields(der).fields[4], TAG.sequence)); // serialNumber, signature, issuer, validity, subject
}

function quickCsr(der: Uint8Array): CsrView {
  const { signed, algorithm, signature } = readSigned(der);
  const [version, subjectTlv, spki, attributes, ...rest] = childrenOf(signed);
  if (rest.length || !attributes || readSmallInteger(version!) !== 0) throw new NotQuick('request shape');
  const { keyObject, key } = readKey(spki!);
  let sans: SubjectAltName[] | undefined;
  for (const attribute of childrenOf(expect(attributes, 0xa0))) {
    const [type, values, ...more] = childrenOf(expect(attribute, TAG.sequence));
    if (more.length || readOid(type!) !== OID.extensionRequest) throw new NotQuick('request attribute');
    for (const value of childrenOf(expect(values, TAG.set))) {
      const extensions = readExtensions(value, CERTIFICATE_EXTENSIONS);
      readCertificateExtensions(extensions); // each one well formed, as the library requires
      const san = extensions.values.get(OID.subjectAltName);
      if (san && sans === undefined) sans = readGeneralNames(expect(san, TAG.sequence));
    }
  }
  let signatureValid = false;
  if (keyObject.asymmetricKeyType === algorithm.keyType) {
    try {
      signatureValid = verify(algorithm.hash, encodingOf(signed), keyObject, signature);
    } catch {
      signatureValid = false;
    }
  }
  return { pem: pemOf(der, 'CERTIFICATE REQUEST'), subject: readName(subjectTlv!).dn, sans: sans ?? [], key, signatureValid, kind: 'csr', signatureAlgorithm: algorithm.name };
}

export function quickCrl(der: Uint8Array): CrlView {
  const { signed, algorithm } = readSigned(der);
  const parts = childrenOf(signed);
  if (parts[0]?.tag === TAG.integer && readSmallInteger(parts.shift()!) > 1) throw new NotQuick('version');
  const [innerAlgorithm, issuerTlv, thisUpdate, ...rest] = parts;
  checkAlgorithmIdentifier(innerAlgorithm);
  const nextUpdate = rest[0] && (rest[0].tag === TAG.utcTime || rest[0].tag === TAG.generalizedTime) ? readTime(rest.shift()!) : undefined;
  const revoked = rest[0]?.tag === TAG.sequence ? childrenOf(rest.shift()!) : [];
  const extensionsTlv = rest.shift();
  if (rest.length || (extensionsTlv && extensionsTlv.tag !== 0xa0)) throw new NotQuick('CRL shape');
  const extensionList = extensionsTlv ? childrenOf(extensionsTlv) : [];
  if (extensionList.length > 1) throw new NotQuick('extensions');
  const extensions = extensionList[0] ? readExtensions(extensionList[0], [OID.authorityKeyId, OID.crlNumber]) : undefined;
  const aki = extensions?.values.get(OID.authorityKeyId);
  if (aki) readAuthorityKeyId(aki);
  const numberTlv = extensions?.values.get(OID.crlNumber);
  const crlNumber = numberTlv ? readSmallInteger(numberTlv) : undefined;
  if (crlNumber !== undefined && !Number.isSafeInteger(crlNumber)) throw new NotQuick('CRL number');
  const entries = revoked.map((entry): CrlEntry => {
    const [serial, date, entryExtensions, ...more] = childrenOf(expect(entry, TAG.sequence));
    const serialBytes = contentOf(expect(serial, TAG.integer));
    if (more.length || serialBytes.length === 0) throw new NotQuick('CRL entry');
    const reasonTlv = entryExtensions ? readExtensions(entryExtensions, [OID.crlReason]).values.get(OID.crlReason) : undefined;
    const reason = reasonTlv ? REASONS[readSmallInteger(reasonTlv, TAG.enumerated)] : undefined;
    return { serial: hexOf(serialBytes).replace(/^(00)+(?=[0-9a-f])/, ''), revokedAt: readTime(date!), reason: reason ?? 'unspecified' };
  });
  return {
    issuer: readName(issuerTlv!).dn,
    thisUpdate: readTime(thisUpdate!),
    ...(nextUpdate ? { nextUpdate } : {}),
    ...(crlNumber !== undefined ? { crlNumber } : {}),
    entries,
    kind: 'crl',
    pem: pemOf(der, 'X509 CRL'),
    signatureAlgorithm: algorithm.name,
    fingerprint: fingerprint(der),
  };
}

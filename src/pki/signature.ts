import { KeyObject, createHash } from 'node:crypto';
import { id_ecdsaWithSHA256, id_ecdsaWithSHA384 } from '@peculiar/asn1-ecc';
import { id_sha256WithRSAEncryption } from '@peculiar/asn1-rsa';
import { AsnConvert, AsnSerializer } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { toArrayBuffer } from './bytes.js';
import { signWith, signWithOffThread, type KeySpec, type SigningKey } from './keys.js';

/**
 * The AlgorithmIdentifier of the signatures a key makes: ECDSA with SHA-384 for P-384, with
 * SHA-256 for P-256 (RFC 5758, no parameters), sha256WithRSAEncryption with NULL parameters for
 * RSA (RFC 4055). Built from the OIDs: @peculiar/asn1-rsa's ready-made `sha256WithRSAEncryption`
 * carries the OID of sha512-256 (1.2.840.113549.1.1.16).
 */
export function signatureAlgorithmIdentifier(spec: KeySpec): AlgorithmIdentifier {
  if (spec.type === 'rsa') return new AlgorithmIdentifier({ algorithm: id_sha256WithRSAEncryption, parameters: null });
  return new AlgorithmIdentifier({ algorithm: spec.curve === 'P-384' ? id_ecdsaWithSHA384 : id_ecdsaWithSHA256 });
}

/** The DER of each signature AlgorithmIdentifier, encoded once. */
const algorithmDer = new Map<string, Uint8Array>();

export function signatureAlgorithmDer(spec: KeySpec): Uint8Array {
  const id = spec.type === 'rsa' ? 'rsa' : spec.curve;
  let der = algorithmDer.get(id);
  if (!der) algorithmDer.set(id, (der = new Uint8Array(AsnConvert.serialize(signatureAlgorithmIdentifier(spec)))));
  return der;
}

/** A DER tag-length-value header: the tag, then the length in the short or long form. */
function derHeader(tag: number, length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(tag, length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Uint8Array.of(tag, 0x80 | bytes.length, ...bytes);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * Encodes `toBeSigned` (a TBSCertificate, CertificationRequestInfo, ...: its `signature` field,
 * if it has one, must already name `signatureAlgorithmIdentifier(key.spec)`), signs it, and
 * returns the DER of the signed structure. That outer SEQUENCE of every signed X.509 structure
 * (RFC 5280 4.1 and 5.1, RFC 2986 4.2: the to-be-signed part, the signature algorithm, the
 * signature bits) is put together from bytes: encoding it through the schema would encode the
 * to-be-signed part a second time, which cost as much as converting it.
 */
export function signStructure(toBeSigned: object, key: SigningKey): Uint8Array {
  const encoded = new Uint8Array(AsnSerializer.serialize(toBeSigned));
  return signedStructure(encoded, signDer(encoded, key), key.spec);
}

/**
 * signStructure with the signature made on libuv's threads (signWithOffThread): what certificates
 * are signed with, so that a server answers meanwhile and apply's threads build the next one.
 */
export async function signStructureOffThread(toBeSigned: object, key: SigningKey): Promise<Uint8Array> {
  const encoded = new Uint8Array(AsnSerializer.serialize(toBeSigned));
  return signedStructure(encoded, await signWithOffThread(key, signatureHash(key.spec), encoded), key.spec);
}

function signedStructure(encoded: Uint8Array, signature: Uint8Array, spec: KeySpec): Uint8Array {
  const bits = concat([derHeader(0x03, signature.length + 1), Uint8Array.of(0), signature]);
  const algorithm = signatureAlgorithmDer(spec);
  return concat([derHeader(0x30, encoded.length + algorithm.length + bits.length), encoded, algorithm, bits]);
}

/**
 * Signs DER-encoded to-be-signed bytes as X.509 and PKCS#10 want them: ECDSA signatures as a DER
 * Ecdsa-Sig-Value, RSA as PKCS#1 v1.5. Native (Node's crypto), without WebCrypto's promise round
 * trip; synchronous, for CRLs and CSRs.
 */
function signDer(data: Uint8Array, key: SigningKey): Uint8Array {
  return signWith(key, signatureHash(key.spec), data);
}

const signatureHash = (spec: KeySpec): 'sha256' | 'sha384' => (spec.type === 'ecdsa' && spec.curve === 'P-384' ? 'sha384' : 'sha256');

/**
 * A public key read from DER (a CSR's, a certificate's), with what reading it already learnt:
 * its parsed SubjectPublicKeyInfo and its type, so that building a certificate for it parses nothing again.
 */
export interface SpkiKey {
  rawData: ArrayBuffer;
  spki?: SubjectPublicKeyInfo;
  spec?: KeySpec;
  keyObject?: KeyObject;
}

/** The SubjectPublicKeyInfo of a public key: a key in memory, or one read from a CSR or certificate (its DER). */
export function subjectPublicKeyInfo(key: KeyObject | SpkiKey): SubjectPublicKeyInfo {
  if ('rawData' in key) return key.spki ?? AsnConvert.parse(key.rawData, SubjectPublicKeyInfo);
  return exportedSpki(key).spki;
}

/**
 * The DER of a public key's SubjectPublicKeyInfo. A new key's is OpenSSL's export, used as it is;
 * a key read from a CSR or a certificate is encoded again from its parsed form (its bytes, from
 * outside, may not be DER).
 */
export function subjectPublicKeyInfoDer(key: KeyObject | SpkiKey): Uint8Array {
  if ('rawData' in key) return new Uint8Array(AsnConvert.serialize(subjectPublicKeyInfo(key)));
  return exportedSpki(key).der;
}

/** A new key goes into its certificate and its CSR: it is exported once. */
function exportedSpki(key: KeyObject): { spki: SubjectPublicKeyInfo; der: Uint8Array } {
  let exported = exportedKeys.get(key);
  if (!exported) {
    const der = key.export({ type: 'spki', format: 'der' });
    exportedKeys.set(key, (exported = { spki: readSpki(der), der: new Uint8Array(der) }));
  }
  return exported;
}

const exportedKeys = new WeakMap<KeyObject, { spki: SubjectPublicKeyInfo; der: Uint8Array }>();

/**
 * The last SubjectPublicKeyInfo parsed, and how many of its bytes come before the key bits: the
 * algorithm and the BIT STRING's header. Keys of one type and size share those bytes, so a key
 * whose DER starts with the same ones is the same algorithm with other bits, and is not parsed:
 * apply makes thousands of keys of one type.
 */
let lastSpki: { der: Buffer; prefix: number; spki: SubjectPublicKeyInfo } | undefined;

function readSpki(der: Buffer): SubjectPublicKeyInfo {
  const last = lastSpki;
  if (last && last.der.length === der.length && der.compare(last.der, 0, last.prefix, 0, last.prefix) === 0) {
    return new SubjectPublicKeyInfo({ algorithm: last.spki.algorithm, subjectPublicKey: toArrayBuffer(der.subarray(last.prefix)) });
  }
  const spki = AsnConvert.parse(der, SubjectPublicKeyInfo);
  const bits = new Uint8Array(spki.subjectPublicKey);
  const prefix = der.length - bits.length;
  // The key bits end the DER; anything else (never seen) is simply not remembered.
  if (prefix > 0 && der.subarray(prefix).equals(bits)) lastSpki = { der, prefix, spki };
  return spki;
}

/** The key identifier of RFC 5280 4.2.1.2, method (1): SHA-1 of the subjectPublicKey bits, as hex. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): string {
  return createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest('hex');
}

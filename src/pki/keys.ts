import { KeyObject, X509Certificate as NodeX509Certificate, createECDH, createPrivateKey, createPublicKey, generateKeyPair as generateNodeKeyPair, sign } from 'node:crypto';
import type { TokenKey } from './pkcs11.js';
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ECPrivateKey, id_ecPublicKey } from '@peculiar/asn1-ecc';
import { EncryptedPrivateKeyInfo, PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { RSAPrivateKey, RSAPublicKey, id_rsaEncryption } from '@peculiar/asn1-rsa';
import { encryptPrivateKeyInfo } from './pbes2.js';
import { readPemBlocks, toPem } from './pem.js';
import { keySpecOf, rememberKeySpec, type EcCurve, type KeySpec } from './key-spec.js';

export { describeKey, keySpecOf, type EcCurve, type KeySpec } from './key-spec.js';

/**
 * Keys are Node's KeyObjects, which its crypto signs and exports with directly (WebCrypto's
 * CryptoKeys cost a command's first key ~8 ms more: its module, argument checks and wrappers).
 */
export interface KeyPair {
  spec: KeySpec;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface SigningKey {
  spec: KeySpec;
  /** The key in memory, read from a file; absent when a token holds it. */
  privateKey?: KeyObject;
  /** The PKCS#11 token that holds the key and signs with it, when one does. */
  token?: TokenKey;
}

/** A key read from a file: in memory. */
export interface FileKey extends SigningKey {
  privateKey: KeyObject;
}

/** The key as Node's crypto takes it, or why it cannot be had: a token never lets it out. */
export function privateKeyObject(key: SigningKey): KeyObject {
  if (!key.privateKey) throw new Error('the key is held by a PKCS#11 token and never leaves it');
  return key.privateKey;
}

/** X.509's signature of `data` with `key`: DER ECDSA-Sig-Value, or PKCS#1 v1.5; on the token when one holds it. */
export function signWith(key: SigningKey, hash: 'sha256' | 'sha384', data: Uint8Array): Buffer {
  if (key.token) return key.token.sign(hash, data);
  return sign(hash, data, { key: privateKeyObject(key), dsaEncoding: 'der' });
}

/**
 * signWith on libuv's thread pool when the key is in memory, so that the event loop goes on
 * meanwhile (a P-384 signature is ~1.5 ms here, a server signs under load). A token signs as before.
 */
export async function signWithOffThread(key: SigningKey, hash: 'sha256' | 'sha384', data: Uint8Array): Promise<Buffer> {
  if (key.token) return key.token.sign(hash, data);
  const keyObject = privateKeyObject(key);
  return new Promise((resolve, reject) => sign(hash, data, { key: keyObject, dsaEncoding: 'der' }, (error, signature) => (error ? reject(error) : resolve(signature))));
}

/** The public half of a signing key. */
export function publicKeyObject(key: SigningKey): KeyObject {
  return key.token ? key.token.publicKey : createPublicKey(privateKeyObject(key));
}

/**
 * Thrown for an EC key file whose public key is not the one its private key gives (a damaged
 * file): OpenSSL would sign with the private key, and verifiers check with the public one.
 */
export class DamagedKeyError extends Error {
  constructor() {
    super('its public key is not the one its private key gives');
  }
}

/** Thrown when an encrypted key cannot be decrypted with the password given. */
export class KeyPasswordError extends Error {
  constructor(readonly reason: 'missing' | 'wrong') {
    super(reason === 'missing' ? 'the key is encrypted and no password was given' : 'wrong password for the key');
  }
}


/** A new key pair, made on libuv's thread pool. */
export async function generateKeyPair(spec: KeySpec): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    const made = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject) => {
      if (error) return reject(error);
      rememberKeySpec(publicKey, spec);
      resolve({ spec, privateKey, publicKey });
    };
    if (spec.type === 'ecdsa') generateNodeKeyPair('ec', { namedCurve: spec.curve }, made);
    else generateNodeKeyPair('rsa', { modulusLength: spec.bits, publicExponent: 0x10001 }, made);
  });
}

/** PKCS#8 PEM; encrypted with PBES2 (see pbes2.ts) when a password is given. */
export async function exportPrivateKey(privateKey: KeyObject, password?: string): Promise<string> {
  const der = new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' }));
  if (password === undefined) return toPem(der, 'PRIVATE KEY');
  return toPem(await encryptPrivateKeyInfo(der, password), 'ENCRYPTED PRIVATE KEY');
}

export function isEncryptedKeyPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}


/**
 * keySpecOf for a SubjectPublicKeyInfo, read from its DER alone: importing the key (createPublicKey)
 * costs ~1 ms for an EC key, which `check` paid for every certificate. Undefined for anything but a
 * P-256, P-384 or RSA key in the expected shape (import it then, and let keySpecOf say what it is).
 */
export function keySpecOfSpki(spki: Uint8Array): KeySpec | undefined {
  const outer = derItem(spki, 0);
  const algorithm = outer?.tag === 0x30 ? derItem(spki, outer.start) : undefined;
  const oid = algorithm?.tag === 0x30 ? derItem(spki, algorithm.start) : undefined;
  if (!outer || !algorithm || oid?.tag !== 0x06 || outer.end !== spki.length) return undefined;
  const hex = (from: number, to: number) => Buffer.from(spki.subarray(from, to)).toString('hex');
  const [type, parameters] = [hex(algorithm.start, oid.end), hex(oid.end, algorithm.end)];
  if (type === SPKI_EC) return parameters === SPKI_P256 ? { type: 'ecdsa', curve: 'P-256' } : parameters === SPKI_P384 ? { type: 'ecdsa', curve: 'P-384' } : undefined;
  if (type !== SPKI_RSA || parameters !== '0500') return undefined;
  const bits = derItem(spki, algorithm.end);
  if (bits?.tag !== 0x03 || spki[bits.start] !== 0) return undefined;
  const sequence = derItem(spki, bits.start + 1);
  const modulus = sequence?.tag === 0x30 ? derItem(spki, sequence.start) : undefined;
  if (modulus?.tag !== 0x02) return undefined;
  let first = modulus.start;
  while (first < modulus.end && spki[first] === 0) first++;
  if (first === modulus.end) return undefined;
  return { type: 'rsa', bits: (modulus.end - first - 1) * 8 + (32 - Math.clz32(spki[first]!)) };
}

/**
 * The public point an unencrypted PKCS#8 EC key carries (ECPrivateKey's [1] publicKey), read from
 * the DER alone: the ASN.1 schema parse cost ~0.4 ms a key, which check pays for every key on disk.
 * Undefined for anything else or any other shape (the schema parse then decides).
 */
function ecPublicPointOfPkcs8(der: Uint8Array): Uint8Array | undefined {
  const info = derItem(der, 0);
  if (info?.tag !== 0x30 || info.end !== der.length) return undefined;
  const version = derItem(der, info.start);
  const algorithm = version?.tag === 0x02 ? derItem(der, version.end) : undefined;
  const oid = algorithm?.tag === 0x30 ? derItem(der, algorithm.start) : undefined;
  if (!algorithm || oid?.tag !== 0x06 || Buffer.from(der.subarray(algorithm.start, oid.end)).toString('hex') !== SPKI_EC) return undefined;
  const octets = derItem(der, algorithm.end);
  const key = octets?.tag === 0x04 ? derItem(der, octets.start) : undefined;
  if (!octets || key?.tag !== 0x30 || key.end !== octets.end) return undefined;
  const keyVersion = derItem(der, key.start);
  const secret = keyVersion?.tag === 0x02 ? derItem(der, keyVersion.end) : undefined;
  if (secret?.tag !== 0x04) return undefined;
  let next = derItem(der, secret.end);
  if (next?.tag === 0xa0 && next.end < key.end) next = derItem(der, next.end);
  if (next?.tag !== 0xa1 || next.end !== key.end) return undefined;
  const bits = derItem(der, next.start);
  if (bits?.tag !== 0x03 || bits.end !== next.end || bits.end - bits.start < 2 || der[bits.start] !== 0) return undefined;
  return der.subarray(bits.start + 1, bits.end);
}

/** DER: the OIDs of ecPublicKey and rsaEncryption, and the curves' named parameters, each with its tag and length. */
const SPKI_EC = '06072a8648ce3d0201';
const SPKI_RSA = '06092a864886f70d010101';
const SPKI_P256 = '06082a8648ce3d030107';
const SPKI_P384 = '06052b81040022';

/** The DER item at `at`: its tag and where its content starts and ends; undefined if it runs past the end. */
function derItem(der: Uint8Array, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > der.length) return undefined;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count < 1 || count > 3 || start + count > der.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  return start + length <= der.length ? { tag: der[at]!, start, end: start + length } : undefined;
}

/** Reads a PKCS#8 (optionally encrypted) PEM key for signing. */
export async function importPrivateKey(pem: string, password?: string): Promise<FileKey> {
  const encrypted = isEncryptedKeyPem(pem);
  if (encrypted && password === undefined) throw new KeyPasswordError('missing');
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase: password } : pem);
  } catch (error) {
    if (encrypted) throw new KeyPasswordError('wrong');
    throw error;
  }
  // An unsupported key (another curve) or a damaged one is refused here, before anything is signed with it.
  const spec = keySpecOf(keyObject);
  if (spec.type === 'ecdsa') assertEcKeyConsistent(keyObject, spec.curve);
  return { spec, privateKey: keyObject };
}

/**
 * Refuses an EC private key whose stored public point is not the one its scalar gives: Node's
 * createPrivateKey takes both as they are (WebCrypto's import checked them), so a flipped bit
 * would make every signature fail while the key still matches its certificate. ~1.5 ms a P-384 key.
 */
function assertEcKeyConsistent(key: KeyObject, curve: EcCurve): void {
  const { d, x, y } = key.export({ format: 'jwk' });
  const ecdh = createECDH(curve === 'P-256' ? 'prime256v1' : 'secp384r1');
  try {
    ecdh.setPrivateKey(Buffer.from(d ?? '', 'base64url'));
  } catch {
    throw new DamagedKeyError(); // a scalar outside the curve's order
  }
  const stored = Buffer.concat([Uint8Array.of(4), Buffer.from(x ?? '', 'base64url'), Buffer.from(y ?? '', 'base64url')]);
  if (!ecdh.getPublicKey().equals(stored)) throw new DamagedKeyError();
}

/** The DER PrivateKeyInfo (PKCS#8) of a key, for containers such as PKCS#12. */
export async function privateKeyInfoOf(key: SigningKey): Promise<Uint8Array> {
  if (!key.privateKey) throw new Error('the key is held by a PKCS#11 token and cannot be exported');
  return new Uint8Array(key.privateKey.export({ type: 'pkcs8', format: 'der' }));
}

/**
 * True when the certificate (DER or PEM) holds the public half of this key: the public key derived
 * from the private one equals the certificate's (OpenSSL compares the key material). ~0.3 ms of CPU
 * for EC and RSA keys alike, most of it parsing the certificate; exporting both keys as
 * SubjectPublicKeyInfo DER to compare the bytes costs three times more (OpenSSL's encoders).
 */
export function certificateMatchesKey(certificate: Uint8Array | string, key: SigningKey): boolean {
  const certified = new NodeX509Certificate(typeof certificate === 'string' ? certificate : Buffer.from(certificate)).publicKey;
  return publicKeyObject(key).equals(certified);
}

/** How a key file compares with its certificate when it is read without a password. */
export type KeyComparison = { result: 'match' | 'mismatch' | 'encrypted' } | { result: 'unreadable'; error: string };

/**
 * Compares a PEM key file with the certificate of its name, never asking for a password: an
 * encrypted key only has its structure read ("encrypted": it could not be compared). Fast path:
 * the key identifier from the key's ASN.1 (see keyIdOfPrivateKeyPem) against the certificate's
 * subject key identifier, which certified computes the same way; any other key (one without its
 * public point, a traditional PEM) is opened by OpenSSL and compared with the certificate.
 */
export function compareKeyWithCertificate(pem: string, certificate: { pem: string; subjectKeyId?: string | undefined }): KeyComparison {
  const blocks = readPemBlocks(pem);
  const [block] = blocks;
  if (!block || blocks.length > 1) return { result: 'unreadable', error: block ? 'more than one PEM block' : 'no PEM block' };
  if (block.label === 'ENCRYPTED PRIVATE KEY') {
    try {
      AsnConvert.parse(block.der, EncryptedPrivateKeyInfo);
      return { result: 'encrypted' };
    } catch (error) {
      return { result: 'unreadable', error: `an encrypted key block that does not decode: ${(error as Error).message}` };
    }
  }
  const keyId = keyIdOfPrivateKeyPem(pem);
  if (keyId !== undefined && certificate.subjectKeyId !== undefined) return { result: keyId === certificate.subjectKeyId ? 'match' : 'mismatch' };
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    return { result: 'unreadable', error: (error as Error).message };
  }
  try {
    return { result: new NodeX509Certificate(certificate.pem).checkPrivateKey(key) ? 'match' : 'mismatch' };
  } catch {
    return { result: 'mismatch' }; // a key of another type than the certificate's
  }
}

/**
 * The key identifier (SHA-1 of the public key bits, as certificates here carry it) of an
 * unencrypted PKCS#8 PEM key, read from its ASN.1 alone: EC keys carry their public point, RSA keys
 * their modulus and exponent, so no key arithmetic is needed (importing an EC key computes the
 * point: ~1 ms, too slow for check over thousands of keys). Undefined for an encrypted key, one
 * that does not carry its public key, or one that cannot be read.
 */
export function keyIdOfPrivateKeyPem(pem: string): string | undefined {
  try {
    const block = readPemBlocks(pem)[0];
    if (!block || block.label !== 'PRIVATE KEY') return undefined;
    const point = ecPublicPointOfPkcs8(block.der);
    if (point) return createHash('sha1').update(point).digest('hex');
    const info = AsnConvert.parse(block.der, PrivateKeyInfo);
    const privateKey = new Uint8Array(info.privateKey.buffer);
    if (info.privateKeyAlgorithm.algorithm === id_ecPublicKey) {
      const publicKey = AsnConvert.parse(privateKey, ECPrivateKey).publicKey;
      return publicKey ? createHash('sha1').update(new Uint8Array(publicKey)).digest('hex') : undefined;
    }
    if (info.privateKeyAlgorithm.algorithm === id_rsaEncryption) {
      const rsa = AsnConvert.parse(privateKey, RSAPrivateKey);
      const publicKey = AsnConvert.serialize(new RSAPublicKey({ modulus: rsa.modulus, publicExponent: rsa.publicExponent }));
      return createHash('sha1').update(new Uint8Array(publicKey)).digest('hex');
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bytes of ACME External Account Binding (RFC 8555 §7.3.4): random key ids and HMAC keys, the
 * HMAC key sealed so that only the holder of a CA private key can open it, the HMAC of a JWS, and
 */
import { KeyObject, createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export type { KeyObject };

/** The JWS algorithms an External Account Binding may be MACed with, and their hashes. */
export const EAB_MAC_ALGORITHMS = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;
export type EabMacAlgorithm = keyof typeof EAB_MAC_ALGORITHMS;

/** How a sealed key is encrypted, stored beside it so that a later scheme can be told apart. */
export const SEAL_ALGORITHM = 'HKDF-SHA256/A256GCM';

/** A secret encrypted under a key derived from a CA private key: every field base64url. */
export interface SealedSecret {
  algorithm: typeof SEAL_ALGORITHM;
  /** The HKDF salt, random per secret. */
  salt: string;
  /** The AES-GCM nonce (12 bytes). */
  iv: string;
  ciphertext: string;
  /** The AES-GCM authentication tag (16 bytes). */
  tag: string;
}

/** A fresh key id: 16 random bytes, base64url (22 characters). */
export function randomEabKid(): string {
  return optionSafeRandom(16).toString('base64url');
}

/** A fresh HMAC key: 32 random bytes (a full SHA-256 block's worth of strength). */
export function randomHmacKey(): Buffer {
  return optionSafeRandom(32);
}

/**
 * Random bytes whose base64url text does not start with "-": clients such as certbot read a value
 * given as "--eab-kid -x..." as another option. Drawing again costs a sixth of a bit.
 */
function optionSafeRandom(size: number): Buffer {
  for (;;) {
    const bytes = randomBytes(size);
    if (!bytes.toString('base64url').startsWith('-')) return bytes;
  }
}

/** AES-256 key derived with HKDF-SHA256 from the CA's private key (its PKCS#8 DER), the salt and `info`. */
function sealKey(caKey: KeyObject, salt: Buffer, info: string): Buffer {
  if (caKey.type !== 'private') throw new Error('sealing needs a private key');
  // OpenSSL's encoding of the key, not the file's bytes: the same key gives the same DER however it was stored.
  const ikm = caKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info, 'utf8'), 32));
}

/** Encrypts `secret` so that only a holder of `caKey` can read it; `info` (also the AAD) binds it to its use. */
export function sealSecret(caKey: KeyObject, secret: Uint8Array, info: string): SealedSecret {
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(caKey, salt, info), iv);
  cipher.setAAD(Buffer.from(info, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
  return {
    algorithm: SEAL_ALGORITHM,
    salt: salt.toString('base64url'),
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

/** The secret sealSecret() encrypted, or undefined when it was sealed with another key or `info`, or was altered. */
export function openSecret(caKey: KeyObject, sealed: SealedSecret, info: string): Buffer | undefined {
  if (sealed.algorithm !== SEAL_ALGORITHM) return undefined;
  const iv = Buffer.from(sealed.iv, 'base64url');
  const tag = Buffer.from(sealed.tag, 'base64url');
  if (iv.length !== 12 || tag.length !== 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(caKey, Buffer.from(sealed.salt, 'base64url'), info), iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(info, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64url')), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** Whether `signature` is the HMAC of `signingInput` (protected "." payload) under `key`, compared in constant time. */
export function verifyHmac(algorithm: EabMacAlgorithm, key: Uint8Array, signingInput: string, signature: Uint8Array): boolean {
  const expected = createHmac(EAB_MAC_ALGORITHMS[algorithm], key).update(signingInput, 'ascii').digest();
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}

import type { KeyObject } from 'node:crypto';

// Apart from keys.ts so that what `certified show` loads for git (quick-inspect.ts) needs no ASN.1 library.

export type EcCurve = 'P-256' | 'P-384';
export type KeySpec = { type: 'ecdsa'; curve: EcCurve } | { type: 'rsa'; bits: number };

export function describeKey(spec: KeySpec): string {
  return spec.type === 'ecdsa' ? `ECDSA ${spec.curve}` : `RSA ${spec.bits}`;
}

/**
 * The specs of the keys made here (see rememberKeySpec): Node reads a key's details through
 * OpenSSL's legacy key structures, ~0.25 ms an EC key, and apply makes a key per certificate.
 */
const madeKeys = new WeakMap<KeyObject, KeySpec>();

/** Records the spec a key was made with, which keySpecOf then answers without asking OpenSSL. */
export function rememberKeySpec(key: KeyObject, spec: KeySpec): void {
  madeKeys.set(key, { ...spec });
}

export function keySpecOf(key: KeyObject): KeySpec {
  const made = madeKeys.get(key);
  if (made) return made;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return { type: 'ecdsa', curve: 'P-256' };
    if (details.namedCurve === 'secp384r1') return { type: 'ecdsa', curve: 'P-384' };
    throw new Error(`unsupported elliptic curve ${details.namedCurve ?? 'unknown'}`);
  }
  if (key.asymmetricKeyType === 'rsa') return { type: 'rsa', bits: details.modulusLength ?? 0 };
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

import type { KeyObject } from 'node:crypto';

// Apart from keys.ts so that what `certified show` loads for git (quick-inspect.ts) needs no ASN.1 library.

export type EcCurve = 'P-256' | 'P-384';
export type KeySpec = { type: 'ecdsa'; curve: EcCurve } | { type: 'rsa'; bits: number };

export function describeKey(spec: KeySpec): string {
  return spec.type === 'ecdsa' ? `ECDSA ${spec.curve}` : `RSA ${spec.bits}`;
}

export function keySpecOf(key: KeyObject): KeySpec {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return { type: 'ecdsa', curve: 'P-256' };
    if (details.namedCurve === 'secp384r1') return { type: 'ecdsa', curve: 'P-384' };
    throw new Error(`unsupported elliptic curve ${details.namedCurve ?? 'unknown'}`);
  }
  if (key.asymmetricKeyType === 'rsa') return { type: 'rsa', bits: details.modulusLength ?? 0 };
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

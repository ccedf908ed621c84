import { sign, type KeyObject } from 'node:crypto';

/**
 * A flattened JWS over `payload` (JSON; '' for POST-as-GET), signed by `key`: RS256, EdDSA for
 * Ed25519, ES384 for P-384, else ES256. `header` holds the rest of the protected header.
 */
export function signJws(key: KeyObject, header: Record<string, unknown>, payload: unknown): { protected: string; payload: string; signature: string } {
  const type = key.asymmetricKeyType;
  const alg = type === 'rsa' ? 'RS256' : type === 'ed25519' ? 'EdDSA' : key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256';
  const protectedB64 = Buffer.from(JSON.stringify({ alg, ...header })).toString('base64url');
  const payloadB64 = payload === '' ? '' : Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = Buffer.from(`${protectedB64}.${payloadB64}`);
  const signature =
    type === 'rsa' ? sign('sha256', input, key)
    : type === 'ed25519' ? sign(null, input, key)
    : sign(alg === 'ES384' ? 'sha384' : 'sha256', input, { key, dsaEncoding: 'ieee-p1363' });
  return { protected: protectedB64, payload: payloadB64, signature: signature.toString('base64url') };
}

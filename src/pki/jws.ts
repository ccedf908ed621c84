/**
 * JSON Web Signatures as ACME uses them (RFC 7515 flattened JSON, RFC 8555 §6.2): parse, import
 * the JWK natively, verify with ES256, ES384, RS256 or EdDSA (Ed25519), and the RFC 7638
 * thumbprint. Only bytes here: which header rules apply to which request is the server's concern.
 */
import { X509Certificate, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { normalizeSerial, serialOctets } from './serial.js';

export type JwsAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'EdDSA';
export const JWS_ALGORITHMS: readonly JwsAlgorithm[] = ['ES256', 'ES384', 'RS256', 'EdDSA'];

export interface ParsedJws {
  /** The decoded protected header. */
  header: Record<string, unknown>;
  /** The payload bytes ("" for POST-as-GET). */
  payload: Uint8Array;
  signature: Uint8Array;
  /** ASCII(protected "." payload), what the signature covers. */
  signingInput: Uint8Array;
  /** The base64url protected header and payload as sent (an EAB binding compares them). */
  protectedB64: string;
  payloadB64: string;
}

/** A JWS that cannot be decoded; `message` says why, for a "malformed" problem. */
export class JwsError extends Error {}

const B64URL = /^[A-Za-z0-9_-]*$/;

export function base64url(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64url');
}

export function fromBase64url(text: string, what: string): Uint8Array {
  if (!B64URL.test(text)) throw new JwsError(`${what} is not base64url`);
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** Parses a flattened JWS (the only serialization RFC 8555 allows). */
export function parseJws(body: unknown): ParsedJws {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new JwsError('the body is not a JSON object');
  const { protected: protectedB64, payload: payloadB64, signature: signatureB64 } = body as Record<string, unknown>;
  if ('signatures' in body) throw new JwsError('only the flattened JSON serialization is accepted');
  if ('header' in body) throw new JwsError('an unprotected header is not accepted');
  if (typeof protectedB64 !== 'string' || typeof payloadB64 !== 'string' || typeof signatureB64 !== 'string') {
    throw new JwsError('protected, payload and signature must be strings');
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(fromBase64url(protectedB64, 'the protected header')).toString('utf8'));
  } catch (error) {
    if (error instanceof JwsError) throw error;
    throw new JwsError('the protected header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new JwsError('the protected header is not a JSON object');
  // RFC 7515 §4.1.11: extensions listed in crit must be understood, and no extension is.
  if ('crit' in header) throw new JwsError('the protected header has "crit", and no JWS extension is understood here');
  return {
    header: header as Record<string, unknown>,
    payload: fromBase64url(payloadB64, 'the payload'),
    signature: fromBase64url(signatureB64, 'the signature'),
    signingInput: new Uint8Array(Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii')),
    protectedB64,
    payloadB64,
  };
}

/** A public JWK as a key object; throws JwsError when it is not a public EC, RSA or OKP key. */
export function importJwk(jwk: unknown): KeyObject {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new JwsError('the jwk is not a JSON object');
  const fields = jwk as Record<string, unknown>;
  if ('d' in fields || 'p' in fields || 'k' in fields) throw new JwsError('the jwk holds private or symmetric key material');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: fields as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw new JwsError('the jwk is not a valid public key');
  }
  return key;
}

/** Whether `alg` fits the key: ES256 on P-256, ES384 on P-384, RS256 on RSA of 2048 bits or more, EdDSA on Ed25519. */
export function algorithmFitsKey(alg: JwsAlgorithm, key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails ?? {};
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1';
    case 'ES384':
      return key.asymmetricKeyType === 'ec' && details.namedCurve === 'secp384r1';
    case 'RS256':
      return key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048;
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
  }
}

export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && (JWS_ALGORITHMS as readonly string[]).includes(value);
}

/**
 * Verifies the signature with `key` under `alg` (the caller checked that they fit), on libuv's
 * thread pool: a server under load goes on answering meanwhile. Any failure is a signature that does not verify.
 */
export function verifyJws(jws: ParsedJws, alg: JwsAlgorithm, key: KeyObject): Promise<boolean> {
  const ecdsaLength = alg === 'ES256' ? 64 : alg === 'ES384' ? 96 : undefined;
  if (ecdsaLength !== undefined && jws.signature.length !== ecdsaLength) return Promise.resolve(false);
  const hash = alg === 'ES384' ? 'sha384' : alg === 'EdDSA' ? null : 'sha256';
  const verifyKey = ecdsaLength === undefined ? key : { key, dsaEncoding: 'ieee-p1363' as const };
  return new Promise((resolve) => {
    try {
      verify(hash, jws.signingInput, verifyKey, jws.signature, (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false);
    }
  });
}

/** The public JWK of a key, with only the members RFC 7638 names (what is stored for an account). */
export function publicJwk(key: KeyObject): JsonWebKey {
  const jwk = key.export({ format: 'jwk' });
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''] ?? [];
  return Object.fromEntries(members.map((member) => [member, (jwk as Record<string, unknown>)[member]])) as JsonWebKey;
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace; base64url. */
/** The RFC 7638 thumbprint of a DER SubjectPublicKeyInfo (a CSR's key), or undefined for one that cannot be read. */
export function spkiThumbprint(spki: ArrayBuffer | Uint8Array): string | undefined {
  try {
    return jwkThumbprint(createPublicKey({ key: Buffer.from(spki instanceof Uint8Array ? spki : new Uint8Array(spki)), format: 'der', type: 'spki' }));
  } catch {
    return undefined;
  }
}

export function jwkThumbprint(key: KeyObject): string {
  return jwkThumbprintOf(publicJwk(key))!;
}

/** The members RFC 7638 hashes, per key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK, base64url; undefined when it is not a JWK of a
 * known type with its required members as strings.
 */
export function jwkThumbprintOf(jwk: unknown): string | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return undefined;
  const fields = jwk as Record<string, unknown>;
  const members = typeof fields.kty === 'string' ? THUMBPRINT_MEMBERS[fields.kty] : undefined;
  if (!members) return undefined;
  const canonical: Record<string, string> = {};
  for (const member of members) {
    const value = fields[member];
    if (typeof value !== 'string' || value === '') return undefined;
    canonical[member] = value;
  }
  return createHash('sha256').update(JSON.stringify(canonical), 'utf8').digest('base64url');
}

/** Two keys are the same key: equal thumbprints. */

/** RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(serial INTEGER content octets). */
export function ariCertId(authorityKeyIdHex: string, serialHex: string): string {
  return `${base64url(Buffer.from(authorityKeyIdHex, 'hex'))}.${base64url(new Uint8Array(serialOctets(serialHex)))}`;
}

/** The parts of an ARI cert id as hex, or undefined when it is not one. */
export function parseAriCertId(id: string): { authorityKeyId: string; serial: string } | undefined {
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(id);
  if (!match || id.length > 200) return undefined;
  return { authorityKeyId: Buffer.from(match[1]!, 'base64url').toString('hex'), serial: normalizeSerial(Buffer.from(match[2]!, 'base64url').toString('hex')) };
}

/** The public key a DER certificate certifies, or undefined when it cannot be parsed. */
export function certificateKeyObject(der: Uint8Array): KeyObject | undefined {
  try {
    return new X509Certificate(der).publicKey;
  } catch {
    return undefined;
  }
}

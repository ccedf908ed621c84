import type { KeySpec } from '../pki/keys.js';
import type { ExtendedKeyUsageName, KeyUsageName, SubjectAltName } from '../pki/types.js';

export type LeafProfile = 'server' | 'client' | 'server+client';

export const CA_KEY_USAGE: KeyUsageName[] = ['keyCertSign', 'cRLSign'];
/** The intermediate may sign one more level of CAs (sub-CAs, which get pathlen 0). */
export const INTERMEDIATE_PATH_LENGTH = 1;
export const SUB_CA_PATH_LENGTH = 0;

export const DEFAULT_CA_DAYS = 3650;
export const DEFAULT_LEAF_DAYS = 365;
/** Apple platforms reject TLS server certificates valid for longer. */
export const APPLE_MAX_SERVER_DAYS = 825;
/** notBefore is backdated this much for clients whose clocks run slow. */
export const BACKDATE_MS = 60_000;
export const DEFAULT_CRL_DAYS = 7;
/** The root's CRL: re-signed only with the root key, which stays offline, so it lives a year. */
export const DEFAULT_ROOT_CRL_DAYS = 365;

export const DEFAULT_CA_KEY: KeySpec = { type: 'ecdsa', curve: 'P-384' };
export const DEFAULT_CA_RSA_BITS = 4096;
export const DEFAULT_LEAF_KEY: KeySpec = { type: 'ecdsa', curve: 'P-256' };
export const DEFAULT_LEAF_RSA_BITS = 2048;

/**
 * A leaf's key usages by profile and key type. A client certificate that carries an e-mail address
 * also gets emailProtection (S/MIME), as mkcert does.
 */
export function leafKeyUsage(
  profile: LeafProfile,
  key: KeySpec,
  sans: readonly SubjectAltName[] = [],
): { keyUsage: KeyUsageName[]; extendedKeyUsage: ExtendedKeyUsageName[] } {
  const keyUsage: KeyUsageName[] = key.type === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
  return { keyUsage, extendedKeyUsage: leafExtendedKeyUsage(profile, sans) };
}

export function leafExtendedKeyUsage(profile: LeafProfile, sans: readonly SubjectAltName[]): ExtendedKeyUsageName[] {
  const extendedKeyUsage: ExtendedKeyUsageName[] =
    profile === 'server' ? ['serverAuth'] : profile === 'client' ? ['clientAuth'] : ['serverAuth', 'clientAuth'];
  if (profile !== 'server' && sans.some((san) => san.type === 'email')) extendedKeyUsage.push('emailProtection');
  return extendedKeyUsage;
}

import type { NameConstraintSet } from '../pki/extensions.js';
import type { DistinguishedName } from '../pki/types.js';
import { CRL_DIR, OLD_ROOT_NAME, ROOT_NAME, crlPath, isRootName } from '../store/layout.js';
import { DEFAULT_ROOT_CRL_DAYS } from './profiles.js';

/** certified.json: the CA's saved defaults, used by every later command. */
export interface CaConfig {
  version: 1;
  /** The root's DN; leaves take the attributes they do not give from it (not the CN). */
  subject: DistinguishedName;
  crlUrl?: string;
  rootCrlUrl?: string;
  ocspUrl?: string;
  /** Permitted subtrees put on the intermediate (and sub-CAs): DNS domains, address ranges, e-mail domains. */
  nameConstraints?: NameConstraintSet;
  crlDays: number;
  /** The root's CRL lifetime; older CAs have none and get the default. */
  rootCrlDays?: number;
  /** CA keys a PKCS#11 token holds, by CA name: no key file exists for these. */
  tokenKeys?: Record<string, TokenKeyRecord>;
  /** Set by "certified rotate-root": the old root's serial, and whether chains still end with the cross-certificate. */
  rootRotation?: RootRotation;
}

export interface RootRotation {
  oldRootSerial: string;
  started: string;
  /** The CRL URL the old root's certificates carry (the root's before the rotation): the old root keeps publishing there. */
  oldRootCrlUrl?: string;
  /** True until "certified rotate-root --finish": chain files end with the cross-certificate and roots.crt holds both roots. */
  bridge: boolean;
  finished?: string;
}

/** The new root's CRL after a rotation: the old root keeps crl/root-ca.crl, the file its certificates' CRL URL names. */
export const NEW_ROOT_CRL_PATH = `${CRL_DIR}/${ROOT_NAME}.2.crl`;

/** The CRL file of the CA `name`: crl/NAME.crl, but for the two roots after a root rotation (see NEW_ROOT_CRL_PATH). */
export function crlFileOf(config: Pick<CaConfig, 'rootRotation'> | undefined, name: string): string {
  if (config?.rootRotation) {
    if (name === OLD_ROOT_NAME) return crlPath(ROOT_NAME);
    if (name === ROOT_NAME) return NEW_ROOT_CRL_PATH;
  }
  return crlPath(name);
}

/** The CA whose CRL is the file crl/BASE.crl (the inverse of crlFileOf). */
export function caOfCrlFile(config: Pick<CaConfig, 'rootRotation'> | undefined, base: string): string {
  if (config?.rootRotation) {
    if (base === ROOT_NAME) return OLD_ROOT_NAME;
    if (`${CRL_DIR}/${base}.crl` === NEW_ROOT_CRL_PATH) return ROOT_NAME;
  }
  return base;
}

/** Where a CA's key lives on a token: its PKCS#11 URI (never with a PIN) and the module's file name. */
export interface TokenKeyRecord {
  uri: string;
  module: string;
}

/** How long a CRL of `issuer` stays current: the root's lasts a year by default, the others a week. */
export function crlDaysFor(config: CaConfig, issuer: string): number {
  return isRootName(issuer) ? (config.rootCrlDays ?? DEFAULT_ROOT_CRL_DAYS) : config.crlDays;
}

export function serializeConfig(config: CaConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function parseConfig(text: string): CaConfig {
  const parsed = JSON.parse(text) as CaConfig;
  if (parsed.version !== 1 || typeof parsed.subject !== 'object') throw new Error('unsupported certified.json');
  const tokenKeys: unknown = parsed.tokenKeys;
  if (tokenKeys !== undefined) {
    const fine = (record: unknown) => typeof record === 'object' && record !== null && typeof (record as TokenKeyRecord).uri === 'string' && typeof (record as TokenKeyRecord).module === 'string';
    if (typeof tokenKeys !== 'object' || tokenKeys === null || Array.isArray(tokenKeys) || !Object.values(tokenKeys).every(fine)) {
      throw new Error('tokenKeys must map CA names to { "uri": "pkcs11:...", "module": "lib...so" }');
    }
  }
  return parsed;
}

/** A leaf's subject: what was given, the rest of C, ST, L, O, OU from the CA's defaults. */
export function withDefaults(given: DistinguishedName, defaults: DistinguishedName): DistinguishedName {
  const { CN: _cn, ...inherited } = defaults;
  return { ...inherited, ...given };
}

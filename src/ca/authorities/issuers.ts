import type { CaStore } from '../../store/ca-store.js';
import { CRL_DIR, INTERMEDIATE_NAME, OLD_ROOT_NAME, ROOT_NAME } from '../../store/layout.js';
import { caOfCrlFile, type CaConfig } from '../config.js';
import { loadCertificate, loadConfig } from '../ca-files.js';
import { CertifiedError, ExternalCaError } from '../errors.js';
import { findRecord, lastRevocation } from '../find-record.js';
import { printable, validateName } from '../names.js';

/**
 * The file name of the CA that `input` (a file name like "team-ca" or a CN like "Team CA") names.
 * Every CA that certified signs with publishes crl/NAME.crl, so the candidates are those; a revoked
 * CA still resolves, so that loading it reports the revocation. An external CA (no CRL here) is
 * refused as such.
 */
export async function resolveIssuer(store: CaStore, input: string): Promise<string> {
  const config = await loadConfig(store).catch(() => undefined);
  const names = (await store.list(CRL_DIR)).filter((file) => file.endsWith('.crl')).map((file) => caOfCrlFile(config, file.slice(0, -'.crl'.length)));
  const derived = input.trim().toLowerCase().replace(/\s+/g, '-');
  for (const candidate of [input, derived]) {
    if (isValidName(candidate) && names.includes(candidate)) return checkCa(store, candidate, input);
  }
  for (const name of names) {
    const certificate = await loadCertificate(store, name);
    if (certificate?.subject.CN?.toLowerCase() === input.trim().toLowerCase()) return checkCa(store, name, input);
  }
  // An external CA publishes no CRL here, and certified cannot sign with it: say so, not "no such CA".
  for (const candidate of [input, derived]) {
    if (!isValidName(candidate)) continue;
    const certificate = await loadCertificate(store, candidate);
    const record = certificate ? await findRecord(store, certificate.serial) : await lastRevocation(store, candidate);
    if (record?.external && record.profile === 'ca') throw new ExternalCaError(candidate);
  }
  throw new CertifiedError(`there is no CA "${printable(input)}" in "${store.dir}"`, {
    code: 'NO_ISSUER',
    hint: ['Give ', { option: 'issuer' }, ` the file name or CN of a CA: ${names.map((name) => `"${name}"`).join(', ') || 'none yet'}.`],
  });
}

async function checkCa(store: CaStore, name: string, input: string): Promise<string> {
  const certificate = await loadCertificate(store, name);
  if (certificate && !certificate.isCa) {
    throw new CertifiedError(`"${printable(input)}" is not a CA`, { code: 'NOT_A_CA', hint: ['Give ', { option: 'issuer' }, ' a CA, like ', { option: 'issuer', value: 'ca' }, '.'] });
  }
  return name;
}

/**
 * The CRL URL for certificates `issuer` signs: the root's CRL URL for the root, the intermediate's
 * for the intermediate, and a sub-CA's derived from the intermediate's when that ends in "/ca.crl" (the same
 * place, "/NAME.crl"); otherwise none, since a URL of another issuer's CRL would be wrong.
 */
export function crlUrlFor(config: CaConfig, issuer: string): string | undefined {
  if (issuer === ROOT_NAME) return config.rootCrlUrl;
  // The old root keeps publishing its CRL where its certificates say.
  if (issuer === OLD_ROOT_NAME) return config.rootRotation?.oldRootCrlUrl;
  if (issuer === INTERMEDIATE_NAME) return config.crlUrl;
  if (config.crlUrl?.endsWith(`/${INTERMEDIATE_NAME}.crl`)) return `${config.crlUrl.slice(0, -`${INTERMEDIATE_NAME}.crl`.length)}${issuer}.crl`;
  return undefined;
}

function isValidName(name: string): boolean {
  try {
    validateName(name);
    return true;
  } catch {
    return false;
  }
}

import type { CaStore } from '../store/ca-store.js';
import { CROSS_NAME, INTERMEDIATE_NAME, OLD_ROOT_NAME, ROOT_NAME, certPath, keyPath } from '../store/layout.js';
import { loadCertificate, loadChainPem, loadSigningKey, whereKeysComeBackFrom } from './ca-files.js';
import { caKeyRole, type AskPassword } from './passwords.js';
import { CertifiedError, ExternalCaError, IssuerRevokedError, NoCaError, type TextPart } from './errors.js';
import { findRecord, lastRevocation } from './find-record.js';
import { issuedBy } from './issuer-revocations.js';
import type { CertificateInfo } from '../pki/certificate.js';
import { certificateMatchesKey, type SigningKey } from '../pki/keys.js';
import type { CertificateRecord } from '../store/records.js';
import { assertMaySign, type CertificateKind } from './certificate-builder.js';

export interface Issuer {
  name: string;
  certificate: CertificateInfo;
  chainPem: string;
  key: SigningKey;
}

/**
 * A CA that signs: its certificate, chain and key (the password asked only when the key is
 * encrypted). With `purpose`, what it may not sign is refused before its key is opened. `openKey`,
 * a key opened earlier (a long-running server keeps it), is used when it is still this CA's key,
 * so the key file is not decrypted again; otherwise the key file is opened.
 */
export async function loadIssuer(store: CaStore, name: string, askPassword: AskPassword, purpose?: CertificateKind, openKey?: SigningKey): Promise<Issuer> {
  const certificate = await loadCertificate(store, name);
  const record = certificate ? await findRecord(store, certificate.serial) : await lastRevocation(store, name);
  if (certificate && record?.external) throw new ExternalCaError(name);
  if (record?.status === 'revoked' && record.revocation) {
    const hint: TextPart[] = name === INTERMEDIATE_NAME
      ? ['Make a new intermediate under the root with "certified init ', { option: 'rootPassword', value: '-' }, '", then issue again.']
      : ['Issue from another CA with ', { option: 'issuer' }, ', or make a new one with "certified init ', { option: 'issuer' }, '=ca CN=..".'];
    throw new IssuerRevokedError(name, record.revocation.date, record.revocation.reason, hint);
  }
  if (!certificate) {
    if (name === INTERMEDIATE_NAME) throw new NoCaError(store.dir);
    throw new CertifiedError(`there is no issuing CA "${name}" in "${store.dir}"`, { code: 'NO_ISSUER', hint: ['Check ', { option: 'issuer' }, ' against "certified ls".'] });
  }
  // After a root rotation the old root and the certificates it signed only sign their CRLs.
  if (purpose && record?.issuer === OLD_ROOT_NAME) {
    const current = name === OLD_ROOT_NAME || name === CROSS_NAME ? ROOT_NAME : name.replace(/\.old$/, '');
    throw new CertifiedError(`"${name}" is a certificate of the root that "certified rotate-root" replaced, and signs nothing new`, {
      code: 'RETIRED_ISSUER',
      hint: ['Sign with the new one: ', { option: 'issuer', value: current }, '.'],
    });
  }
  if (purpose) assertMaySign({ name, certificate }, purpose);
  const key = openKey && certificateMatchesKey(certificate.der, openKey) ? openKey : await loadSigningKey(store, name, askPassword, caKeyRole(name));
  assertCaKey(name, certificate.der, key, record?.issuer);
  return { name, certificate, chainPem: await loadChainPem(store, name), key };
}

/**
 * Refuses a CA key that is not the private half of the CA's certificate (another CA's key copied
 * over it, a key restored from the wrong backup): whatever it signed would fail every verifier.
 * Called wherever a CA key is opened to sign, before anything is signed or written.
 */
export function assertCaKey(name: string, certificate: Uint8Array | string, key: SigningKey, issuer?: string): void {
  if (certificateMatchesKey(certificate, key)) return;
  if (key.token) {
    throw new CertifiedError(`the key on the PKCS#11 token (${key.token.uri}) is not the key of the CA "${name}" (its public key is not the one in "${certPath(name)}"), so nothing was signed`, {
      code: 'CA_KEY_MISMATCH',
      hint: [`Check the URI of "${name}" in certified.json (object=, id=) against the token's keys; `, ...lostCaKey(name, issuer), '.'],
    });
  }
  const path = keyPath(name);
  const hint: TextPart[] = name === ROOT_NAME
    ? [`Put the root's own key back at "${path}" from where you keep it offline; `, ...lostCaKey(name, issuer), '.']
    : [`Put the ${name === INTERMEDIATE_NAME ? "intermediate's own key" : `key of "${name}"`} back at "${path}" (${whereKeysComeBackFrom(path)}); `, ...lostCaKey(name, issuer), '.'];
  throw new CertifiedError(`the key "${path}" is not the key of the CA "${name}" (its public key is not the one in "${certPath(name)}"), so nothing was signed`, { code: 'CA_KEY_MISMATCH', hint });
}

/** What to do when the key of the CA `name` (issued by `issuer`) is lost: "if it is lost, ...". */
export function lostCaKey(name: string, issuer?: string): TextPart[] {
  if (name === ROOT_NAME) return ['if it is lost, the root cannot sign again: make a new CA with "certified init" in a new directory'];
  if (name === INTERMEDIATE_NAME) {
    return ['if it is lost, revoke the intermediate with "certified revoke ', { option: 'ca' }, ' ', { option: 'rootPassword', value: '-' }, '" and make a new one with "certified init ', { option: 'rootPassword', value: '-' }, '"'];
  }
  return ['if it is lost, revoke the CA with "certified revoke ', { option: 'name', value: name }, '" and make a new one with "certified init ', { option: 'issuer', value: issuer ?? '<its issuer>' }, ' CN=.."'];
}

/**
 * Whether the CA certificate now at certs/ISSUER.crt, unrevoked, is the one that issued `record`.
 * Not when that CA was revoked: its certificate was moved away, or a new CA of the same name (a
 * new intermediate) stands there. Then what it issued is no longer trusted anyway, and no CRL
 * of its is signed again. Records made before key identifiers were kept compare dates.
 */
export async function issuedByCurrentCa(store: CaStore, record: CertificateRecord): Promise<boolean> {
  if (record.profile === 'root') return true;
  if (record.profile === 'self-signed') return false; // its own issuer: no CA, no CRL
  const current = await loadCertificate(store, record.issuer);
  if (!current || (await findRecord(store, current.serial))?.status === 'revoked') return false;
  return issuedBy(record, current);
}

import type { CaStore } from '../store/ca-store.js';
import { INTERMEDIATE_NAME } from '../store/layout.js';
import { loadCertificate, loadChainPem, loadSigningKey } from './ca-files.js';
import { caKeyRole, type AskPassword } from './passwords.js';
import { CertifiedError, IssuerRevokedError, NoCaError, type TextPart } from './errors.js';
import { findRecord, lastRevocation } from './find-record.js';
import { issuedBy } from './issuer-revocations.js';
import type { CertificateInfo } from '../pki/certificate.js';
import type { SigningKey } from '../pki/keys.js';
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
 * encrypted). With `purpose`, what it may not sign is refused before its key is opened.
 */
export async function loadIssuer(store: CaStore, name: string, askPassword: AskPassword, purpose?: CertificateKind): Promise<Issuer> {
  const certificate = await loadCertificate(store, name);
  const record = certificate ? await findRecord(store, certificate.serial) : await lastRevocation(store, name);
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
  if (purpose) assertMaySign({ name, certificate }, purpose);
  const key = await loadSigningKey(store, name, askPassword, caKeyRole(name));
  return { name, certificate, chainPem: await loadChainPem(store, name), key };
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

/**
 * A sub-CA built without committing, for apply-manifest.ts: the imperative use case
 * (create-sub-ca.ts) locks and commits by itself, so apply, which commits many changes at once,
 * builds its own. TODO: extract a shared prepareSubCa from create-sub-ca.ts and use it in both.
 */
import { createCertificate } from '../../pki/certificate.js';
import { generateKeyPair } from '../../pki/keys.js';
import { randomSerial } from '../../pki/serial.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import { certPath, chainPath, keyPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import type { Issuer } from '../load-issuer.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { withDefaults, type CaConfig } from '../config.js';
import { NameTakenError } from '../errors.js';
import { buildCrl } from '../revocation/generate-crl.js';
import { keyWrite } from '../authorities/init-ca.js';
import type { ManifestEntry } from './manifest.js';
import { BACKDATE_MS, CA_KEY_USAGE, SUB_CA_PATH_LENGTH } from '../profiles.js';

export interface PreparedSubCa {
  writes: FileWrite[];
  record: CertificateRecord;
  /** The new sub-CA, ready to sign the leaves of the same apply. */
  issuer: Issuer;
}

/** A CA with pathlen 0 signed by `issuer` (the intermediate), its key, chain, record and empty CRL. */
export async function prepareSubCaStandIn(
  store: CaStore,
  config: CaConfig,
  issuer: Issuer,
  entry: ManifestEntry,
  options: { password?: string; now: Date; replacing: boolean },
): Promise<PreparedSubCa> {
  if (!options.replacing) {
    for (const path of [certPath(entry.name), keyPath(entry.name)]) {
      if (await store.exists(path)) throw new NameTakenError(entry.name, path);
    }
  }
  const keys = await generateKeyPair(entry.key);
  const notAfter = new Date(Math.min(options.now.getTime() + entry.days * 86_400_000, issuer.certificate.notAfter.getTime()));
  const certificate = await createCertificate({
    subject: withDefaults({ CN: entry.cn }, config.subject),
    publicKey: keys.publicKey,
    serial: randomSerial(),
    notBefore: new Date(options.now.getTime() - BACKDATE_MS),
    notAfter,
    issuerPem: issuer.certificate.pem,
    signingKey: issuer.key,
    ca: { pathLength: SUB_CA_PATH_LENGTH },
    keyUsage: CA_KEY_USAGE,
    sans: entry.sans,
    ...(config.crlUrl ? { crlUrl: config.crlUrl } : {}),
    ...(config.ocspUrl ? { ocspUrl: config.ocspUrl } : {}),
  });
  const chainPem = certificate.pem + issuer.chainPem;
  const record = { ...toRecord(certificate, entry.name, issuer.name, 'ca'), managed: true };
  const subCa: Issuer = { name: entry.name, certificate, chainPem, key: keys };
  return {
    writes: [
      { path: certPath(entry.name), content: certificate.pem, commit: true },
      { path: chainPath(entry.name), content: chainPem, commit: true },
      await keyWrite(entry.name, keys, options.password, true),
      recordWrite(record),
      await buildCrl(store, subCa, { now: options.now, days: config.crlDays, records: [] }),
    ],
    record,
    issuer: subCa,
  };
}

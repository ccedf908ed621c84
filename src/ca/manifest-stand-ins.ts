/**
 * STAND-INS for the lifecycle branch, used by apply-manifest.ts only.
 *
 * - prepareRevocationStandIn: switch to `prepareRevocation(store, issuer, target, reason, now)`
 *   from src/ca/revoke-certificate.ts at merge (same shape: writes, moves, updated record).
 * - prepareSubCaStandIn: switch to the lifecycle's sub-CA use case at merge.
 * Both are kept minimal on purpose and do nothing the lifecycle versions do not.
 */
import { basename } from 'node:path';
import { createCertificate } from '../pki/certificate.js';
import { generateKeyPair, isEncryptedKeyPem } from '../pki/keys.js';
import { randomSerial } from '../pki/serial.js';
import type { RevocationReason } from '../pki/types.js';
import type { CaStore, ChangeSet, FileWrite } from '../store/ca-store.js';
import { PRIVATE_DIR, certPath, chainPath, csrPath, keyPath, revokedDir } from '../store/layout.js';
import type { CertificateRecord } from '../store/records.js';
import type { Issuer } from './ca-files.js';
import { recordWrite, toRecord } from './certificate-record.js';
import { withDefaults, type CaConfig } from './config.js';
import { NameTakenError } from './errors.js';
import { buildCrl } from './generate-crl.js';
import { keyWrite } from './init-ca.js';
import type { ManifestEntry } from './manifest.js';
import { BACKDATE_MS, CA_KEY_USAGE, SUB_CA_PATH_LENGTH } from './profiles.js';

export interface PreparedRevocation {
  writes: FileWrite[];
  moves: NonNullable<ChangeSet['moves']>;
  record: CertificateRecord;
}

/**
 * Marks the record revoked and moves the certificate's files to revoked/<name>-<serial>/ so that
 * the name can be issued again. An unencrypted key is never committed: it goes to
 * private/revoked/<name>-<serial>.key, which .gitignore covers. The CRL is rebuilt by the caller.
 */
export async function prepareRevocationStandIn(
  store: CaStore,
  target: CertificateRecord,
  reason: RevocationReason,
  now: Date,
): Promise<PreparedRevocation> {
  const record: CertificateRecord = { ...target, status: 'revoked', revocation: { date: now.toISOString(), reason } };
  const dir = revokedDir(target.name, target.serial);
  const moves: PreparedRevocation['moves'] = [];
  for (const path of [certPath(target.name), chainPath(target.name), csrPath(target.name)]) {
    if (await store.exists(path)) moves.push({ from: path, to: `${dir}/${basename(path)}`, commit: true });
  }
  const key = keyPath(target.name);
  const keyPem = await store.readText(key);
  if (keyPem !== undefined) {
    moves.push(
      isEncryptedKeyPem(keyPem)
        ? { from: key, to: `${dir}/${basename(key)}`, commit: true }
        : { from: key, to: `${PRIVATE_DIR}/revoked/${target.name}-${target.serial}.key`, commit: false },
    );
  }
  return { writes: [recordWrite(record)], moves, record };
}

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

import { createCrl, parseCrl } from '../pki/crl.js';
import type { CaStore, FileWrite } from '../store/ca-store.js';
import { crlPath, recordsDir } from '../store/layout.js';
import { parseRecord, type CertificateRecord } from '../store/records.js';
import type { Issuer } from './ca-files.js';

export async function loadRecords(store: CaStore, issuer: string): Promise<CertificateRecord[]> {
  const dir = recordsDir(issuer);
  const files = (await store.list(dir)).filter((file) => file.endsWith('.json'));
  const records = await Promise.all(files.map(async (file) => parseRecord((await store.readText(`${dir}/${file}`)) ?? '')));
  return records;
}

/**
 * The issuer's CRL from its records alone (plus `extra`, records changed by the same command),
 * numbered one past the current CRL.
 */
export async function buildCrl(
  store: CaStore,
  issuer: Issuer,
  options: { now: Date; days: number; records?: CertificateRecord[] },
): Promise<FileWrite> {
  const path = crlPath(issuer.name);
  const current = await store.readText(path);
  const crlNumber = (current ? (parseCrl(current).crlNumber ?? 0) : 0) + 1;
  const records = options.records ?? (await loadRecords(store, issuer.name));
  const content = await createCrl({
    issuerPem: issuer.certificate.pem,
    signingKey: issuer.key,
    crlNumber,
    thisUpdate: options.now,
    nextUpdate: new Date(options.now.getTime() + options.days * 86_400_000),
    entries: records.flatMap((record) =>
      record.status === 'revoked' && record.revocation && record.issuer === issuer.name && record.serial !== issuer.certificate.serial
        ? [{ serial: record.serial, revokedAt: new Date(record.revocation.date), reason: record.revocation.reason }]
        : [],
    ),
  });
  return { path, content, commit: true };
}

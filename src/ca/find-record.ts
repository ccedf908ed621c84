import type { CertificateInfo } from '../pki/certificate.js';
import { normalizeSerial } from '../pki/serial.js';
import type { CaStore } from '../store/ca-store.js';
import { RECORDS_DIR, REVOKED_DIR, certPath, recordPath } from '../store/layout.js';
import type { CertificateRecord } from '../store/records.js';
import { loadCertificate } from './ca-files.js';
import { readRecord } from './certificate-record.js';
import { AlreadyRevokedError, CertifiedError, InvalidInputError, UnknownCertificateError } from './errors.js';
import { printable } from './names.js';

/** The record of a serial, whichever CA issued it: one stat per issuer, never a scan of all records. */
export async function findRecord(store: CaStore, serial: string): Promise<CertificateRecord | undefined> {
  const wanted = normalizeSerial(serial);
  for (const issuer of await store.list(RECORDS_DIR)) {
    const path = recordPath(issuer, wanted);
    const text = await store.readText(path).catch(() => undefined);
    if (text !== undefined) return readRecord(path, text);
  }
  return undefined;
}

/** The most recent revocation of `name` (its files moved to revoked/NAME-SERIAL), if any. */
export async function lastRevocation(store: CaStore, name: string): Promise<CertificateRecord | undefined> {
  const prefix = `${name}-`;
  const serials = (await store.list(REVOKED_DIR))
    .filter((entry) => entry.startsWith(prefix) && /^[0-9a-f]+$/.test(entry.slice(prefix.length)))
    .map((entry) => entry.slice(prefix.length));
  let latest: CertificateRecord | undefined;
  for (const serial of serials) {
    const record = await findRecord(store, serial);
    if (record?.revocation && (!latest?.revocation || record.revocation.date > latest.revocation.date)) latest = record;
  }
  return latest;
}

export interface LocatedCertificate {
  certificate: CertificateInfo;
  record: CertificateRecord;
}

/** The current certificate called `name` and its record; refuses unknown and revoked ones. */
export async function locateCertificate(store: CaStore, name: string): Promise<LocatedCertificate> {
  const certificate = await loadCertificate(store, name);
  if (!certificate) {
    const revoked = await lastRevocation(store, name);
    if (revoked?.revocation) throw new AlreadyRevokedError(name, revoked.serial, revoked.revocation.date);
    throw new UnknownCertificateError(name);
  }
  const record = await findRecord(store, certificate.serial);
  if (!record) {
    throw new CertifiedError(`"${certPath(name)}" has no record (serial ${certificate.serial})`, {
      code: 'NO_RECORD',
      hint: 'It was not issued by this CA, or its record was removed: restore it from git.',
    });
  }
  if (record.status === 'revoked' && record.revocation) throw new AlreadyRevokedError(name, record.serial, record.revocation.date);
  return { certificate, record };
}

/**
 * The valid record of `serial` and, when certs/NAME.crt is that certificate, the certificate. A
 * record whose name's file holds another serial (the spare left by merging two branches that
 * issued the same name) has none: it is revoked by its record alone.
 */
export async function locateSerial(store: CaStore, serial: string): Promise<{ record: CertificateRecord; certificate?: CertificateInfo }> {
  if (!/^[0-9a-fA-F][0-9a-fA-F:]{0,79}$/.test(serial)) {
    throw new InvalidInputError([{ option: 'serial' }, ` must be hexadecimal, like 3ac3526a3c731e42 (colons allowed), got "${printable(serial.slice(0, 60))}"`]);
  }
  const record = await findRecord(store, serial.replaceAll(':', ''));
  if (!record) {
    throw new CertifiedError(`there is no certificate with serial ${normalizeSerial(serial).slice(0, 40)}`, {
      code: 'UNKNOWN_SERIAL',
      hint: 'Check the serial in the finding of "certified check", or in the JSON of "certified ls".',
    });
  }
  if (record.status === 'revoked' && record.revocation) throw new AlreadyRevokedError(record.name, record.serial, record.revocation.date);
  const certificate = await loadCertificate(store, record.name);
  return certificate?.serial === record.serial ? { record, certificate } : { record };
}

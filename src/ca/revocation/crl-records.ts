import type { CaStore, FileWrite } from '../../store/ca-store.js';
import {
  RECORDS_DIR,
  REVOKED_INDEX_COMPLETE,
  REVOKED_INDEX_COMPLETE_CONTENT,
  REVOKED_DIR,
  REVOKED_INDEX_DIR,
  recordPath,
  recordsDir,
  revokedIndexDir,
  revokedIndexPath,
} from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { readRecord } from '../certificate-record.js';

/** Every record of an issuer (read synchronously: for thousands of small files that is several times faster). */
export async function loadRecords(store: CaStore, issuer: string): Promise<CertificateRecord[]> {
  const dir = recordsDir(issuer);
  const paths = (await store.list(dir)).filter((file) => file.endsWith('.json')).map((file) => `${dir}/${file}`);
  return store.readTexts(paths).map((text, index) => readRecord(paths[index]!, text ?? ''));
}

/** The records a CRL is built from, and what the index of revoked certificates needs written with it. */
export interface CrlRecords {
  records: CertificateRecord[];
  /** Index entries (and its marker) to commit with the CRL; empty when the index is whole. */
  indexWrites: FileWrite[];
  indexRemoves: string[];
}

/**
 * The records of `issuer` its CRL needs: the revoked ones. With the index of revoked certificates
 * (revoked-index/<issuer>/<serial>, kept by every change that writes a record), only those the
 * index lists, plus `listed` (the serials of the current CRL) and those of revoked/NAME-SERIAL/,
 * so that a revocation made by a version of certified that kept no index, merged in from another
 * branch, is not dropped; its missing entry is written. A CA made before the index (no
 * revoked-index/.complete) reads every record once, as before, and gets the whole index, for every
 * issuer, in the same commit: the next CRL reads ~1,000 records instead of ~10,000. `full` reads every record of `issuer` regardless
 * (while resolving a merge), and writes whatever entry it finds missing.
 */
export async function loadCrlRecords(store: CaStore, issuer: string, listed: readonly string[], options: { full?: boolean } = {}): Promise<CrlRecords> {
  if (!(await store.exists(REVOKED_INDEX_COMPLETE))) return rebuildRevokedIndex(store, issuer);
  const indexed = new Set(await listOrNone(store, revokedIndexDir(issuer)));
  let records: CertificateRecord[];
  if (options.full) records = await loadRecords(store, issuer);
  else {
    // revoked/NAME-SERIAL/ (one readdir) as well: what an older certified revoked on a branch merged
    // in, whose CRL the merge driver may not have kept. Not enough alone: a record revoked by serial
    // moves no files, and nothing keeps anyone from clearing out revoked/.
    const moved = (await listOrNone(store, REVOKED_DIR)).map((dir) => dir.slice(dir.lastIndexOf('-') + 1)).filter((serial) => HEX.test(serial));
    const serials = [...new Set([...indexed, ...listed, ...moved])];
    const paths = serials.map((serial) => recordPath(issuer, serial));
    records = store.readTexts(paths).flatMap((text, index) => (text === undefined ? [] : [readRecord(paths[index]!, text)]));
  }
  const indexWrites = records
    .filter((record) => record.status === 'revoked' && !indexed.has(record.serial))
    .map((record) => indexEntry(issuer, record.serial));
  return { records, indexWrites, indexRemoves: [] };
}

/**
 * Every record of every issuer, the index of revoked certificates written in full (missing
 * entries added, stale ones removed) with its marker: what an older CA gets the first time a CRL
 * is built, and what "certified check" points to when the index is wrong. Returns `issuer`'s records.
 */
export async function rebuildRevokedIndex(store: CaStore, issuer: string): Promise<CrlRecords> {
  const indexWrites: FileWrite[] = [];
  const indexRemoves: string[] = [];
  let mine: CertificateRecord[] = [];
  const issuers = new Set([...(await store.list(RECORDS_DIR)), ...(await listOrNone(store, REVOKED_INDEX_DIR)).filter((name) => !name.startsWith('.'))]);
  for (const name of issuers) {
    const records = await loadRecords(store, name);
    if (name === issuer) mine = records;
    const revoked = new Set(records.filter((record) => record.status === 'revoked').map((record) => record.serial));
    const indexed = new Set(await listOrNone(store, revokedIndexDir(name)));
    for (const serial of revoked) if (!indexed.has(serial)) indexWrites.push(indexEntry(name, serial));
    for (const serial of indexed) if (!revoked.has(serial)) indexRemoves.push(revokedIndexPath(name, serial));
  }
  indexWrites.push({ path: REVOKED_INDEX_COMPLETE, content: REVOKED_INDEX_COMPLETE_CONTENT, commit: true });
  return { records: mine, indexWrites, indexRemoves };
}

const HEX = /^[0-9a-f]+$/;

/**
 * The names in a directory of the index or of revoked/, none where a file is in its place: the
 * change that writes there then refuses it with its own message (see refuseUnsafeFolders).
 */
async function listOrNone(store: CaStore, dir: string): Promise<string[]> {
  return store.list(dir).catch(() => []);
}

const indexEntry = (issuer: string, serial: string): FileWrite => ({ path: revokedIndexPath(issuer, serial), content: '', commit: true });

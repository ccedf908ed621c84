import type { CaStore } from '../../store/ca-store.js';
import { gitMatchesUnder } from '../../store/git.js';
import { INTERMEDIATE_NAME, RECORDS_DIR, REVOKED_INDEX_DIR, recordPath } from '../../store/layout.js';
import { parseRecord, type CertificateRecord } from '../../store/records.js';
import type { CaConfig } from '../config.js';
import { finding, type Finding } from './check-findings.js';
import { checkRecordPlace } from './check-records.js';
import { ROTATION_NAMES, scopeOfChanges, type ChangedFiles, type CheckScope, type FullCheck } from './check-scope.js';

/** The records check read, where each is, and what every record (read or not) says of issuers. */
export interface LoadedRecords {
  records: CertificateRecord[];
  paths: Map<CertificateRecord, string>;
  /** Every `issuer` the records name: the certificates that may issue, decoded first. */
  issuers: Set<string>;
  /** With `since`: what the changes affect, or why the whole CA is checked. */
  scoped?: CheckScope | FullCheck;
  /** The record a certificate's serial leads to, as among all records (the last of that serial); absent when all were read. */
  recordOfSerial?: (serial: string) => CertificateRecord | undefined;
}

// Files are read with store.readTexts, a batch at a time (one at a time when a batch fails, so that
// an unreadable one is a finding): for thousands of small files, synchronous reads are several
// times faster than awaited ones.
/** Records read in one call: a few hundred, so that git's output (check --since) keeps flowing in between. */
const RECORDS_AT_ONCE = 250;

/** Every records/ISSUER/SERIAL.json, issuer folders and files sorted: the order check reads them in. */
export async function listRecordPaths(store: CaStore): Promise<string[]> {
  const paths: string[] = [];
  for (const issuer of await store.list(RECORDS_DIR)) {
    for (const file of await store.list(`${RECORDS_DIR}/${issuer}`)) {
      if (file.endsWith('.json')) paths.push(`${RECORDS_DIR}/${issuer}/${file}`);
    }
  }
  return paths;
}

/** Reads and parses `paths` (findings for unreadable and misplaced records), calling `take` with each record in their order. */
async function readRecords(store: CaStore, paths: string[], findings: Finding[], take: (record: CertificateRecord, path: string) => void): Promise<void> {
  const one = (path: string, read: () => string | undefined) => {
    try {
      const record = parseRecord(read() ?? '');
      take(record, path);
      findings.push(...checkRecordPlace(record, path));
    } catch (error) {
      findings.push(finding(path, 'unreadable', `not a record: ${(error as Error).message}`));
    }
  };
  for (let at = 0; at < paths.length; at += RECORDS_AT_ONCE) {
    // Between batches, let the event loop go on with git (check --since asks it while this reads).
    if (at) await new Promise((resolve) => setImmediate(resolve));
    const batch = paths.slice(at, at + RECORDS_AT_ONCE);
    let texts: (string | undefined)[] | undefined;
    try {
      texts = store.readTexts(batch);
    } catch {
      // A file that cannot be read: each one alone, so that only it is a finding.
      texts = undefined;
    }
    batch.forEach((path, index) => one(path, texts ? () => texts[index] : () => store.readTexts([path])[0]));
  }
}

/** Every record of the CA. */
export async function loadAllRecords(store: CaStore, findings: Finding[], listed?: string[]): Promise<LoadedRecords> {
  const records: CertificateRecord[] = [];
  const paths = new Map<CertificateRecord, string>();
  await readRecords(store, listed ?? (await listRecordPaths(store)), findings, (record, path) => {
    records.push(record);
    paths.set(record, path);
  });
  return { records, paths, issuers: new Set(records.map((record) => record.issuer)) };
}

/**
 * What `git grep` shows of a record: its `name`, `issuer`, `serial` and `status` members, whole
 * when each is a plain JSON string on the key's line, else the key alone; any backslash (an escape
 * could spell anything). A record is known by these without being read only when all four are
 * plain, each once, and the issuer and serial are where it is stored.
 */
const MEMBERS_PATTERN = String.raw`"(?:name|issuer|serial|status)"(?:\s*:\s*"[^"\\]*")?|\\`;
const MEMBER = /^"(name|issuer|serial|status)"\s*:\s*"([^"\\]*)"$/;

/** What check knows of a plainly written record without reading it (besides its issuer and serial, which are where it is stored). */
export interface ScannedRecord {
  name: string;
  status: string;
}

type MemberKey = 'name' | 'issuer' | 'serial' | 'status';
const PREFIXES: Record<MemberKey, string> = { name: '"name": "', issuer: '"issuer": "', serial: '"serial": "', status: '"status": "' };

/** The member a match of MEMBERS_PATTERN is of (by its first letters; a backslash gives "status", whose value it then lacks). */
function keyOf(match: string): MemberKey {
  const first = match[1];
  return first === 'n' ? 'name' : first === 'i' ? 'issuer' : match[2] === 'e' ? 'serial' : 'status';
}

/** The plain string value of a match of `key`'s member, or undefined. As certified writes it, without a regular expression (40,000 matches at 10,000 records). */
function valueOf(match: string, key: MemberKey): string | undefined {
  const prefix = PREFIXES[key];
  if (match.startsWith(prefix) && match.indexOf('"', prefix.length) === match.length - 1) return match.slice(prefix.length, -1);
  const member = MEMBER.exec(match);
  return member?.[1] === key ? member[2] : undefined;
}

/** Each plainly written record (see MEMBERS_PATTERN), by path; undefined when git cannot tell. */
export async function scanRecords(store: CaStore): Promise<Map<string, ScannedRecord> | undefined> {
  const scanned = new Map<string, ScannedRecord>();
  // The file whose matches are coming: its four members, each seen once, or not plain.
  let path = '';
  let plain = false;
  const members: Record<MemberKey, string | undefined> = { name: undefined, issuer: undefined, serial: undefined, status: undefined };
  const done = () => {
    const { name, issuer, serial, status } = members;
    if (!plain || name === undefined || issuer === undefined || serial === undefined || status === undefined) return;
    if (!`${issuer}${serial}`.includes('/') && path === `${RECORDS_DIR}/${issuer}/${serial}.json`) scanned.set(path, { name, status });
  };
  try {
    await gitMatchesUnder(store.dir, RECORDS_DIR, MEMBERS_PATTERN, (file, match) => {
      if (file !== path) {
        done();
        path = file;
        plain = true;
        members.name = members.issuer = members.serial = members.status = undefined;
      }
      if (!plain) return;
      const key = keyOf(match);
      const value = valueOf(match, key);
      if (value === undefined || members[key] !== undefined) plain = false;
      else members[key] = value;
    });
  } catch {
    return undefined;
  }
  done();
  return scanned;
}

/** Names a changed path is about: certs/NAME.crt, certs/NAME.chain.crt, private/NAME.key, csr/NAME.csr (a superset is harmless). */
function namesOfPath(path: string): string[] {
  const match = /^(?:certs|private|csr)\/([^/]+?)(?:\.chain\.crt|\.crt|\.key|\.csr)$/.exec(path);
  return match ? [match[1]!] : [];
}

/**
 * The records a `check --since` needs, without reading the thousands it does not: the changed
 * ones, every record of a certificate the changes affect (all of them, so that a name two valid
 * records hold is still found), of every CA above those and of the rotation, every revoked record
 * of a CA whose CRL is in scope, and any record `git grep` cannot vouch for (scanRecords; an
 * untracked one too); of the others only their issuer (their folder) and serial (their file name)
 * are used. The findings are those of reading every record, restricted to what the scope covers:
 * when that cannot be told from fewer records (the whole CA is checked, a record was deleted, git
 * could not scan), every record is read.
 */
export async function loadRecordsSince(store: CaStore, config: CaConfig, changes: Promise<ChangedFiles>, scanning: Promise<Map<string, ScannedRecord> | undefined>, findings: Finding[]): Promise<LoadedRecords> {
  const all = await listRecordPaths(store);
  const changed = await changes;
  const scanned = await scanning;
  const everything = async (): Promise<LoadedRecords> => {
    const loaded = await loadAllRecords(store, findings, all);
    return { ...loaded, scoped: await scopeOfChanges(store, config, Promise.resolve(changed), loaded.records, loaded.paths) };
  };
  const exists = new Set(all);
  const changedRecords = changed.paths.filter((path) => path.startsWith(`${RECORDS_DIR}/`) && path.endsWith('.json'));
  if (!scanned || changedRecords.some((path) => !exists.has(path))) return everything();

  const read = new Map<string, CertificateRecord | undefined>();
  // What reading these found, reported unless every record is read after all.
  const found: Finding[] = [];
  const load = async (paths: string[]) => {
    const wanted = paths.filter((path) => exists.has(path) && !read.has(path));
    for (const path of wanted) read.set(path, undefined);
    await readRecords(store, wanted, found, (record, path) => read.set(path, record));
  };
  const byFolder = new Map<string, string[]>();
  for (const path of all) {
    const folder = path.split('/')[1]!;
    const list = byFolder.get(folder);
    if (list) list.push(path);
    else byFolder.set(folder, [path]);
  }
  const nameOf = (path: string) => (read.has(path) ? read.get(path)?.name : scanned.get(path)?.name);

  await load(all.filter((path) => !scanned.has(path)));
  await load(changedRecords);
  // An entry of the revoked index is judged against the record stored at its place.
  for (const path of changed.paths) {
    const [top, issuer, serial, ...deeper] = path.split('/');
    if (top === REVOKED_INDEX_DIR && issuer && serial && !deeper.length) await load([recordPath(issuer, serial)]);
  }
  // Everything below what changed (what scopeOfChanges may add), read: records/NAME/ holds what NAME issued.
  const recordNames = changedRecords.map((path) => read.get(path)?.name).filter((name): name is string => typeof name === 'string');
  const below = new Set([...changed.paths.flatMap(namesOfPath), ...recordNames]);
  const queue = [...below];
  while (queue.length) {
    const name = queue.pop()!;
    const children = [...(byFolder.get(name) ?? []), ...[...read].filter(([, record]) => record?.issuer === name).map(([path]) => path)];
    await load(children);
    if (read.size > all.length / 4) return everything();
    for (const path of children) {
      const child = nameOf(path);
      if (typeof child === 'string' && !below.has(child)) {
        below.add(child);
        queue.push(child);
      }
    }
  }
  const current = () => {
    const records: CertificateRecord[] = [];
    const paths = new Map<CertificateRecord, string>();
    for (const path of all) {
      const record = read.get(path);
      if (record) {
        records.push(record);
        paths.set(record, path);
      }
    }
    return { records, paths };
  };
  const partial = current();
  const scoped = await scopeOfChanges(store, config, Promise.resolve(changed), partial.records, partial.paths);
  if ('fallback' in scoped) return everything();
  // A CRL is compared with every revoked record of its CA: those not read are plain, so in its folder.
  for (const ca of scoped.crls) await load((byFolder.get(ca) ?? []).filter((path) => scanned.get(path)?.status !== 'valid'));

  // Every record of a name in scope, of an issuer (up to the root) and of the rotation.
  // Plain records not read are issued by their folder; those read, by what they say.
  const issuers = () => new Set([...[...byFolder].filter(([, paths]) => paths.some((path) => !read.has(path))).map(([folder]) => folder), ...[...read.values()].map((record) => record?.issuer)]);
  for (let wanted = new Set<unknown>(); ; ) {
    const names = new Set<unknown>([...scoped.names, ...issuers(), ...ROTATION_NAMES, INTERMEDIATE_NAME]);
    if (names.size === wanted.size) break;
    wanted = names;
    await load(all.filter((path) => names.has(nameOf(path))));
  }
  const { records, paths } = current();
  const folders = [...byFolder.keys()];
  // In the order the records are listed in: by folder, then by file name (as store.list sorts).
  const listed = (a: string, b: string) => {
    const [, folderA = '', fileA = ''] = a.split('/');
    const [, folderB = '', fileB = ''] = b.split('/');
    return folderA === folderB ? (fileA < fileB ? -1 : fileA > fileB ? 1 : 0) : folders.indexOf(folderA) - folders.indexOf(folderB);
  };
  /** The last record of `serial` among all, as when all are read: a plain record not read holds the serial its file is named after. */
  const recordOfSerial = (serial: string) => {
    for (const path of folders.map((folder) => recordPath(folder, serial))) {
      if (!exists.has(path) || read.has(path)) continue;
      // Synchronous: a plain record is small, and the judge asks while it judges.
      read.set(path, undefined);
      try {
        const record = parseRecord(store.readTexts([path])[0] ?? '');
        read.set(path, record);
        paths.set(record, path);
      } catch {
        // Unreadable: its finding is outside the scope (it did not change).
      }
    }
    const holding = [...read].filter(([, record]) => record !== undefined && `${record.serial}` === serial).map(([path]) => path);
    const last = holding.sort(listed).pop();
    return last === undefined ? undefined : read.get(last);
  };
  findings.push(...found);
  return { records, paths, issuers: new Set([...issuers()].filter((issuer) => typeof issuer === 'string')), scoped, recordOfSerial };
}

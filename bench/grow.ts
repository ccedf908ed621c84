/**
 * Grows a CA to thousands of certificates in one process through the library (the same
 * prepareIssue the CLI's issue command runs, so the same files and records), instead of thousands
 * of processes. Files are written directly (no per-file fsync, no journal) and committed once.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../src/ca/ca-files.js';
import { noPassword } from '../src/ca/passwords.js';
import { loadIssuer } from '../src/ca/load-issuer.js';
import { prepareIssue } from '../src/ca/issuing/issue-certificate.js';
import { CaStore, type FileWrite } from '../src/store/ca-store.js';
import { INTERMEDIATE_NAME, certPath, chainPath, csrPath, keyPath, recordPath, revokedDir } from '../src/store/layout.js';
import { parseRecord, serializeRecord, type CertificateRecord } from '../src/store/records.js';
import { git } from './measure.js';

const openBench = (dir: string) => CaStore.open(dir, { lockTimeoutMs: 60_000 });

async function writeOne(dir: string, write: FileWrite): Promise<void> {
  const path = join(dir, write.path);
  await mkdir(dirname(path), { recursive: true, mode: write.private ? 0o700 : 0o755 });
  await writeFile(path, write.content, { mode: write.private ? 0o600 : 0o644 });
}

/** Runs `work` over 0..count-1 with `concurrency` in flight (WebCrypto signs on libuv's threads). */
async function pool(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await work(next++);
  });
  await Promise.all(lanes);
}

export const hostName = (index: number): string => `host-${String(index).padStart(5, '0')}`;

/**
 * Issues certificates host-<first>..host-<first+count-1> (ECDSA P-256, server+client, one DNS SAN)
 * into `dir`, spread over one worker thread per core when there are many.
 */
export async function issueMany(dir: string, first: number, count: number): Promise<CertificateRecord[]> {
  const workers = count >= 200 ? availableParallelism() : 1;
  if (workers === 1) return issueRange(dir, first, count);
  const share = Math.ceil(count / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, index) => {
      const start = first + index * share;
      const size = Math.max(0, Math.min(share, first + count - start));
      return new Promise<CertificateRecord[]>((resolve, reject) => {
        const worker = new Worker(new URL('./grow-worker.js', import.meta.url), { workerData: { dir, first: start, count: size } });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  return parts.flat();
}

/** issueMany in this thread. */
export async function issueRange(dir: string, first: number, count: number): Promise<CertificateRecord[]> {
  const store = openBench(dir);
  const config = await loadConfig(store);
  const issuer = await loadIssuer(store, INTERMEDIATE_NAME, noPassword);
  const records: CertificateRecord[] = [];
  await pool(count, 16, async (offset) => {
    const name = hostName(first + offset);
    const prepared = await prepareIssue(store, config, issuer, {
      name,
      subject: { CN: `${name}.example.com` },
      sans: [{ type: 'dns', value: `${name}.example.com` }],
      profile: 'server+client',
      key: { type: 'ecdsa', curve: 'P-256' },
      days: 365,
    });
    for (const write of prepared.writes) await writeOne(dir, write);
    records.push(prepared.record);
  });
  return records;
}

/** One commit of everything, then a gc as a long-lived repository would have had by itself. */
export function commitAll(dir: string, message: string): void {
  git(dir, ['add', '-A', '.']);
  // No automatic gc in the background: it would still be running when the timed commands start.
  git(dir, ['-c', 'gc.auto=0', '-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-q', '--no-verify', '-m', message]);
  git(dir, ['gc', '-q']);
  // Files written in the same second as the index are "racily clean": until the index is
  // refreshed, every git command re-reads all of them (0.6 s at 40,000 files). A CA grown over
  // months has no such files, and any `git status` refreshes the index; so does this.
  git(dir, ['update-index', '-q', '--refresh']);
}

interface PreparedRevocationLike {
  writes: FileWrite[];
  moves: { from: string; to: string }[];
}
type PrepareRevocation = (
  store: CaStore,
  issuer: string | undefined,
  target: string,
  reason: string,
  now: Date,
) => Promise<PreparedRevocationLike>;

/**
 * Marks certificates revoked as `certified --revoke` does, without re-signing the CRL each time:
 * with the library's prepareRevocation when it is built, otherwise by the documented layout
 * (record status and revocation, files moved to revoked/NAME-SERIAL/). The next real revoke or
 * `certified crl` signs a CRL listing all of them.
 */
export async function revokeMany(dir: string, records: CertificateRecord[]): Promise<void> {
  const store = openBench(dir);
  const now = new Date();
  let prepare: PrepareRevocation | undefined;
  try {
    const module = (await import(['..', 'src', 'ca', 'revoke-certificate.js'].join('/'))) as { prepareRevocation?: PrepareRevocation };
    prepare = module.prepareRevocation;
  } catch {
    prepare = undefined;
  }
  for (const record of records) {
    const prepared: PreparedRevocationLike = prepare
      ? await prepare(store, undefined, record.name, 'superseded', now)
      : await simulateRevocation(dir, record, now);
    for (const move of prepared.moves) {
      await mkdir(dirname(join(dir, move.to)), { recursive: true });
      await rename(join(dir, move.from), join(dir, move.to));
    }
    for (const write of prepared.writes) await writeOne(dir, write);
  }
}

async function simulateRevocation(dir: string, record: CertificateRecord, now: Date): Promise<PreparedRevocationLike> {
  const current = parseRecord(await readFile(join(dir, recordPath(record.issuer, record.serial)), 'utf8'));
  const revoked: CertificateRecord = { ...current, status: 'revoked', revocation: { date: now.toISOString(), reason: 'superseded' } };
  const target = revokedDir(record.name, record.serial);
  return {
    writes: [{ path: recordPath(record.issuer, record.serial), content: serializeRecord(revoked), commit: true }],
    moves: [
      ...[certPath(record.name), chainPath(record.name), csrPath(record.name)].map((from) => ({
        from,
        to: `${target}/${from.split('/').pop() ?? from}`,
      })),
      // The unencrypted key stays under private/, git-ignored.
      { from: keyPath(record.name), to: `private/revoked/${record.name}-${record.serial}.key` },
    ],
  };
}

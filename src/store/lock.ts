import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, rm, stat, writeFile } from 'node:fs/promises';
import { READ_LIMITS, readBounded } from './bounded-read.js';
import { join } from 'node:path';
import { StoreWriteError } from './errors.js';
import { LOCK_FILE } from './layout.js';

/** The content of the lock file (one JSON line); a test helper may write it to hold the lock. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  token: string;
}

export interface LockOptions {
  timeoutMs: number;
  /** Called once when the lock has been held by another process for `noticeAfterMs`. */
  onWait?: (holder: LockHolder) => void;
  noticeAfterMs?: number;
}

export class LockTimeoutError extends Error {
  constructor(readonly dir: string, readonly holder: LockHolder | undefined, readonly timeoutMs: number) {
    super('timed out waiting for the lock');
  }
}

export interface Lock {
  release(): Promise<void>;
}

/** A takeover guard older than this belongs to a process that died while taking over. */
const GUARD_STALE_MS = 10_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse((await readBounded(path, READ_LIMITS.lock)).toString('utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates `path` with `content` only if it does not exist, atomically: the content is written to a
 * temp file first and hard-linked into place, so no reader ever sees an empty lock file.
 */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
  try {
    await writeFile(temp, content, { flag: 'wx', mode: 0o644 });
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreWriteError('create the lock', LOCK_FILE, error);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * An exclusive lock file in the CA directory. A lock whose process is gone (same host) is stale
 * and taken over; a live one is waited for until the timeout.
 */
export async function acquireLock(dir: string, options: LockOptions): Promise<Lock> {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const started = Date.now();
  let noticed = false;
  for (;;) {
    if (await createExclusive(path, `${JSON.stringify(me)}\n`)) return { release: () => releaseLock(path, me.token) };
    const holder = await readHolder(path);
    if (holder && holder.host === me.host && !isAlive(holder.pid)) {
      await takeOverStale(path, holder);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) throw new LockTimeoutError(dir, holder, options.timeoutMs);
    if (!noticed && holder && waited >= (options.noticeAfterMs ?? 3000)) {
      noticed = true;
      options.onWait?.(holder);
    }
    await sleep(25 + Math.random() * 50);
  }
}

/**
 * Removes a stale lock. Takeovers are serialized by a guard file, so that two processes that both
 * saw the same dead holder cannot remove a lock a third has meanwhile taken.
 */
async function takeOverStale(path: string, stale: LockHolder): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, `${process.pid}\n`))) {
    const age = await stat(guard).then((stats) => Date.now() - stats.mtimeMs, () => 0);
    if (age > GUARD_STALE_MS) await rm(guard, { force: true });
    return;
  }
  try {
    const current = await readHolder(path);
    if (current?.token === stale.token) await rm(path, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  const holder = await readHolder(path);
  if (holder?.token === token) await rm(path, { force: true });
}

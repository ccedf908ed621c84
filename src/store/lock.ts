import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK_FILE } from './layout.js';

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
  constructor(readonly holder: LockHolder | undefined, readonly timeoutMs: number) {
    super('timed out waiting for the lock');
  }
}

export interface Lock {
  release(): Promise<void>;
}

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
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    try {
      const handle = await open(path, 'wx', 0o644);
      await handle.writeFile(`${JSON.stringify(me)}\n`);
      await handle.close();
      return { release: () => releaseLock(path, me.token) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (holder && holder.host === me.host && !isAlive(holder.pid)) {
      await takeOverStale(path, holder);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) throw new LockTimeoutError(holder, options.timeoutMs);
    if (!noticed && holder && waited >= (options.noticeAfterMs ?? 3000)) {
      noticed = true;
      options.onWait?.(holder);
    }
    await sleep(25 + Math.random() * 50);
  }
}

/** Moves a stale lock aside; if another process replaced it meanwhile, puts that one back. */
async function takeOverStale(path: string, stale: LockHolder): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await readHolder(aside);
  if (moved && moved.token !== stale.token) {
    await link(aside, path).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

async function releaseLock(path: string, token: string): Promise<void> {
  const holder = await readHolder(path);
  if (holder?.token === token) await rm(path, { force: true });
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { closeSync, fstatSync, linkSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreWriteError } from './errors.js';
import { LOCK_FILE } from './layout.js';

/** The content of the lock file (one JSON line); a test helper may write it to hold the lock. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  token: string;
  /** The holder's process start time (Linux: field 22 of /proc/<pid>/stat), which tells a reused pid. */
  started?: string;
  /** The boot id (Linux): a lock from before a restart is stale whatever its pid. */
  boot?: string;
}

export interface LockOptions {
  timeoutMs: number;
  /** Called once when the lock has been held by another process for `noticeAfterMs`. */
  onWait?: (holder: LockHolder) => void;
  noticeAfterMs?: number;
}

export class LockTimeoutError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
    readonly timeoutMs: number,
    /** The lock file, for the hint: what to remove if its holder is gone. */
    readonly path = join(dir, LOCK_FILE),
  ) {
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

/** A lock file whose content is not a lock certified wrote is stale once it is this old. */
const GARBAGE_STALE_MS = 5_000;

/** The lock file as read: its raw content (to take over exactly it), its holder when it parses, its age. */
interface LockState {
  raw: string;
  holder: LockHolder | undefined;
  ageMs: number;
}

/**
 * The lock's small files are read and written synchronously: in a server, each await of a file
 * operation waits behind every request queued meanwhile, and the lock is taken at every commit.
 */
function readLock(path: string): LockState | undefined {
  let raw: string;
  let ageMs: number;
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(4096);
      const bytesRead = readSync(fd, buffer, 0, buffer.length, 0);
      raw = buffer.subarray(0, bytesRead).toString('utf8');
      ageMs = Date.now() - fstatSync(fd).mtimeMs;
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // released meanwhile
    // There but unreadable (another user's 0600 file, a directory): held by someone unknown, never
    // stale, so the caller waits for its timeout instead of trying again at once, forever.
    return { raw: '', holder: undefined, ageMs: 0 };
  }
  return { raw, holder: parseHolder(raw), ageMs };
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockHolder>;
    const optional = (field: unknown) => field === undefined || typeof field === 'string';
    if (typeof value !== 'object' || value === null) return undefined;
    if (!Number.isSafeInteger(value.pid) || (value.pid ?? 0) <= 0 || typeof value.host !== 'string' || typeof value.token !== 'string') return undefined;
    if (typeof value.since !== 'string' || !optional(value.started) || !optional(value.boot)) return undefined;
    return value as LockHolder;
  } catch {
    return undefined;
  }
}

function readHolder(path: string): LockHolder | undefined {
  return readLock(path)?.holder;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux or when gone. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function processCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a lock is stale, or undefined when it may be held: garbage older than a few seconds; on this
 * host, a holder from before a restart, whose process is gone, or whose pid now belongs to another
 * process (another start time; for a lock that recorded none, a program that is not certified).
 * A lock from another host is never stale: its process cannot be seen from here.
 */
export function staleLockReason(lock: LockState, me: Pick<LockHolder, 'host' | 'boot'>): string | undefined {
  const holder = lock.holder;
  if (!holder) return lock.ageMs > GARBAGE_STALE_MS ? 'it is not a lock certified wrote' : undefined;
  if (holder.host !== me.host) return undefined;
  if (holder.boot !== undefined && me.boot !== undefined && holder.boot !== me.boot) return 'the machine restarted since';
  if (!isAlive(holder.pid)) return 'its process is gone';
  if (holder.started !== undefined) {
    const started = processStart(holder.pid);
    return started !== undefined && started !== holder.started ? 'its process id now belongs to another process' : undefined;
  }
  const command = processCommandLine(holder.pid);
  return command !== undefined && !command.includes('certified') ? 'its process id belongs to another program' : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates `path` with `content` only if it does not exist, atomically: the content is written to a
 * temp file first and hard-linked into place, so no reader ever sees an empty lock file.
 */
function createExclusive(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
  try {
    writeFileSync(temp, content, { flag: 'wx', mode: 0o644 });
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreWriteError('create the lock', LOCK_FILE, error);
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * An exclusive lock file in the CA directory. A lock whose process is gone (same host) is stale
 * and taken over; a live one is waited for until the timeout.
 */
export async function acquireLock(dir: string, options: LockOptions): Promise<Lock> {
  const path = join(dir, LOCK_FILE);
  const started = processStart(process.pid);
  const boot = bootId();
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
    ...(started === undefined ? {} : { started }),
    ...(boot === undefined ? {} : { boot }),
  };
  const waitStart = Date.now();
  let noticed = false;
  for (;;) {
    if (createExclusive(path, `${JSON.stringify(me)}\n`)) return { release: () => releaseLock(path, me.token) };
    const lock = readLock(path);
    if (!lock) continue; // released meanwhile
    const holder = lock.holder;
    if (staleLockReason(lock, me) !== undefined) {
      // Another process is taking it over: give it the time to, rather than spin.
      if (!(await takeOverStale(path, lock.raw))) await sleep(25);
      continue;
    }
    const waited = Date.now() - waitStart;
    if (waited >= options.timeoutMs) throw new LockTimeoutError(dir, holder, options.timeoutMs);
    if (!noticed && holder && waited >= (options.noticeAfterMs ?? 3000)) {
      noticed = true;
      options.onWait?.(holder);
    }
    await sleep(25 + Math.random() * 50);
  }
}

/**
 * Removes a stale lock; true when it did. Takeovers are serialized by a guard file, so that two
 * processes that both saw the same dead holder cannot remove a lock a third has meanwhile taken.
 */
async function takeOverStale(path: string, stale: string): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!createExclusive(guard, `${process.pid}\n`)) {
    const age = await stat(guard).then((stats) => Date.now() - stats.mtimeMs, () => 0);
    if (age > GUARD_STALE_MS) await rm(guard, { force: true });
    return false;
  }
  try {
    const current = readLock(path);
    if (current?.raw !== stale) return false;
    await rm(path, { force: true });
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  if (readHolder(path)?.token === token) rmSync(path, { force: true });
}

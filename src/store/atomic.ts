import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm, statfs } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { childEnv } from './child-env.js';
import { forEachConcurrently } from './concurrently.js';
import { TEMP_SUFFIX } from './layout.js';
import { runProgram } from './spawn.js';

export interface WriteOptions {
  mode?: number;
  dirMode?: number;
}

/** Random per process, then counted: a temporary name costs no random bytes of its own. */
let tempToken: string | undefined;
let tempCount = 0;

function tempPath(path: string): string {
  tempToken ??= randomBytes(4).toString('hex');
  return join(dirname(path), `.${basename(path)}.${process.pid}.${tempToken}${(tempCount++).toString(36)}${TEMP_SUFFIX}`);
}

/** Writes a file so that readers see the old content or the new, never a part: temp file, fsync, rename. */
export async function writeFileAtomic(path: string, content: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: options.dirMode ?? 0o755 });
  const temp = tempPath(path);
  const handle = await open(temp, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/**
 * writeFileAtomic done synchronously, fsyncs included, for one small file written at every change
 * (the journal): in a server, each await of a file operation waits behind every request queued
 * meanwhile, and writeFileAtomic takes nine of them.
 */
export function writeFileAtomicSync(path: string, content: string | Uint8Array, options: WriteOptions = {}): void {
  writeThenRenameSync(path, content, options, true);
  syncDirectorySync(dirname(path));
}

/** The temp file written (and fsynced when `durable`), then renamed to `path`; the temp file removed on failure. */
function writeThenRenameSync(path: string, content: string | Uint8Array, options: WriteOptions, durable: boolean, madeDirs?: Set<string>): void {
  const dir = dirname(path);
  if (!madeDirs?.has(dir)) {
    mkdirSync(dir, { recursive: true, mode: options.dirMode ?? 0o755 });
    madeDirs?.add(dir);
  }
  const temp = tempPath(path);
  try {
    const fd = openSync(temp, 'wx', options.mode ?? 0o644);
    try {
      writeFileSync(fd, content);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

function syncDirectorySync(dir: string): void {
  let fd;
  try {
    fd = openSync(dir, 'r');
  } catch (error) {
    if (DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    closeSync(fd);
  }
}

/** What fsync of a directory fails with where the platform or file system does not support it. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);

/**
 * Makes a rename in `dir` durable: without an fsync of the directory, a power cut can lose the new
 * name even though the file's content is on the disk. Platforms that refuse (Windows opens no
 * directory; some file systems reject the fsync) are skipped.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch (error) {
    if (DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

/**
 * writeFileAtomic without the fsync, synchronously: for thousands of files, flushed together with
 * syncFiles. `madeDirs` holds the directories already made by the same batch, made only once.
 */
export function writeFileAtomicUnsynced(path: string, content: string | Uint8Array, options: WriteOptions = {}, madeDirs?: Set<string>): void {
  writeThenRenameSync(path, content, options, false, madeDirs);
}

/**
 * Waits until files written by writeFileAtomicUnsynced are on the disk. Files git does not keep
 * (unencrypted keys: no other copy exists) are fsynced each. The committed ones (thousands in an
 * apply, dozens in an ACME group commit) are flushed on Linux with one syncfs(2) of their file
 * system, through coreutils' `sync --file-system` (Node has no binding for syncfs): 5,000 fsyncs
 * took 1.3 to 2.4 s here, one syncfs 0.2 s. syncfs does nothing on most FUSE file systems, so
 * there, elsewhere than Linux, or if it fails, every file is fsynced.
 */
export async function syncFiles(dir: string, files: { committed: string[]; uncommitted: string[] }): Promise<void> {
  const [flushed] = await Promise.all([
    process.platform === 'linux' && !(await onFuse(dir)) ? syncFileSystem(dir) : Promise.resolve(false),
    forEachConcurrently(files.uncommitted, 16, syncFile),
  ]);
  if (!flushed) await forEachConcurrently(files.committed, 16, syncFile);
  // The new names too: syncfs flushed those of the committed files with everything else.
  const renamedIn = new Set((flushed ? files.uncommitted : [...files.committed, ...files.uncommitted]).map((path) => dirname(path)));
  await forEachConcurrently([...renamedIn], 16, syncDirectory);
}

/** statfs(2)'s type of FUSE file systems, where syncfs flushes nothing. */
const FUSE_SUPER_MAGIC = 0x65735546;

async function onFuse(dir: string): Promise<boolean> {
  return statfs(dir).then((stats) => stats.type === FUSE_SUPER_MAGIC, () => true);
}

function syncFileSystem(dir: string): Promise<boolean> {
  return runProgram('sync', ['--file-system', dir], { env: childEnv() }).then(({ error }) => !error);
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

import { lstat, open, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreWriteError } from './errors.js';

/** Writes an exported secret (a .p12) as a new file, mode 0600; an existing file is never overwritten. */
export async function writeExportFile(path: string, content: Uint8Array): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    throw new StoreWriteError('create', path, error);
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Where a new file at `path` would really land: the real path of its folder (links resolved) plus
 * its name; and whether `path` itself is a symbolic link (dangling or not). A folder that does
 * not exist is left as given (creating the file fails then).
 */
export async function locateNewFile(path: string): Promise<{ real: string; isSymlink: boolean }> {
  const isSymlink = await lstat(path).then((stats) => stats.isSymbolicLink(), () => false);
  const folder = await realpath(dirname(path)).catch(() => dirname(path));
  return { real: join(folder, basename(path)), isSymlink };
}

/** A directory's path with every link resolved; as given when it does not exist. */
export async function realDirectory(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NotAFolderError, StoreWriteError } from './errors.js';

/** A folder of the CA directory is a symbolic link: files written "into" it would land elsewhere. */
export class SymlinkedFolderError extends Error {
  constructor(readonly dir: string, readonly folder: string, readonly target: string) {
    super(`"${folder}" in "${dir}" is a symbolic link`);
  }
}

/**
 * Refuses a change, before its journal and any write, when a folder on the way to any of its paths
 * (relative to the CA directory) is a symbolic link (private/ pointing elsewhere would put keys
 * outside the CA) or is not a folder at all (the change could only fail half-way). The CA
 * directory itself may be reached through links; only the folders inside it are checked, each
 * once (a large change writes thousands of files into a few folders).
 */
export function refuseUnsafeFolders(dir: string, paths: readonly string[]): void {
  const seen = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (seen.has(folder)) continue;
      seen.add(folder);
      let stats;
      try {
        stats = lstatSync(join(dir, folder));
      } catch (error) {
        // Does not exist yet: the change creates it, and nothing below it exists either.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
        throw new StoreWriteError('read', folder, error);
      }
      if (stats.isSymbolicLink()) throw new SymlinkedFolderError(dir, folder, readTarget(join(dir, folder)));
      if (!stats.isDirectory()) throw new NotAFolderError(dir, folder);
    }
  }
}

function readTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '?';
  }
}

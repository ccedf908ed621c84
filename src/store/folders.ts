import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** A folder of the CA directory is a symbolic link: files written "into" it would land elsewhere. */
export class SymlinkedFolderError extends Error {
  constructor(readonly dir: string, readonly folder: string, readonly target: string) {
    super(`"${folder}" in "${dir}" is a symbolic link`);
  }
}

/**
 * Refuses to write when a folder on the way to any of the paths (relative to the CA directory) is a
 * symbolic link: private/ or private/revoked/ pointing elsewhere would put keys outside the CA.
 * The CA directory itself may be reached through links; only the folders inside it are checked.
 * Each folder is checked once (a large change writes thousands of files into a few folders).
 */
export function refuseSymlinkedFolders(dir: string, paths: readonly string[]): void {
  const seen = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (seen.has(folder)) continue;
      seen.add(folder);
      let isLink = false;
      try {
        isLink = lstatSync(join(dir, folder)).isSymbolicLink();
      } catch {
        break; // does not exist yet: the change creates it, and nothing below it exists either
      }
      if (isLink) throw new SymlinkedFolderError(dir, folder, readTarget(join(dir, folder)));
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

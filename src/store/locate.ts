import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The nearest directory from `start` upward, to the file system root, that holds `file`. */
export function findUpward(start: string, file: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, file))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The nearest directory above `dir` that holds `file`, searched in `dir`'s git work tree only: up to
 * the directory that holds `.git` (none when `dir` holds one itself, being a repository of its own).
 */
export function findUpwardInWorkTree(dir: string, file: string): string | undefined {
  let current = resolve(dir);
  if (existsSync(join(current, '.git'))) return undefined;
  for (;;) {
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
    if (existsSync(join(current, file))) return current;
    if (existsSync(join(current, '.git'))) return undefined;
  }
}

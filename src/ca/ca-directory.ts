import { resolve } from 'node:path';
import { CaStore, type StoreOptions } from '../store/ca-store.js';
import { CONFIG_FILE } from '../store/layout.js';
import { findUpward } from '../store/locate.js';
import { DEFAULT_CA_DIRECTORY } from './layout.js';

export { CRASH_STEPS, type CaStore, type CrashStep, type ChangeNotice, type StoreOptions } from '../store/ca-store.js';
export { DEFAULT_CA_DIRECTORY };

/**
 * The CA a command works on, found the way git finds a repository: the directory named by the
 * user when there is one; else the nearest directory from `cwd` upward that holds certified.json
 * (so a command works from the root of a clone and from any folder inside the CA); else etc/ssl
 * under `cwd`.
 */
export function locateCaDirectory(cwd: string, named: string | undefined): string {
  if (named !== undefined) return resolve(cwd, named);
  return findUpward(cwd, CONFIG_FILE) ?? resolve(cwd, DEFAULT_CA_DIRECTORY);
}

/** The CA directory at `dir`: reads, and changes applied under its lock. */
export function openCaDirectory(dir: string, options: StoreOptions): CaStore {
  return CaStore.open(dir, options);
}

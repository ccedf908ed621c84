import { CaStore, type StoreOptions } from '../store/ca-store.js';

export { CRASH_STEPS, type CaStore, type CrashStep, type StoreOptions } from '../store/ca-store.js';

/** The CA directory at `dir`: reads, and changes applied under its lock. */
export function openCaDirectory(dir: string, options: StoreOptions): CaStore {
  return CaStore.open(dir, options);
}

import { resolve } from 'node:path';
import { parseSeconds } from '../ca/options.js';
import { CaStore } from '../store/ca-store.js';
import { status, warning, shown } from './output.js';

export const DEFAULT_DB = 'etc/ssl';
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 60;

export interface StoreFlags {
  db?: string;
  lockTimeout?: string;
  /** --dry-run: validate and build everything, write nothing (see CaStore's dryRun). */
  dryRun?: boolean;
}

export function caDirectory(flags: StoreFlags): string {
  return resolve(flags.db ?? process.env.CERTIFIED_DB ?? DEFAULT_DB);
}

/** The CA directory from --db, CERTIFIED_DB or etc/ssl, telling the user about waits and recoveries. */
export function openStore(flags: StoreFlags): CaStore {
  const seconds = flags.lockTimeout === undefined ? DEFAULT_LOCK_TIMEOUT_SECONDS : parseSeconds(flags.lockTimeout, '--lock-timeout');
  const dir = caDirectory(flags);
  return CaStore.open(dir, {
    lockTimeoutMs: seconds * 1000,
    dryRun: flags.dryRun === true,
    onLockWait: (holder) =>
      status(`Waiting for the lock on ${shown(dir)}, held by process ${holder.pid} since ${holder.since} (up to ${seconds} s)...`),
    onRecovered: (outcome, summary) =>
      void warning(`an earlier command was interrupted ("${summary}"): it has been ${outcome === 'finished' ? 'finished' : 'rolled back'}.`),
  });
}

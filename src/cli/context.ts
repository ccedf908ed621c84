import { hostname } from 'node:os';
import { parseSeconds } from '../ca/options.js';
import { CRASH_STEPS, locateCaDirectory, openCaDirectory, type CaStore, type CrashStep } from '../ca/ca-directory.js';
import { describeKept } from '../ca/store-errors.js';
import { status, warning, shown } from './output.js';

export const DEFAULT_LOCK_TIMEOUT_SECONDS = 60;

export interface StoreFlags {
  db?: string;
  lockTimeout?: string;
  /** --dry-run: validate and build everything, write nothing (see CaStore's dryRun). */
  dryRun?: boolean;
}

export function caDirectory(flags: StoreFlags): string {
  return locateCaDirectory(process.cwd(), flags.db ?? process.env.CERTIFIED_DB);
}

/** The CA directory (--db, CERTIFIED_DB, the nearest certified.json upward, or ./etc/ssl), telling the user about waits and recoveries. */
export function openStore(flags: StoreFlags): CaStore {
  const seconds = flags.lockTimeout === undefined ? DEFAULT_LOCK_TIMEOUT_SECONDS : parseSeconds(flags.lockTimeout, 'lockTimeout');
  const dir = caDirectory(flags);
  return openCaDirectory(dir, {
    lockTimeoutMs: seconds * 1000,
    dryRun: flags.dryRun === true,
    ...crashHook(),
    onLockWait: (holder) =>
      status(`Waiting for the lock on ${shown(dir)}, held by process ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''} since ${holder.since} (up to ${seconds} s)...`),
    onRecovered: (outcome, summary, kept) =>
      void warning(
        `an earlier command was interrupted ("${summary}"): it has been ${outcome === 'finished' ? 'finished' : 'rolled back'}` +
          (kept.length ? `, except that ${describeKept(kept)}. Look at "git status" in ${shown(dir)} and commit or remove them.` : '.'),
      ),
    onCommitNotice: (notice) =>
      void warning(
        notice.kind === 'detached-head'
          ? `the commit ${notice.commit.slice(0, 12)} is on no branch (HEAD is detached): keep it on a new branch with "git switch -c NAME".`
          : `a git hook rewrote the message of commit ${notice.commit.slice(0, 12)} and dropped its trailers (${notice.missing.join(', ')}), so "certified log" cannot tell what it did. Let the commit-msg hook keep the "Certified-" lines at the end of the message.`,
      ),
  });
}

/**
 * Test hook: CERTIFIED_TEST_CRASH_AT=<step> (after-journal, after-writes,
 * after-commit-before-journal-clear) makes the store SIGKILL this process at that step, so the
 * crash tests hit the window between writes and commit deterministically. Unset in normal use.
 */
function crashHook(): { crashAt?: CrashStep } {
  const step = process.env.CERTIFIED_TEST_CRASH_AT;
  return step !== undefined && (CRASH_STEPS as readonly string[]).includes(step) ? { crashAt: step as CrashStep } : {};
}

/**
 * Says on stderr that a change a killed command left is pending (readers take no lock, so they
 * see its uncommitted files as if they were the CA).
 */
export async function warnPendingChange(store: CaStore): Promise<void> {
  const pending = await store.pendingChange();
  if (!pending) return;
  const what = pending.summary === undefined ? `an interrupted change left an unreadable journal "${pending.path}"` : `an interrupted change ("${pending.summary}") is neither committed nor rolled back`;
  await warning(`${what}: what is shown may include its uncommitted certificates. Run any command that changes the CA (e.g. "certified crl") to finish or roll it back.`);
}

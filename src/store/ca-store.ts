import { mkdirSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { JournalledChange, type ChangeResult, type ChangeSet, type CrashStep } from './change.js';
import { PendingChangeError, StoreWriteError } from './errors.js';
import { gitCommitNotices, type CommitNotice } from './git-notices.js';
import { findGitDirs, gitCommittedText, gitHead, gitParentOf, readHeadOf } from './git.js';
import { READ_LIMITS, ReadTooLargeError, readKindOf } from './bounded-read.js';
import { gitOperationUnderWay, gitUnmergedPaths, gitUnmergedVersion, type GitOperation } from './git-merge.js';
import { CorruptJournalError, readJournal } from './journal.js';
import { JOURNAL_FILE } from './layout.js';
import { acquireLock, type Lock, type LockHolder } from './lock.js';
import { CaReader } from './reader.js';
import { withRevokedIndex } from './revoked-index.js';
import type { RollbackReport } from './rollback.js';
import { startSpawnHelper } from './spawn.js';

export { StoreWriteError } from './errors.js';
export type { CommitNotice } from './git-notices.js';
export type { RollbackReport } from './rollback.js';
export { CRASH_STEPS, type ChangeResult, type ChangeSet, type CrashStep, type FileWrite } from './change.js';

export interface StoreEvents {
  onLockWait?: (holder: LockHolder) => void;
  /** `kept`: files the rollback left because git holds them or they changed since (see rollBackChange). */
  onRecovered?: (outcome: 'finished' | 'rolled back', summary: string, kept: RollbackReport['kept']) => void;
  /** After a commit: it is on no branch, or a hook dropped its trailers (see gitCommitNotices). */
  onCommitNotice?: (notice: CommitNotice) => void;
}

export interface StoreOptions extends StoreEvents {
  lockTimeoutMs: number;
  /** Validate and build everything, write nothing: apply() returns without touching the disk. */
  dryRun?: boolean;
  /** Test hook only (read in cli/): SIGKILL this process at a step of apply(). */
  crashAt?: CrashStep;
}

/** Removes `dir` and its parents up to `top` while they are empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let current = dir; current.startsWith(top); current = dirname(current)) {
    if (!(await rmdir(current).then(() => true, () => false))) return;
    if (current === top) return;
  }
}

/** What creating a file in a directory one may only read fails with. */
const READ_ONLY_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS']);

const UNENCRYPTED_KEY = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/;

/**
 * What listeners hear of this store's changes: a commit it made (the commit before it, and the
 * paths it wrote, removed or moved), or a change undone (`rolledBack`: its paths, which readers
 * may have seen written meanwhile; empty when what happened is not known).
 */
export type ChangeNotice = { parent: string | undefined; commit: string; paths: string[] } | { rolledBack: string[] };

/** The CA directory: reads, and changes applied under the lock, journalled and committed as one. */
export class CaStore extends CaReader {
  private readonly change: JournalledChange;
  private readonly commitListeners = new Set<(commit: ChangeNotice) => void>();
  private gitDirs: Promise<{ gitDir: string; commonDir: string } | null> | undefined;
  /** Set while apply() commits for listeners: HEAD as the change found it (see apply). */
  private headWhileCommitting: { head: string | undefined } | undefined;

  private constructor(
    dir: string,
    private readonly options: StoreOptions,
  ) {
    super(dir);
    this.change = new JournalledChange(this.dir, options.crashAt);
  }

  static open(dir: string, options: StoreOptions): CaStore {
    return new CaStore(resolve(dir), options);
  }

  /**
   * Runs `work` holding the CA lock, after finishing or undoing any change a killed process left.
   * If the CA directory did not exist and nothing was committed, it is removed again.
   */
  async locked<T>(work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.lockTimeoutMs;
    // The topmost directory this command made (etc/ of etc/ssl): removed again if nothing is committed.
    let made: string | undefined;
    let lock: Lock;
    for (;;) {
      let now: string | undefined;
      try {
        // Synchronously, like the lock: see gitFindWorkTree.
        now = mkdirSync(this.dir, { recursive: true });
      } catch (error) {
        // A parent it made was removed meanwhile by another command that found no CA here.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && Date.now() < deadline) continue;
        throw error;
      }
      if (now !== undefined && (made === undefined || made.startsWith(now))) made = now;
      try {
        lock = await acquireLock(this.dir, {
          timeoutMs: Math.max(0, deadline - Date.now()),
          ...(this.options.onLockWait ? { onWait: this.options.onLockWait } : {}),
        });
        break;
      } catch (error) {
        // Another command that found no CA here removed the directory it had made: make it again.
        if (error instanceof StoreWriteError && error.errno === 'ENOENT' && Date.now() < deadline) continue;
        // Without the lock, only what is empty: another command may be at work in it.
        if (made !== undefined) await removeEmptyDirs(this.dir, made);
        throw error;
      }
    }
    let committed = false;
    try {
      const recovered = await this.change.recover();
      if (recovered) this.options.onRecovered?.(recovered.outcome, recovered.summary, recovered.kept);
      const result = await work();
      committed = true;
      return result;
    } finally {
      // Still holding the lock, so that no other command is at work in it (waiting ones make it again).
      if (made !== undefined && (!committed || this.dryRun)) await rm(made, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      await lock.release();
    }
  }

  /**
   * Runs `work`, which only reads, under the lock (so that a change an interrupted command left
   * is finished or undone first); on a read-only directory or file system, where the lock cannot
   * be made, without it, unless such a change is pending.
   */
  async lockedIfWritable<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.locked(work);
    } catch (error) {
      const readOnly = error instanceof StoreWriteError && error.action === 'create the lock' && READ_ONLY_ERRORS.has(error.errno ?? '');
      if (!readOnly) throw error;
      const pending = await readJournal(this.dir).catch(() => ({ summary: 'unreadable journal' }));
      if (pending) throw new PendingChangeError(this.dir, pending.summary, { cause: error });
      return work();
    }
  }

  /**
   * The change a killed command left (its journal), which the next command that takes the lock
   * finishes or rolls back: for readers that take no lock (check, ls) to report. `unreadable`
   * holds why a journal of the wrong shape cannot be used.
   */
  async pendingChange(): Promise<{ path: string; summary?: string; unreadable?: string } | undefined> {
    try {
      const journal = await readJournal(this.dir);
      return journal ? { path: JOURNAL_FILE, summary: journal.summary } : undefined;
    } catch (error) {
      return { path: JOURNAL_FILE, unreadable: error instanceof CorruptJournalError ? error.reason : (error as Error).message };
    }
  }

  get dryRun(): boolean {
    return this.options.dryRun === true;
  }

  /** In a dry run, the change apply() would have made. */
  plannedChange: ChangeSet | undefined;

  /** The changes this store applied, in order: each commit (empty when none was made) and the paths it wrote or moved to. */
  readonly changesMade: { commit: string; written: string[] }[] = [];

  /** Applies a change: journal, atomic writes, one commit of exactly the paths it touched. */
  async apply(asked: ChangeSet): Promise<ChangeResult> {
    for (const write of asked.writes) {
      if (write.commit && UNENCRYPTED_KEY.test(write.content)) {
        throw new Error(`refusing to commit the unencrypted private key "${write.path}"`);
      }
    }
    if (this.dryRun) {
      // What apply would write, the index of revoked certificates included.
      this.plannedChange = withRevokedIndex(this.dir, asked);
      return { commit: '' };
    }
    const change = withRevokedIndex(this.dir, asked);
    const paths = [...change.writes.map((write) => write.path), ...(change.removes ?? []), ...(change.moves ?? []).flatMap((move) => [move.from, move.to])];
    let result: ChangeResult;
    // Listeners hear of this commit when it is made; until then headCommit() answers with HEAD as
    // the change found it, so that a reader does not take the commit for someone else's meanwhile.
    if (this.commitListeners.size) this.headWhileCommitting = { head: await this.headCommit() };
    try {
      try {
        result = await this.change.apply(change);
      } catch (error) {
        for (const listener of this.commitListeners) listener({ rolledBack: paths });
        throw error;
      }
      this.changesMade.push({ commit: result.commit, written: [...change.writes.map((write) => write.path), ...(change.moves ?? []).map((move) => move.to)] });
      if (result.commit && !result.stagedForMerge && this.commitListeners.size) {
        // The commit's own parent, not HEAD as the change found it: a commit made meanwhile by
        // someone else is then between the two, and a listener must not take it for nothing.
        const parent = await gitParentOf(this.dir, result.commit).catch(() => null);
        for (const listener of this.commitListeners) listener(parent === null ? { rolledBack: [] } : { parent, commit: result.commit, paths });
      }
    } finally {
      this.headWhileCommitting = undefined;
    }
    if (result.commit && this.options.onCommitNotice) {
      for (const notice of await gitCommitNotices(this.dir, result.commit, change.message).catch(() => [])) this.options.onCommitNotice(notice);
    }
    return result;
  }

  /**
   * For a process that keeps running (a server): git and sync are started from now on by a small
   * helper process, whose forks cost far less than this process's (see spawn.ts).
   */
  startProgramsFromHelper(): void {
    startSpawnHelper();
  }

  /** Calls `listener` after every commit this store makes (not for changes staged for a merge). */
  onCommit(listener: (commit: ChangeNotice) => void): void {
    this.commitListeners.add(listener);
  }

  /**
   * HEAD's commit, undefined before the first: from the repository's files (found once) in a few
   * small reads, so that a long-running server can ask before each request whether the CA moved.
   */
  async headCommit(): Promise<string | undefined> {
    if (this.headWhileCommitting) return this.headWhileCommitting.head;
    this.gitDirs ??= findGitDirs(this.dir).catch(() => null);
    const dirs = await this.gitDirs;
    const head = dirs ? readHeadOf(dirs) : null;
    return head === null ? gitHead(this.dir) : head;
  }

  /** `rel` as `commit` holds it (bounded like the file), undefined when the commit has none. */
  async readCommittedText(rel: string, commit: string): Promise<string | undefined> {
    const limit = READ_LIMITS[readKindOf(rel)];
    try {
      return await gitCommittedText(this.dir, commit, rel, limit);
    } catch (error) {
      if (error instanceof ReadTooLargeError) throw error;
      throw new StoreWriteError('read the last commit of', rel, error);
    }
  }

  /** The merge (or rebase, cherry-pick, revert) under way in the CA's repository, with the paths git could not merge; undefined when none is. */
  async unfinishedMerge(): Promise<{ operation: GitOperation; unmerged: string[] } | undefined> {
    const operation = await gitOperationUnderWay(this.dir);
    if (!operation) return undefined;
    return { operation, unmerged: await gitUnmergedPaths(this.dir) };
  }

  /** Our side (2) or theirs (3) of a path git could not merge. */
  unmergedVersion(rel: string, stage: 2 | 3): Promise<string | undefined> {
    return gitUnmergedVersion(this.dir, rel, stage);
  }
}

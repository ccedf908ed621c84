import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncFiles, writeFileAtomic, writeFileAtomicUnsynced } from './atomic.js';
import { forEachConcurrently } from './concurrently.js';
import { GitOperationError, HelperGoneError, SkipWorktreeError, StoreWriteError, causeOfType } from './errors.js';
import { ORPHAN_WAIT_MS, waitForExit } from './spawn.js';
import { gitCommitPaths, gitPlumbingCommit, type PlumbingCommit } from './git-commit.js';
import { gitIndexEntries, gitOperationUnderWay, gitStagePaths, type GitOperation } from './git-merge.js';
import {
  PACK_MIN_OBJECTS,
  gitCheckInstalled,
  gitFindWorkTree,
  gitHead,
  gitHeadSubject,
  gitIndexMatchesHead,
  gitIndexStamp,
  gitInit,
  gitRefuseSkipWorktree,
  gitWaitIdle,
  gitWriteBlobs,
} from './git.js';
import { refuseUnsafeFolders } from './folders.js';
import { clearJournal, readJournal, writeJournal, type Journal } from './journal.js';
import { JOURNAL_FILE, PRIVATE_DIR } from './layout.js';
import { rollBackChange, type RollbackReport } from './rollback.js';
import { CaReader } from './reader.js';

export interface FileWrite {
  path: string;
  content: string;
  /** Private files get mode 0600 in a 0700 directory. */
  private?: boolean;
  /** False for files that must never enter git (unencrypted keys, the root key). */
  commit: boolean;
}

export interface ChangeSet {
  /** The commit message; its first line is the summary. */
  message: string;
  writes: FileWrite[];
  removes?: string[];
  moves?: { from: string; to: string; commit: boolean }[];
  /**
   * During an unfinished git merge (or a rebase, cherry-pick or revert stopped on a conflict),
   * stage the change (resolving its paths) for the commit that finishes it instead of committing
   * it. Without it, a change is refused while any of them is under way, before anything is written.
   */
  stageDuringMerge?: boolean;
}

/** What apply() did: the commit it made, or, during a merge (rebase, ...), that it staged the change instead. */
export interface ChangeResult {
  commit: string;
  stagedForMerge?: true;
  /** The git operation the change was staged for. */
  stagedFor?: GitOperation;
}

/** What recover() did with a change a killed process left, and the files its rollback kept. */
export interface Recovered {
  outcome: 'finished' | 'rolled back';
  summary: string;
  kept: RollbackReport['kept'];
}

/** The steps of apply() between which a crash can leave a half-made change, for crash tests. */
export const CRASH_STEPS = ['after-journal', 'after-writes', 'after-commit-before-journal-clear'] as const;
export type CrashStep = (typeof CRASH_STEPS)[number];

/** How many files apply() writes at once, each with its fsync, in a change of fewer than MANY_FILES. */
const WRITE_CONCURRENCY = 16;
/**
 * From this many files, a change writes them synchronously and flushes them together (see
 * writeManyFiles): each file's own fsync, rename and directory fsync cost ~9 thread-pool round
 * trips, and an ACME group commit of 24 certificates took ~100 ms writing its 72 files that way.
 */
const MANY_FILES = 16;

/**
 * A change to the CA directory, journalled: its files are written and committed as one, or
 * rolled back; a change a killed process left is finished or rolled back by recover().
 * The caller holds the CA lock.
 */
export class JournalledChange {
  private readonly files: CaReader;

  constructor(
    readonly dir: string,
    /** Test hook only: SIGKILL this process at a step of apply(). */
    private readonly crashAt?: CrashStep,
  ) {
    this.files = new CaReader(dir);
  }

  private path(rel: string): string {
    return this.files.path(rel);
  }

  /** Applies a change: journal, atomic writes, one commit of exactly the paths it touched. */
  async apply(change: ChangeSet): Promise<ChangeResult> {
    const touched = [
      ...change.writes.map((write) => write.path),
      ...(change.removes ?? []),
      ...(change.moves ?? []).flatMap((move) => [move.from, move.to]),
    ];
    refuseUnsafeFolders(this.dir, touched);
    const operation = await gitOperationUnderWay(this.dir);
    if (operation && !change.stageDuringMerge) throw new GitOperationError(this.dir, operation);
    await gitCheckInstalled();
    const repo = await gitFindWorkTree(this.dir);
    if (!repo) {
      await gitInit(this.dir).catch((error) => {
        throw new StoreWriteError('run "git init" in', this.dir, error);
      });
    }
    const toCommit = [
      ...change.writes.filter((write) => write.commit).map((write) => write.path),
      ...(change.removes ?? []),
      ...(change.moves ?? []).filter((move) => move.commit).flatMap((move) => [move.from, move.to]),
    ];
    await gitRefuseSkipWorktree(this.dir, toCommit).catch((error) => {
      if (error instanceof SkipWorktreeError) throw error;
      throw new StoreWriteError('read the git index of', this.dir, error);
    });
    const created: string[] = [];
    const changed: string[] = [];
    // Synchronously: a large change (apply) touches thousands of paths.
    for (const path of touched) (existsSync(this.path(path)) ? changed : created).push(path);
    const parent = await gitHead(this.dir);
    const mergeIndex = operation ? await gitIndexEntries(this.dir, touched) : undefined;
    const uncommitted = change.writes.filter((write) => !write.commit).map((write) => write.path);
    const journal: Journal = {
      summary: change.message.split('\n')[0] ?? '',
      ...(parent ? { parent } : {}),
      startedAt: new Date().toISOString(),
      created,
      changed,
      moves: (change.moves ?? []).map(({ from, to }) => ({ from, to })),
      written: Object.fromEntries(change.writes.map((write) => [write.path, createHash('sha256').update(write.content).digest('hex')])),
      ...(uncommitted.length ? { uncommitted } : {}),
      ...(mergeIndex === undefined ? {} : { mergeIndex }),
    };
    await writeJournal(this.dir, journal).catch((error) => {
      throw new StoreWriteError('write', JOURNAL_FILE, error);
    });
    this.crashPoint('after-journal');
    let commit: string;
    // Whether the index holds exactly HEAD (see gitCommitPaths): asked while the files are written
    // (their writes do not touch the index), or flushed to the disk when there are many (see writeManyFiles).
    let indexCheck: Promise<{ matched: boolean; plumbing: PlumbingCommit | undefined; stamp: string | undefined }> | undefined;
    const askIndex = () =>
      (indexCheck ??= (async () => {
        const stamp = await gitIndexStamp(this.dir);
        const [matched, plumbing] = await Promise.all([gitIndexMatchesHead(this.dir).catch(() => false), gitPlumbingCommit(this.dir).catch(() => undefined)]);
        return { matched: operation !== 'merge' && matched, plumbing, stamp };
      })());
    try {
      await this.writeFilesAndObjects(change, askIndex);
      this.crashPoint('after-writes');
      // From here git's index may hold what the change wrote because the change put it there: a
      // rollback must not take that for the user's own "git add".
      journal.staging = true;
      await writeJournal(this.dir, journal, { durable: false }).catch((error) => {
        throw new StoreWriteError('write', JOURNAL_FILE, error);
      });
      if (operation) {
        await gitStagePaths(this.dir, toCommit).catch((error) => {
          throw new StoreWriteError(`stage the change for the ${operation} in`, this.dir, error);
        });
        commit = '';
      } else {
        const index = await askIndex();
        // Written since it was asked (someone staged something): only the change's paths go in.
        const indexMatchedHead = index.matched && index.stamp !== undefined && index.stamp === (await gitIndexStamp(this.dir));
        commit = await gitCommitPaths(this.dir, toCommit, change.message, { indexMatchedHead, ...(index.plumbing ? { plumbing: index.plumbing } : {}), ...(parent ? { parent } : {}) }).catch((error) => {
          throw new StoreWriteError('commit the change in', this.dir, error);
        });
      }
    } catch (error) {
      // A git that may still be running (its helper process died) could commit after an undo here.
      const gone = causeOfType(error, HelperGoneError);
      if (gone) return this.afterOrphans(gone, error);
      // Undo at once (the disk may be full or read-only); if even that fails, the journal stays
      // and the next command rolls back. The error says what was left behind.
      const leftover = await rollBackChange(this.dir, journal, { inProcess: true }).then(
        async (report) => {
          await clearJournal(this.dir).catch(() => undefined);
          return report.kept.length ? { kept: report.kept } : undefined;
        },
        (undoError: unknown) => ({ undoError }),
      );
      if (leftover && error instanceof StoreWriteError) error.leftover = leftover;
      throw error;
    }
    this.crashPoint('after-commit-before-journal-clear');
    await clearJournal(this.dir);
    return operation ? { commit, stagedForMerge: true, stagedFor: operation } : { commit };
  }

  /**
   * Writes the change's files. A change that commits many files (apply) also stores what it
   * commits as one git pack, meanwhile, so that staging writes no loose object (see
   * gitWriteBlobs), and its files are flushed to the disk together (see syncFiles).
   */
  private async writeFilesAndObjects(change: ChangeSet, whileFlushing: () => Promise<unknown>): Promise<void> {
    for (const move of change.moves ?? []) {
      await mkdir(dirname(this.path(move.to)), { recursive: true, mode: move.to.startsWith(`${PRIVATE_DIR}/`) ? 0o700 : 0o755 });
      await rename(this.path(move.from), this.path(move.to)).catch((error) => {
        throw new StoreWriteError('move', move.from, error);
      });
    }
    const committed = change.writes.filter((write) => write.commit);
    if (change.writes.length >= MANY_FILES && committed.length < PACK_MIN_OBJECTS) {
      await this.writeManyFiles(change.writes, whileFlushing);
    } else if (committed.length < PACK_MIN_OBJECTS) {
      // Never rejects (see askIndex): a git process beside the writes and their fsyncs.
      void whileFlushing();
      await forEachConcurrently(change.writes, WRITE_CONCURRENCY, (write) =>
        writeFileAtomic(this.path(write.path), write.content, this.writeOptions(write)).catch((error) => {
          throw new StoreWriteError('write', write.path, error);
        }),
      );
    } else {
      const pack = gitWriteBlobs(this.dir, committed.map((write) => write.content)).catch((error) => {
        throw new StoreWriteError('store the new files in git in', this.dir, error);
      });
      const files = this.writeManyFiles(change.writes);
      // Both finish before an error is raised: the rollback must not race a write still running.
      const outcomes = await Promise.allSettled([pack, files]);
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    }
    for (const path of change.removes ?? []) {
      await rm(this.path(path), { force: true }).catch((error) => {
        throw new StoreWriteError('remove', path, error);
      });
    }
  }

  /**
   * Many files: written synchronously, which is several times faster than a chain of promises per
   * file, with a pause every hundred files so that the pack (if any) is fed meanwhile; then flushed
   * to the disk together (see syncFiles).
   */
  private async writeManyFiles(writes: FileWrite[], whileFlushing?: () => Promise<unknown>): Promise<void> {
    const madeDirs = new Set<string>();
    for (const [index, write] of writes.entries()) {
      if (index % 100 === 99) await new Promise((resume) => setImmediate(resume));
      try {
        writeFileAtomicUnsynced(this.path(write.path), write.content, this.writeOptions(write), madeDirs);
      } catch (error) {
        throw new StoreWriteError('write', write.path, error);
      }
    }
    // Never rejects (see askIndex): started now so that it overlaps the flush.
    void whileFlushing?.();
    const paths = (commit: boolean) => writes.filter((write) => write.commit === commit).map((write) => this.path(write.path));
    await syncFiles(this.dir, { committed: paths(true), uncommitted: paths(false) }).catch((error) => {
      throw new StoreWriteError('flush the new files to the disk in', this.dir, error);
    });
  }

  private writeOptions(write: FileWrite): { mode: number; dirMode: number } {
    return {
      mode: write.private ? 0o600 : 0o644,
      dirMode: write.private || write.path.startsWith(`${PRIVATE_DIR}/`) ? 0o700 : 0o755,
    };
  }

  /** The crash-test hook: dies here, like a power cut, if the test asked for this step. */
  private crashPoint(step: CrashStep): void {
    if (this.crashAt === step) process.kill(process.pid, 'SIGKILL');
  }

  /**
   * The change whose git outlived its helper process: once that git has ended, finished (it made
   * the commit) or undone from the journal, as the next command would. If it runs on, or the
   * helper died before saying it had started one, the journal is left for the next command.
   */
  private async afterOrphans(gone: HelperGoneError, error: unknown): Promise<ChangeResult> {
    if (gone.unsure || !(await waitForExit(gone.orphans, ORPHAN_WAIT_MS))) {
      if (error instanceof StoreWriteError) error.leftover = { undoError: gone };
      throw error;
    }
    const recovered = await this.recover();
    if (recovered?.outcome === 'finished') {
      const commit = await gitHead(this.dir);
      if (commit !== undefined) return { commit };
    }
    if (error instanceof StoreWriteError && recovered?.kept.length) error.leftover = { kept: recovered.kept };
    throw error;
  }

  /** Finishes (if it was committed) or rolls back (if not) a change a killed process left. */
  async recover(): Promise<Recovered | undefined> {
    const journal = await readJournal(this.dir);
    if (!journal) return undefined;
    await gitCheckInstalled();
    // A killed certified may leave its git child running for a moment: let it finish first.
    await gitWaitIdle(this.dir);
    const head = await gitHead(this.dir);
    const committed = head !== undefined && head !== journal.parent && (await gitHeadSubject(this.dir)) === journal.summary;
    const kept = committed ? [] : (await rollBackChange(this.dir, journal, { inProcess: false })).kept;
    await clearJournal(this.dir);
    return { outcome: committed ? 'finished' : 'rolled back', summary: journal.summary, kept };
  }
}

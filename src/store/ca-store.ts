import { access, mkdir, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { gitCommitPaths, gitFindWorkTree, gitHead, gitHeadSubject, gitInit, gitRestorePaths } from './git.js';
import { clearJournal, readJournal, writeJournal, type Journal } from './journal.js';
import { PRIVATE_DIR, TEMP_SUFFIX } from './layout.js';
import { acquireLock, type LockHolder } from './lock.js';

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
}

export interface StoreEvents {
  onLockWait?: (holder: LockHolder) => void;
  onRecovered?: (outcome: 'finished' | 'rolled back', summary: string) => void;
}

export interface StoreOptions extends StoreEvents {
  lockTimeoutMs: number;
  /** Validate and build everything, write nothing: apply() returns without touching the disk. */
  dryRun?: boolean;
}

/** How many files apply() writes at once. */
const WRITE_CONCURRENCY = 16;

const UNENCRYPTED_KEY = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/;

export class StoreWriteError extends Error {
  constructor(readonly action: string, readonly path: string, cause: unknown) {
    super(`failed to ${action} "${path}": ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** The CA directory: reads, and changes applied under the lock, journaled and committed as one. */
export class CaStore {
  private constructor(
    readonly dir: string,
    private readonly options: StoreOptions,
  ) {}

  static open(dir: string, options: StoreOptions): CaStore {
    return new CaStore(resolve(dir), options);
  }

  path(rel: string): string {
    return join(this.dir, rel);
  }

  async exists(rel: string): Promise<boolean> {
    return access(this.path(rel)).then(() => true, () => false);
  }

  async readText(rel: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(rel), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreWriteError('read', rel, error);
    }
  }

  /** File names in a directory of the CA, sorted; empty when it does not exist. */
  async list(rel: string): Promise<string[]> {
    try {
      return (await readdir(this.path(rel))).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /**
   * Runs `work` holding the CA lock, after finishing or undoing any change a killed process left.
   * If the CA directory did not exist and nothing was committed, it is removed again.
   */
  async locked<T>(work: () => Promise<T>): Promise<T> {
    const existed = await stat(this.dir).then(() => true, () => false);
    await mkdir(this.dir, { recursive: true });
    let lock;
    try {
      lock = await acquireLock(this.dir, {
        timeoutMs: this.options.lockTimeoutMs,
        ...(this.options.onLockWait ? { onWait: this.options.onLockWait } : {}),
      });
    } catch (error) {
      if (!existed) await rm(this.dir, { recursive: true, force: true });
      throw error;
    }
    let committed = false;
    try {
      await this.recover();
      const result = await work();
      committed = true;
      return result;
    } finally {
      await lock.release();
      if (!existed && (!committed || this.dryRun)) await rm(this.dir, { recursive: true, force: true });
    }
  }

  get dryRun(): boolean {
    return this.options.dryRun === true;
  }

  /** Applies a change: journal, atomic writes, one commit of exactly the paths it touched. */
  async apply(change: ChangeSet): Promise<{ commit: string }> {
    for (const write of change.writes) {
      if (write.commit && UNENCRYPTED_KEY.test(write.content)) {
        throw new Error(`refusing to commit the unencrypted private key "${write.path}"`);
      }
    }
    if (this.dryRun) return { commit: '' };
    const repo = await gitFindWorkTree(this.dir);
    if (!repo) await gitInit(this.dir);
    const touched = [
      ...change.writes.map((write) => write.path),
      ...(change.removes ?? []),
      ...(change.moves ?? []).flatMap((move) => [move.from, move.to]),
    ];
    const created: string[] = [];
    const changed: string[] = [];
    for (const path of touched) (await this.exists(path) ? changed : created).push(path);
    const parent = await gitHead(this.dir);
    const journal: Journal = {
      summary: change.message.split('\n')[0] ?? '',
      ...(parent ? { parent } : {}),
      startedAt: new Date().toISOString(),
      created,
      changed,
      moves: (change.moves ?? []).map(({ from, to }) => ({ from, to })),
    };
    await writeJournal(this.dir, journal);
    for (const move of change.moves ?? []) {
      await mkdir(dirname(this.path(move.to)), { recursive: true });
      await rename(this.path(move.from), this.path(move.to)).catch((error) => {
        throw new StoreWriteError('move', move.from, error);
      });
    }
    // Several writes at a time: each waits for its fsync, and a large change (apply) has thousands.
    let next = 0;
    const writer = async (): Promise<void> => {
      for (let write = change.writes[next++]; write; write = change.writes[next++]) {
        const path = write.path;
        await writeFileAtomic(this.path(path), write.content, {
          mode: write.private ? 0o600 : 0o644,
          dirMode: write.private || path.startsWith(`${PRIVATE_DIR}/`) ? 0o700 : 0o755,
        }).catch((error) => {
          throw new StoreWriteError('write', path, error);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, change.writes.length) }, writer));
    for (const path of change.removes ?? []) await rm(this.path(path), { force: true });
    const toCommit = [
      ...change.writes.filter((write) => write.commit).map((write) => write.path),
      ...(change.removes ?? []),
      ...(change.moves ?? []).filter((move) => move.commit).flatMap((move) => [move.from, move.to]),
    ];
    const commit = await gitCommitPaths(this.dir, toCommit, change.message);
    await clearJournal(this.dir);
    return { commit };
  }

  /** Finishes (if it was committed) or rolls back (if not) a change a killed process left. */
  private async recover(): Promise<void> {
    const journal = await readJournal(this.dir);
    if (!journal) {
      return;
    }
    const head = await gitHead(this.dir);
    const committed = head !== undefined && head !== journal.parent && (await gitHeadSubject(this.dir)) === journal.summary;
    if (!committed) await this.rollBack(journal);
    await clearJournal(this.dir);
    this.options.onRecovered?.(committed ? 'finished' : 'rolled back', journal.summary);
  }

  private async rollBack(journal: Journal): Promise<void> {
    const all = [...journal.created, ...journal.changed];
    await this.removeTempFiles(all);
    // `to` exists only if the move happened; `from` may hold a new file written over it since.
    for (const move of [...journal.moves].reverse()) {
      if (await this.exists(move.to)) await rename(this.path(move.to), this.path(move.from));
    }
    await gitRestorePaths(this.dir, all).catch(() => undefined);
    for (const path of journal.created) await rm(this.path(path), { force: true });
    await this.removeEmptyDirs(all);
  }

  private async removeTempFiles(paths: string[]): Promise<void> {
    for (const dir of new Set(paths.map((path) => dirname(this.path(path))))) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name.endsWith(TEMP_SUFFIX)) await rm(join(dir, name), { force: true });
      }
    }
  }

  private async removeEmptyDirs(paths: string[]): Promise<void> {
    for (const path of paths) {
      let dir = dirname(this.path(path));
      while (dir !== this.dir && relative(this.dir, dir).split(sep)[0] !== '..') {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
        dir = dirname(dir);
      }
    }
  }
}

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { READ_LIMITS, readBounded } from './bounded-read.js';
import { JOURNAL_FILE } from './layout.js';

/**
 * What a change is about to do, written before its first file so that the next command can undo
 * a change that was interrupted before it was committed.
 */
export interface Journal {
  summary: string;
  /** HEAD before the change; undefined in a repository without commits. */
  parent?: string;
  startedAt: string;
  /** Paths (relative to the CA directory) written or removed, which did not exist before. */
  created: string[];
  /** Paths that existed before and are written or removed. */
  changed: string[];
  moves: { from: string; to: string }[];
  /**
   * During a git merge: the index entries of the touched paths before the change (`git ls-files
   * -s` lines, conflict stages included), which a rollback puts back instead of HEAD's version.
   */
  mergeIndex?: string;
}

export async function readJournal(dir: string): Promise<Journal | undefined> {
  try {
    return JSON.parse((await readBounded(join(dir, JOURNAL_FILE), READ_LIMITS.journal)).toString('utf8')) as Journal;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeJournal(dir: string, journal: Journal): Promise<void> {
  await writeFileAtomic(join(dir, JOURNAL_FILE), `${JSON.stringify(journal, null, 2)}\n`);
}

export async function clearJournal(dir: string): Promise<void> {
  await rm(join(dir, JOURNAL_FILE), { force: true });
}

import { existsSync, rmSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { writeFileAtomicSync, writeFileAtomicUnsynced } from './atomic.js';
import { READ_LIMITS, ReadTooLargeError, readBounded } from './bounded-read.js';
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
   * The SHA-256 (hex) of the content the change writes at each path: a rollback removes or
   * restores only a file that still holds exactly that. Absent in journals of older versions.
   */
  written?: Record<string, string>;
  /** Paths written that git never holds (unencrypted keys): their only copy is the file itself. */
  uncommitted?: string[];
  /** Set once the change stages its paths: from then on git's index may hold what it wrote. */
  staging?: true;
  /**
   * During a git merge: the index entries of the touched paths before the change (`git ls-files
   * -s` lines, conflict stages included), which a rollback puts back instead of HEAD's version.
   */
  mergeIndex?: string;
}

/** The journal exists but is not one certified wrote (cut short, edited, another program's file). */
export class CorruptJournalError extends Error {
  constructor(readonly dir: string, readonly path: string, readonly reason: string) {
    super(`the journal "${path}" is unreadable (${reason})`);
  }
}

export async function readJournal(dir: string): Promise<Journal | undefined> {
  const path = join(dir, JOURNAL_FILE);
  // Most changes find none: known without a round trip through the thread pool.
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = (await readBounded(path, READ_LIMITS.journal)).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (error instanceof ReadTooLargeError) throw new CorruptJournalError(dir, path, 'it is too large');
    if (code === 'EISDIR') throw new CorruptJournalError(dir, path, 'it is a directory');
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CorruptJournalError(dir, path, 'not JSON');
  }
  const problem = journalProblem(value);
  if (problem) throw new CorruptJournalError(dir, path, problem);
  return value as Journal;
}


const isString = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A path a rollback may touch: relative, normalized, inside the CA directory. */
function isSafePath(value: unknown): boolean {
  if (!isString(value) || value === '' || value.includes('\0') || isAbsolute(value)) return false;
  const normal = normalize(value);
  return normal === value && normal !== '.' && normal !== '..' && !normal.startsWith('../') && !normal.startsWith('..\\');
}

/** What is wrong with a parsed journal, or undefined when it has the shape certified writes. */
export function journalProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  if (!isString(value.summary)) return '"summary" is not a string';
  if (!isString(value.startedAt)) return '"startedAt" is not a string';
  if (value.parent !== undefined && !isString(value.parent)) return '"parent" is not a string';
  for (const key of ['created', 'changed'] as const) {
    const list = value[key];
    if (!Array.isArray(list)) return `"${key}" is not a list`;
    if (!list.every(isSafePath)) return `"${key}" holds a path outside the CA directory`;
  }
  if (!Array.isArray(value.moves) || !value.moves.every((move) => isObject(move) && isSafePath(move.from) && isSafePath(move.to))) {
    return '"moves" is not a list of moves inside the CA directory';
  }
  if (value.written !== undefined) {
    if (!isObject(value.written)) return '"written" is not an object';
    for (const [path, hash] of Object.entries(value.written)) {
      if (!isSafePath(path) || !isString(hash) || !/^[0-9a-f]{64}$/.test(hash)) return '"written" is not a map of paths to SHA-256 hashes';
    }
  }
  if (value.uncommitted !== undefined && !(Array.isArray(value.uncommitted) && value.uncommitted.every(isSafePath))) return '"uncommitted" is not a list of paths';
  if (value.staging !== undefined && value.staging !== true) return '"staging" is not true';
  if (value.mergeIndex !== undefined && !isString(value.mergeIndex)) return '"mergeIndex" is not a string';
  return undefined;
}

/**
 * Writes the journal atomically. `durable: false` skips the fsyncs, for the staging mark: after a
 * power cut that lost it, a rollback takes what the index holds for the user's own and keeps
 * those files (the safe side), and a cut never leaves the journal half-written on file systems
 * that flush a file before a rename over another (ext4, XFS, btrfs).
 */
export async function writeJournal(dir: string, journal: Journal, options: { durable?: boolean } = {}): Promise<void> {
  const text = `${JSON.stringify(journal, null, 2)}\n`;
  if (options.durable === false) writeFileAtomicUnsynced(join(dir, JOURNAL_FILE), text);
  else writeFileAtomicSync(join(dir, JOURNAL_FILE), text);
}

export async function clearJournal(dir: string): Promise<void> {
  rmSync(join(dir, JOURNAL_FILE), { force: true });
}

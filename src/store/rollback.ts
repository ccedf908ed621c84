import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { StoreWriteError } from './errors.js';
import { gitBlobId, gitHeldBlobs, isGitMissing, type HeldBlobs } from './git-held.js';
import { gitRestoreIndexEntries } from './git-merge.js';
import { gitFindWorkTree, gitRestorePaths } from './git.js';
import type { Journal } from './journal.js';
import { TEMP_SUFFIX } from './layout.js';

/** Why a rollback left a file as it is. */
export type KeptReason =
  /** git holds exactly this content (in HEAD, or staged by someone else): it was committed or added by hand. */
  | 'held by git'
  /** It is not what the change wrote: someone changed it since. */
  | 'changed since'
  /** An uncommitted file (a key) of a change whose other files git holds: it is their only key. */
  | 'belongs to what git holds';

export interface RollbackReport {
  kept: { path: string; why: KeptReason }[];
}

type State = { kind: 'absent' } | { kind: 'file'; content: Buffer; sha256: string } | { kind: 'other' };

function stateOf(path: string): State {
  try {
    const content = readFileSync(path);
    return { kind: 'file', content, sha256: createHash('sha256').update(content).digest('hex') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'absent' } : { kind: 'other' };
  }
}

/**
 * Undoes a change that was not committed, and only what it wrote itself: a file is removed or put
 * back as HEAD has it only if it still holds exactly what the change wrote (its SHA-256 is in the
 * journal) and git does not hold that content (in HEAD, or in the index unless the change itself
 * was staging). When git holds any file of the change that the change's parent did not (someone
 * committed or added its leftovers by hand), nothing else it did is undone either: its keys (the
 * only copy, git ignores them) and its moves stay. Returns what was kept and why.
 *
 * `inProcess`: called by the failing command itself, right after the failure. Then, when git
 * cannot be started at all, nothing can have been staged or committed, so the files it wrote are
 * removed without asking git; a file it changed is left for the next command.
 */
export async function rollBackChange(dir: string, journal: Journal, options: { inProcess: boolean }): Promise<RollbackReport> {
  const abs = (rel: string) => join(dir, rel);
  const all = [...new Set([...journal.created, ...journal.changed])];
  const created = new Set(journal.created);
  const uncommitted = new Set(journal.uncommitted ?? []);
  await removeTempFiles(dir, all);

  const states = new Map(all.map((rel) => [rel, stateOf(abs(rel))] as const));
  const present = all.filter((rel) => states.get(rel)?.kind === 'file');
  let held = new Map<string, HeldBlobs>();
  let gitMissing = false;
  try {
    if (await gitFindWorkTree(dir)) held = await gitHeldBlobs(dir, present, journal.parent);
  } catch (error) {
    if (!(options.inProcess && isGitMissing(error))) throw new StoreWriteError('ask git what it holds in', dir, error);
    gitMissing = true;
  }
  const blobOf = (rel: string, like: string): string | undefined => {
    const state = states.get(rel);
    return state?.kind === 'file' ? gitBlobId(state.content, like) : undefined;
  };
  const mine = (rel: string): boolean => {
    const state = states.get(rel);
    if (state?.kind !== 'file') return false;
    return journal.written === undefined ? true : journal.written[rel] === state.sha256;
  };
  const heldNow = (rel: string): boolean => {
    const entry = held.get(rel);
    if (!entry) return false;
    const same = (id: string | undefined) => id !== undefined && blobOf(rel, id) === id;
    return same(entry.head) || (!journal.staging && same(entry.index));
  };
  /** Held by git now, and not already by the change's parent (then restoring it changes nothing). */
  const newlyHeld = (rel: string): boolean => {
    const parent = held.get(rel)?.parent;
    return heldNow(rel) && !(parent !== undefined && blobOf(rel, parent) === parent);
  };
  const writtenPaths = journal.written ? Object.keys(journal.written) : all.filter((rel) => !journal.moves.some((move) => move.to === rel));
  const byHand = writtenPaths.some((rel) => !uncommitted.has(rel) && mine(rel) && newlyHeld(rel));

  const kept: RollbackReport['kept'] = [];
  const undo: string[] = [];
  const remove: string[] = [];
  const moved = new Set<string>();
  if (!byHand) {
    // `to` exists only if the move happened; `from` may hold a new file written over it since.
    for (const move of [...journal.moves].reverse()) {
      const to = states.get(move.to) ?? stateOf(abs(move.to));
      const from = states.get(move.from) ?? stateOf(abs(move.from));
      if (to.kind !== 'file') continue;
      if (from.kind !== 'absent' && !(mine(move.from) && !newlyHeld(move.from))) {
        kept.push({ path: move.to, why: 'changed since' });
        continue;
      }
      await rename(abs(move.to), abs(move.from));
      moved.add(move.from).add(move.to);
      undo.push(move.from, move.to);
    }
  }
  const written = new Set(writtenPaths);
  for (const rel of all) {
    if (moved.has(rel)) continue;
    const state = states.get(rel);
    if (!written.has(rel)) {
      // A path the change removed (or a side of a move that did not happen): put back only if it is still gone.
      if (!byHand && state?.kind === 'absent' && !created.has(rel)) undo.push(rel);
      continue;
    }
    if (state?.kind === 'absent') {
      // Gone: put back as HEAD has it what existed before (HEAD loses nothing by that).
      if (!byHand && !created.has(rel)) undo.push(rel);
      continue;
    }
    if (state?.kind === 'other') {
      kept.push({ path: rel, why: 'changed since' });
      continue;
    }
    if (!mine(rel)) {
      // Not what the change wrote: its old content (the change never got to it), or someone else's.
      if (created.has(rel) || !heldNow(rel)) kept.push({ path: rel, why: 'changed since' });
      continue;
    }
    if (newlyHeld(rel)) {
      kept.push({ path: rel, why: 'held by git' });
      continue;
    }
    if (uncommitted.has(rel)) {
      if (byHand) kept.push({ path: rel, why: 'belongs to what git holds' });
      // A key it wrote over an existing one: the old one is gone, git never had it; keep the new.
      else if (created.has(rel)) remove.push(rel);
      continue;
    }
    undo.push(rel);
    if (created.has(rel)) remove.push(rel);
  }

  if (gitMissing) {
    // Nothing was staged or committed (git never ran): remove what it created; what it changed needs git.
    for (const rel of remove) await rm(abs(rel), { force: true });
    await removeEmptyDirs(dir, remove);
    const toRestore = undo.filter((rel) => !created.has(rel));
    if (toRestore.length) throw new StoreWriteError('put back the files the change rewrote in', dir, new Error(`git could not be started (${toRestore.length} file(s), e.g. "${toRestore[0]}")`));
    return { kept };
  }
  // If git cannot restore its index (disk full), stop before removing files: the journal stays
  // and the next command undoes the rest. During a merge, the index as it was (conflicts
  // included), not HEAD: HEAD's version would silently settle a conflict to our side.
  const restore = journal.mergeIndex === undefined ? gitRestorePaths(dir, undo) : gitRestoreIndexEntries(dir, undo, journal.mergeIndex);
  await restore.catch((error) => {
    throw new StoreWriteError('undo the unfinished change in', dir, error);
  });
  for (const rel of [...remove, ...undo.filter((rel) => created.has(rel))]) await rm(abs(rel), { force: true });
  await removeEmptyDirs(dir, all);
  return { kept };
}

async function removeTempFiles(dir: string, paths: string[]): Promise<void> {
  for (const folder of new Set(paths.map((path) => dirname(join(dir, path))))) {
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      if (name.endsWith(TEMP_SUFFIX)) await rm(join(folder, name), { force: true });
    }
  }
}

async function removeEmptyDirs(dir: string, paths: string[]): Promise<void> {
  for (const path of paths) {
    let folder = dirname(join(dir, path));
    while (folder !== dir && relative(dir, folder).split(sep)[0] !== '..') {
      if (!(await rmdir(folder).then(() => true, () => false))) break;
      folder = dirname(folder);
    }
  }
}

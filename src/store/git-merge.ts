import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATION_FILES, findGitDirs, git } from './git.js';

/** What git is in the middle of in the CA's repository, by the file it keeps meanwhile. */
export type GitOperation = 'merge' | 'squash' | 'cherry-pick' | 'revert' | 'rebase' | 'am';

const OPERATION_OF: Record<(typeof OPERATION_FILES)[number], GitOperation> = {
  MERGE_HEAD: 'merge',
  CHERRY_PICK_HEAD: 'cherry-pick',
  REVERT_HEAD: 'revert',
  'rebase-merge': 'rebase',
  'rebase-apply': 'rebase',
  sequencer: 'cherry-pick',
};

/** The merge, cherry-pick, revert or rebase under way in the repository that holds `dir`, if any. */
export async function gitOperationUnderWay(dir: string): Promise<GitOperation | undefined> {
  const dirs = await findGitDirs(dir).catch(() => null);
  if (!dirs) return undefined;
  for (const name of OPERATION_FILES) {
    if (!existsSync(join(dirs.gitDir, name))) continue;
    // git am keeps rebase-apply/ too, with this file in it.
    if (name === 'rebase-apply' && existsSync(join(dirs.gitDir, name, 'applying'))) return 'am';
    if (name === 'sequencer') return sequenceOf(join(dirs.gitDir, name, 'todo'));
    return OPERATION_OF[name];
  }
  // "git merge --squash" leaves no MERGE_HEAD, only the message of the commit that will finish it;
  // git removes that message when the commit is made or the squash undone, or leaves it stale
  // (a commit with --only, a reset of the work tree): a squash is under way while something is staged.
  if (existsSync(join(dirs.gitDir, 'SQUASH_MSG'))) {
    const staged = await (await git(dir)).raw(['diff-index', '--cached', '--quiet', '--ignore-submodules=none', 'HEAD', '--']).then(() => false, () => true);
    if (staged) return 'squash';
  }
  return undefined;
}

/** A sequence of picks or reverts stopped between two, by the first line of what it has left to do. */
function sequenceOf(todo: string): GitOperation {
  let first = '';
  try {
    first = readFileSync(todo, 'utf8').split('\n').find((line) => line.trim() && !line.startsWith('#')) ?? '';
  } catch {
    // no todo left: the last step stopped
  }
  return /^(revert|r)\s/.test(first) ? 'revert' : 'cherry-pick';
}

/**
 * The paths git could not merge, anywhere in the repository, relative to `dir` (a path outside
 * the CA directory starts with ../). One `ls-files -u` line per stage; each path once, sorted.
 */
export async function gitUnmergedPaths(dir: string): Promise<string[]> {
  const output = await (await git(dir)).raw(['ls-files', '-u', '-z', '--', ':/']);
  const paths = new Set(output.split('\0').filter(Boolean).map((entry) => entry.slice(entry.indexOf('\t') + 1)));
  return [...paths].sort();
}

/** One side of an unmerged path: stage 2 is ours, 3 theirs; undefined where that side has none. */
export async function gitUnmergedVersion(dir: string, path: string, stage: 2 | 3): Promise<string | undefined> {
  return (await git(dir)).raw(['show', `:${stage}:./${path}`]).catch(() => undefined);
}

/** Stages `paths` (relative to `dir`) as they are on disk, which also marks unmerged ones resolved. */
export async function gitStagePaths(dir: string, paths: string[]): Promise<void> {
  await (await git(dir)).raw(['update-index', '-z', '--add', '--remove', '--replace', '--stdin'], paths.map((path) => `${path}\0`).join(''));
}

/** The index entries of `paths` (relative to `dir`), conflict stages included, as `ls-files -s -z` prints them. */
export async function gitIndexEntries(dir: string, paths: string[]): Promise<string> {
  if (paths.length === 0) return '';
  return (await git(dir)).raw(['ls-files', '-s', '-z', '--', ...paths.map((path) => `:(literal)${path}`)]);
}

/**
 * Puts back the index entries `gitIndexEntries` returned for `paths`, and their work-tree files:
 * a path that was in conflict is in conflict again (its stages, and the conflict markers).
 */
export async function gitRestoreIndexEntries(dir: string, paths: string[], entries: string): Promise<void> {
  if (paths.length === 0) return;
  const client = await git(dir);
  const saved = entries.split('\0').filter(Boolean);
  const removals = paths.map((path) => `0 ${'0'.repeat(40)}\t${path}\0`).join('');
  await client.raw(['update-index', '-z', '--index-info'], removals + saved.map((line) => `${line}\0`).join(''));
  const stageOf = (line: string) => line.split('\t')[0]?.split(' ')[2];
  const pathOf = (line: string) => line.slice(line.indexOf('\t') + 1);
  const unmerged = [...new Set(saved.filter((line) => stageOf(line) !== '0').map(pathOf))];
  const merged = saved.filter((line) => stageOf(line) === '0').map(pathOf);
  if (unmerged.length) await client.raw(['checkout', '-m', '--', ...unmerged.map((path) => `:(literal)${path}`)]);
  if (merged.length) await client.raw(['checkout', '--', ...merged.map((path) => `:(literal)${path}`)]);
}

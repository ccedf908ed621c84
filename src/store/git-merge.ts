import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OPERATION_FILES, findGitDirs, git } from './git.js';

/** What git is in the middle of in the CA's repository, by the file it keeps meanwhile. */
export type GitOperation = 'merge' | 'cherry-pick' | 'revert' | 'rebase';

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
    if (await stat(join(dirs.gitDir, name)).then(() => true, () => false)) return OPERATION_OF[name];
  }
  return undefined;
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

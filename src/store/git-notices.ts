import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitCommandError, OBJECT_ID, findGitDirs, git, readLooseObject } from './git.js';

/** What the user should hear about a commit just made. */
export type CommitNotice =
  /** HEAD is detached: the commit is on no branch, and the next checkout leaves it behind. */
  | { kind: 'detached-head'; commit: string }
  /** A hook rewrote the message and these Certified-* trailers are no longer in its trailer block. */
  | { kind: 'trailers-dropped'; commit: string; missing: string[] };

/**
 * Looks at the commit gitCommitPaths just made from `message`: whether it is on a branch, and
 * whether its trailers survived the commit-msg hooks (certified log reads them). Costs no git
 * process unless HEAD is unusual or a hook changed the message.
 */
export async function gitCommitNotices(dir: string, commit: string, message: string): Promise<CommitNotice[]> {
  const notices: CommitNotice[] = [];
  if (await gitHeadDetached(dir)) notices.push({ kind: 'detached-head', commit });
  const expected = trailerKeys(message);
  if (expected.length) {
    const committed = await readCommitMessage(dir, commit);
    if (committed.trimEnd() !== message.trimEnd()) {
      const block = await (await git(dir)).raw(['log', '-1', '--format=%(trailers:only,unfold)', commit, '--']);
      const found = new Set(block.split('\n').map((line) => /^([A-Za-z0-9-]+):/.exec(line)?.[1]?.toLowerCase()));
      const missing = expected.filter((key) => !found.has(key.toLowerCase()));
      if (missing.length) notices.push({ kind: 'trailers-dropped', commit, missing });
    }
  }
  return notices;
}

/** The Certified-* keys of the last paragraph of `message` (the trailer block commitMessage writes). */
function trailerKeys(message: string): string[] {
  const last = message.trimEnd().split(/\n\s*\n/).pop() ?? '';
  return last.split('\n').flatMap((line) => /^(Certified-[A-Za-z0-9-]+):/.exec(line)?.[1] ?? []);
}

/** True when HEAD names a commit rather than a branch. */
async function gitHeadDetached(dir: string): Promise<boolean> {
  const dirs = await findGitDirs(dir).catch(() => null);
  let head = '';
  try {
    head = dirs ? readFileSync(join(dirs.gitDir, 'HEAD'), 'utf8').trim() : '';
  } catch {
    head = '';
  }
  if (OBJECT_ID.test(head)) return true;
  if (head.startsWith('ref: ')) return false;
  // Exit 1: HEAD is not a symbolic ref (detached).
  return (await git(dir)).raw(['symbolic-ref', '-q', 'HEAD']).then(() => false, (error) => error instanceof GitCommandError && error.exitCode === 1);
}

/** The message of `commit`: from its loose object (a new commit always is one), else from git. */
async function readCommitMessage(dir: string, commit: string): Promise<string> {
  const raw = await readLooseObject(dir, commit);
  let object = raw?.slice(raw.indexOf('\0') + 1);
  object ??= await (await git(dir)).raw(['cat-file', 'commit', commit]);
  const start = object.indexOf('\n\n');
  return start < 0 ? '' : object.slice(start + 2);
}

import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GitOperationError, HelperGoneError, causeOfType } from './errors.js';
import { GitCommandError, PATHSPECS_FROM_STDIN, findGitDirs, git, gitFindWorkTree, gitTreeOf, literalPathspecs, type GitClient } from './git.js';
import { ORPHAN_WAIT_MS, waitForExit } from './spawn.js';

/** Used when the user has no git identity configured: commit rather than fail. */
const FALLBACK_IDENTITY = { name: 'certified', email: 'certified@localhost' };

const MISSING_IDENTITY = /Please tell me who you are|empty ident name|unable to auto-detect email|Author identity unknown/i;

/** `git commit` prints "[branch (root-commit) <id>] summary"; with core.abbrev=no the id is whole. */
const COMMIT_LINE = /^\[[^\]\n]*?\b([0-9a-f]{40}|[0-9a-f]{64})\] /m;

/**
 * Stages exactly `paths` (relative to `dir`; deleted paths stage their removal) and commits only
 * them, so a user's other staged or unstaged changes are never swept in. Returns the commit id.
 * First `update-index` (the paths on stdin, taken literally, however many; for thousands of paths
 * much faster than `git add`, which matches every file against every pathspec). The caller
 * refuses skip-worktree paths first (gitRefuseSkipWorktree).
 *
 * `indexMatchedHead` is gitIndexMatchesHead() asked while the change was written, with the index
 * unwritten since (gitIndexStamp). When it is false, `commit --only <paths>` keeps the user's
 * staged changes out (it rebuilds a temporary index from HEAD: 0.5 s at 40,000 files when a new
 * path sorts before most others). When it is true the index is exactly HEAD plus our paths, and
 * the commit records the index as it is: with `write-tree`, `commit-tree` and `update-ref` when
 * `plumbing` (see gitPlumbingCommit), else with `git commit`, whose hooks then run as for
 * any commit.
 */
export async function gitCommitPaths(dir: string, paths: string[], message: string, options: { indexMatchedHead?: boolean; plumbing?: PlumbingCommit; parent?: string } = {}): Promise<string> {
  const client = await git(dir);
  await client.raw(['update-index', '-z', '--add', '--remove', '--replace', '--stdin'], paths.map((path) => `${path}\0`).join(''));
  if (options.indexMatchedHead && options.plumbing && options.parent) return commitIndex(dir, client, message, options.parent, options.plumbing);
  const only = options.indexMatchedHead ? [] : ['--only', ...PATHSPECS_FROM_STDIN];
  const commitInput = options.indexMatchedHead ? undefined : literalPathspecs(paths);
  return withMessageFile(dir, message, async (messageFile) => {
    // The message goes in a file, not in argv: a change naming thousands of hosts has a message
    // longer than a command line may be (E2BIG); stdin carries the pathspecs.
    const commitArgs = ['-c', 'core.abbrev=no', 'commit', '--no-edit', '-F', messageFile, ...only];
    const { output } = await withIdentity(dir, client, (committer) => committer.raw(commitArgs, commitInput)).catch((error: unknown) => {
      const operation = PARTIAL_COMMIT_REFUSED.exec(String(error))?.[1];
      throw operation ? new GitOperationError(dir, operation as GitOperationError['operation']) : error;
    });
    return COMMIT_LINE.exec(output)?.[1] ?? (await client.raw(['rev-parse', 'HEAD'])).trim();
  });
}

/**
 * Commits the index on top of `parent` as `git commit` would with no hook, no signature and the
 * default clean-up of a message given with -F: the same commit, the same reflog entry, and then
 * the same automatic maintenance. `update-ref` moves HEAD only if it still is `parent`. Unlike
 * `git commit`, it leaves .git/COMMIT_EDITMSG as it was.
 */
async function commitIndex(dir: string, client: GitClient, message: string, parent: string, plumbing: PlumbingCommit): Promise<string> {
  const cleaned = stripSpace(message);
  if (!cleaned) throw new GitCommandError(['commit'], 1, 'Aborting commit due to empty commit message.');
  const [tree, parentTree] = await Promise.all([client.raw(['write-tree']).then((output) => output.trim()), gitTreeOf(dir, parent)]);
  if (tree === parentTree) throw new GitCommandError(['commit'], 1, 'nothing to commit, working tree clean');
  const commit = await withMessageFile(dir, cleaned, async (messageFile) => {
    const { output, committer } = await withIdentity(dir, client, (as) => as.raw(['commit-tree', tree, '-p', parent, '-F', messageFile]));
    const id = output.trim();
    const subject = cleaned.slice(0, cleaned.indexOf('\n'));
    await committer.raw(['update-ref', '-m', `commit: ${subject}`, 'HEAD', id, parent]);
    return id;
  });
  await runAutoMaintenance(client, plumbing.maintenance);
  return commit;
}

/**
 * What `git commit` starts after committing: `maintenance run --auto`, in the background unless
 * told otherwise (`--detach`, git 2.47 on; before, its gc went to the background by itself), or
 * `gc --auto` before git 2.29. Its failure fails nothing, as for `git commit`.
 */
async function runAutoMaintenance(client: GitClient, mode: PlumbingCommit['maintenance']): Promise<void> {
  if (mode === 'none') return;
  const failure = await client.raw(['maintenance', 'run', '--auto', '--quiet', `--${mode}`]).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(failure instanceof GitCommandError)) return;
  if (failure.exitCode === 129) await client.raw(['maintenance', 'run', '--auto', '--quiet']).catch(() => undefined); // no --detach yet
  else if (/is not a git command/.test(failure.message)) await client.raw(['gc', '--auto', '--quiet']).catch(() => undefined);
}

/** Runs a command that records an identity; with certified's own when the user has none configured. */
async function withIdentity(dir: string, client: GitClient, run: (committer: GitClient) => Promise<string>): Promise<{ output: string; committer: GitClient }> {
  try {
    return { output: await run(client), committer: client };
  } catch (error) {
    if (!MISSING_IDENTITY.test(String(error))) throw error;
    const fallback = await git(dir, [`user.name=${FALLBACK_IDENTITY.name}`, `user.email=${FALLBACK_IDENTITY.email}`]);
    return { output: await run(fallback), committer: fallback };
  }
}

/**
 * A commit message as `git commit --cleanup=whitespace` (the default with -F) keeps it: trailing
 * white space off every line, runs of blank lines as one, none at the start or end, a final newline.
 */
export function stripSpace(message: string): string {
  let cleaned = '';
  let blankBefore = false;
  for (const line of message.split('\n')) {
    const kept = line.replace(/[ \t\r]+$/, ''); // git's isspace() is these and \n only
    if (!kept) {
      blankBefore = cleaned !== '';
      continue;
    }
    cleaned += `${blankBefore ? '\n' : ''}${kept}\n`;
    blankBefore = false;
  }
  return cleaned;
}

/** The hooks `git commit` runs (reference-transaction runs for update-ref as well). */
const COMMIT_HOOKS = ['pre-commit', 'prepare-commit-msg', 'commit-msg', 'post-commit'];

/**
 * Settings read to decide (see gitPlumbingCommit): hooks (in files under core.hooksPath, or
 * defined in the configuration by newer gits), signing and the message's clean-up, which keep
 * `git commit`; and the three that decide how `git commit` starts its automatic maintenance.
 */
const COMMIT_SETTINGS = '^(core\\.hookspath|commit\\.gpgsign|commit\\.cleanup|hook\\..*|maintenance\\.auto|maintenance\\.autodetach|gc\\.autodetach)$';

/**
 * From this size of index on (about 2,500 tracked files) a change commits with plumbing. `git
 * commit` refreshes the index first, an lstat of every tracked file: at 41,000 files it took 180
 * ms where `write-tree`, `commit-tree` and `update-ref` take 85. In a small repository the two
 * extra processes cost more than the refresh saves.
 */
export const PLUMBING_MIN_INDEX_BYTES = 256 * 1024;

/** How a plumbing commit runs the automatic maintenance afterwards, as `git commit` would. */
export interface PlumbingCommit {
  /** None when maintenance.auto is off; else in the background unless maintenance.autoDetach (or gc.autoDetach) is off. */
  maintenance: 'none' | 'detach' | 'no-detach';
}

/**
 * How a change may commit with plumbing (see gitCommitPaths), undefined when it may not: the index
 * is large (see PLUMBING_MIN_INDEX_BYTES) and `git commit` would only record it and start its
 * automatic maintenance: no commit hook exists (in core.hooksPath or the repository's hooks
 * folder) and none is configured, commit.gpgSign is off, commit.cleanup is the default. One `git
 * config` process for a large index, none for a small one; undefined when unsure.
 */
export async function gitPlumbingCommit(dir: string): Promise<PlumbingCommit | undefined> {
  const dirs = await findGitDirs(dir).catch(() => null);
  if (!dirs) return undefined;
  const index = statSync(join(dirs.gitDir, 'index'), { throwIfNoEntry: false });
  if (!index || index.size < PLUMBING_MIN_INDEX_BYTES) return undefined;
  let listing: string;
  try {
    listing = await (await git(dir)).raw(['config', '-z', '--type=path', '--get-regexp', COMMIT_SETTINGS]);
  } catch (error) {
    if (!(error instanceof GitCommandError && error.exitCode === 1)) return undefined;
    listing = ''; // none of them is set
  }
  const settings = new Map<string, string | undefined>();
  for (const entry of listing.split('\0')) {
    if (!entry) continue;
    const newline = entry.indexOf('\n');
    settings.set((newline < 0 ? entry : entry.slice(0, newline)).toLowerCase(), newline < 0 ? undefined : entry.slice(newline + 1));
  }
  const flag = (key: string) => (settings.has(key) ? gitBoolean(settings.get(key)) : undefined);
  if ([...settings.keys()].some((key) => key.startsWith('hook.'))) return undefined;
  if (flag('commit.gpgsign') !== undefined && flag('commit.gpgsign') !== false) return undefined;
  const cleanup = settings.get('commit.cleanup');
  if (settings.has('commit.cleanup') && !(cleanup !== undefined && /^(default|whitespace)$/i.test(cleanup))) return undefined;
  const hooksPath = settings.get('core.hookspath');
  if (settings.has('core.hookspath') && !hooksPath) return undefined;
  const hooks = hooksPath ? resolve((await gitFindWorkTree(dir)) ?? dir, hooksPath) : join(dirs.commonDir, 'hooks');
  if (COMMIT_HOOKS.some((name) => existsSync(join(hooks, name)))) return undefined;
  if (flag('maintenance.auto') === false) return { maintenance: 'none' };
  return { maintenance: (flag('maintenance.autodetach') ?? flag('gc.autodetach')) === false ? 'no-detach' : 'detach' };
}

/** A git boolean: true, false, or null when it is neither (then nothing is assumed). */
function gitBoolean(value: string | undefined): boolean | null {
  if (value === undefined || /^(true|yes|on|1)$/i.test(value)) return true;
  if (/^(false|no|off|0|)$/i.test(value)) return false;
  return null;
}

/**
 * git's refusal when a merge, cherry-pick or revert began after gitIndexMatchesHead looked (or in
 * a repository whose state files it could not find): reported like the refusal before writing.
 */
const PARTIAL_COMMIT_REFUSED = /cannot do a partial commit during a (merge|cherry-pick|revert|rebase)/;

/**
 * Runs `work` with `message` in a file of its own in the repository's git directory (beside
 * git's own COMMIT_EDITMSG; the system's temporary directory when that is not found), removed after.
 */
async function withMessageFile<T>(dir: string, message: string, work: (file: string) => Promise<T>): Promise<T> {
  const dirs = await findGitDirs(dir).catch(() => null);
  const parent = dirs ? dirs.gitDir : await mkdtemp(join(tmpdir(), 'certified-commit-'));
  const file = join(parent, `CERTIFIED_COMMIT_MSG.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(file, message, { mode: 0o600 });
    return await work(file);
  } catch (error) {
    // A git left running by its dead helper reads the message after the pre-commit hook.
    const gone = causeOfType(error, HelperGoneError);
    if (gone) await waitForExit(gone.orphans, ORPHAN_WAIT_MS);
    throw error;
  } finally {
    rmSync(dirs ? file : parent, { recursive: true, force: true });
  }
}


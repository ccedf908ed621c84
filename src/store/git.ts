import { accessSync, closeSync, constants as fsConstants, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { ReadTooLargeError } from './bounded-read.js';
import { childEnv } from './child-env.js';
import { runProgram } from './spawn.js';
import { GitBusyError, GitMissingError, GitUnknownRefError, SkipWorktreeError } from './errors.js';

/** A failed git command: its stderr (or stdout) is the message, as simple-git reported it. */
export class GitCommandError extends Error {
  constructor(readonly args: string[], readonly exitCode: number | null, output: string) {
    super(output || `git ${args[0] ?? ''} failed with exit code ${exitCode ?? 'unknown'}`);
    this.name = 'GitError';
  }
}

/**
 * The environment git runs in: childEnv() (no CERTIFIED_* variable, so no password reaches a
 * hook) without GIT_* variables and without the editor, pager and askpass variables (the same
 * guard simple-git 4 applies), so a certified started from a git hook or with GIT_DIR set still
 * works on the CA's own repository, and git never opens an editor.
 */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(childEnv())) {
    if (!/^(git_|editor$|visual$|pager$|prefix$|ssh_askpass$)/i.test(key.trim())) env[key] = value;
  }
  return env;
}

export interface GitClient {
  /** Runs `git <args>` in the client's directory, `input` on its stdin; resolves with stdout, rejects with GitCommandError. */
  raw(args: string[], input?: string | Uint8Array, options?: { maxBuffer?: number }): Promise<string>;
}

/**
 * Runs git directly (execFile, no shell). This replaced simple-git: loading simple-git
 * cost ~60 ms of every command that commits, for four plain `git` calls.
 */
export async function git(baseDir: string, config: string[] = []): Promise<GitClient> {
  const prefix = config.flatMap((entry) => ['-c', entry]);
  return {
    raw: async (args, input, options = {}) => {
      const { error, stdout, stderr } = await runProgram('git', [...prefix, ...args], { cwd: baseDir, env: gitEnv(), maxBuffer: options.maxBuffer ?? 512 * 1024 * 1024, ...(input === undefined ? {} : { input }) });
      if (!error) return stdout;
      const code = typeof error.code === 'number' ? error.code : null;
      // ENOENT from spawn: no git on PATH, or no such working directory.
      if (error.code === 'ENOENT' && error.syscall?.startsWith('spawn')) {
        throw await stat(baseDir).then(() => new GitMissingError(error), () => error);
      }
      if (code === null && !stderr) throw error; // git could not be started at all
      throw new GitCommandError(args, code, (stderr || stdout).trim());
    },
  };
}

/**
 * Refuses, with GitMissingError, when no `git` program is on PATH: asked before a change writes
 * anything, since without git a change can be neither committed nor rolled back (its files' old
 * versions are in git). A look through PATH, no process.
 */
export async function gitCheckInstalled(): Promise<void> {
  if (process.platform === 'win32') return; // PATHEXT and friends: let spawn find it
  for (const entry of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    try {
      accessSync(join(entry || '.', 'git'), fsConstants.X_OK);
      return;
    } catch {
      // not in this one
    }
  }
  throw new GitMissingError(undefined);
}

/**
 * The work tree that contains `dir` (walking up to the nearest `.git`), or undefined. This and the
 * other look-ups of a change (git's state files, the index header, the journal, the lock) use
 * synchronous file calls: each takes microseconds, and in a server each await of one waited
 * behind every request queued meanwhile (tens of ms per step, hundreds per commit under load).
 */
export async function gitFindWorkTree(dir: string): Promise<string | undefined> {
  let current = resolve(dir);
  for (;;) {
    if (existsSync(join(current, '.git'))) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * Waits until no git command holds the repository's index lock (a killed certified can leave its
 * git child running for a moment); a lock that stays for `timeoutMs` is reported as GitBusyError.
 */
export async function gitWaitIdle(dir: string, timeoutMs = 5000): Promise<void> {
  let lock: string;
  try {
    lock = resolve(dir, (await (await git(dir)).raw(['rev-parse', '--git-path', 'index.lock'])).trim());
  } catch {
    return;
  }
  const started = Date.now();
  while (await stat(lock).then(() => true, () => false)) {
    if (Date.now() - started > timeoutMs) throw new GitBusyError(lock);
    await new Promise((done) => setTimeout(done, 50));
  }
}

export async function gitInit(dir: string): Promise<void> {
  await (await git(dir)).raw(['init', '-q']);
}

export async function gitHead(dir: string): Promise<string | undefined> {
  const fromFiles = await readHead(dir).catch(() => null);
  if (fromFiles !== null) return fromFiles;
  try {
    return (await (await git(dir)).raw(['rev-parse', '--verify', '-q', 'HEAD'])).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function gitHeadSubject(dir: string): Promise<string | undefined> {
  try {
    return (await (await git(dir)).raw(['log', '-1', '--format=%s'])).trim();
  } catch {
    return undefined;
  }
}

export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The git directory of the work tree that holds `dir` (a linked work tree's own, whose .git is a
 * file) and the common directory its refs live in; null when there is none or it is not plain.
 */
export async function findGitDirs(dir: string): Promise<{ gitDir: string; commonDir: string } | null> {
  const workTree = await gitFindWorkTree(dir);
  if (!workTree) return null;
  let gitDir = join(workTree, '.git');
  if (statSync(gitDir).isFile()) {
    const pointer = /^gitdir: (.+)$/m.exec(readFileSync(gitDir, 'utf8'));
    if (!pointer?.[1]) return null;
    gitDir = resolve(workTree, pointer[1].trim());
  }
  let commonFile: string | undefined;
  try {
    commonFile = readFileSync(join(gitDir, 'commondir'), 'utf8');
  } catch {
    commonFile = undefined;
  }
  return { gitDir, commonDir: commonFile === undefined ? gitDir : resolve(gitDir, commonFile.trim()) };
}

/**
 * HEAD's commit read from the repository's files, as `git rev-parse HEAD` would give it, saving a
 * git process per command: the loose ref or packed-refs, undefined before the first commit. Null
 * for anything less plain (reftable, a symbolic ref to a symbolic ref): then git is asked.
 */
async function readHead(dir: string): Promise<string | undefined | null> {
  const dirs = await findGitDirs(dir);
  return dirs ? readHeadOf(dirs) : null;
}

/**
 * readHead for git directories already found: a few small synchronous reads, cheap enough for a
 * server to ask before every request whether the CA changed.
 */
export function readHeadOf({ gitDir, commonDir }: { gitDir: string; commonDir: string }): string | undefined | null {
  try {
    if (existsSync(join(commonDir, 'reftable'))) return null;
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (OBJECT_ID.test(head)) return head;
    const ref = /^ref: (refs\/heads\/\S+)$/.exec(head)?.[1];
    if (!ref) return null;
    let loose: string | undefined;
    try {
      loose = readFileSync(join(commonDir, ref), 'utf8').trim();
    } catch {
      loose = undefined;
    }
    if (loose !== undefined) return OBJECT_ID.test(loose) ? loose : null;
    let packed = '';
    try {
      packed = readFileSync(join(commonDir, 'packed-refs'), 'utf8');
    } catch {
      packed = '';
    }
    for (const line of packed.split('\n')) {
      const [id, name] = line.split(' ');
      if (name === ref && id && OBJECT_ID.test(id)) return id;
    }
    return undefined;
  } catch {
    return null;
  }
}

/** The first parent of `commit`, undefined for a repository's first commit. */
export async function gitParentOf(dir: string, commit: string): Promise<string | undefined> {
  if (!OBJECT_ID.test(commit)) throw new Error(`"${commit.slice(0, 80)}" is not a commit id`);
  // A commit just made is a loose object: its header says, without a git process.
  const header = await readLooseObject(dir, commit);
  const end = header?.startsWith('commit ') ? header.indexOf('\n\n') : -1;
  if (header !== undefined && end !== -1) {
    const parent = /\nparent ([0-9a-f]+)\n/.exec(header.slice(0, end + 1))?.[1];
    if (parent === undefined || OBJECT_ID.test(parent)) return parent;
  }
  const parent = await (await git(dir)).raw(['rev-parse', '--verify', '-q', `${commit}^`]).then((out) => out.trim(), () => '');
  return OBJECT_ID.test(parent) ? parent : undefined;
}

/** The tree of `commit`: from the loose object of a commit just made, else from git. */
export async function gitTreeOf(dir: string, commit: string): Promise<string> {
  if (!OBJECT_ID.test(commit)) throw new Error(`"${commit.slice(0, 80)}" is not a commit id`);
  const tree = /^commit \d+\0tree ([0-9a-f]+)\n/.exec((await readLooseObject(dir, commit)) ?? '')?.[1];
  if (tree !== undefined && OBJECT_ID.test(tree)) return tree;
  return (await (await git(dir)).raw(['rev-parse', '--verify', '-q', `${commit}^{tree}`])).trim();
}

/**
 * The content of `rel` (relative to `dir`) in `commit`, undefined when the commit has no such
 * file; one `git cat-file`. Refused past `limit` bytes (git's output is cut there).
 */
export async function gitCommittedText(dir: string, commit: string, rel: string, limit: number): Promise<string | undefined> {
  if (!OBJECT_ID.test(commit)) throw new Error(`"${commit.slice(0, 80)}" is not a commit id`);
  const client = await git(dir);
  const header = (await client.raw(['cat-file', '--batch-check=%(objecttype) %(objectsize)'], `${commit}:./${rel}\n`)).trim();
  const [type, size] = header.split(' ');
  if (type !== 'blob') return undefined;
  if (Number(size) > limit) throw new ReadTooLargeError(rel, limit);
  return client.raw(['cat-file', 'blob', `${commit}:./${rel}`], undefined, { maxBuffer: limit }).catch((error: unknown) => {
    // Replaced since the size was read (a force-pushed branch): still not read past the limit.
    if ((error as { code?: string }).code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') throw new ReadTooLargeError(rel, limit);
    throw error;
  });
}

/** A loose object's text (header, NUL, body), undefined when `id` is not a readable loose object. */
export async function readLooseObject(dir: string, id: string): Promise<string | undefined> {
  const dirs = await findGitDirs(dir).catch(() => null);
  if (!dirs) return undefined;
  try {
    const loose = readFileSync(join(dirs.commonDir, 'objects', id.slice(0, 2), id.slice(2)));
    return inflateSync(loose, { maxOutputLength: 512 * 1024 * 1024 }).toString('utf8'); // as git()'s maxBuffer
  } catch {
    return undefined;
  }
}

/** What git keeps while a merge, cherry-pick, revert or rebase is under way. */
export const OPERATION_FILES = ['MERGE_HEAD', 'CHERRY_PICK_HEAD', 'REVERT_HEAD', 'rebase-merge', 'rebase-apply', 'sequencer'];

/**
 * True when the index holds exactly HEAD (nothing staged) and no merge, cherry-pick, revert or
 * rebase is under way: then, once our paths are staged, a plain `git commit` records them and
 * nothing else. False when unsure (no commit yet, an unusual repository layout, an error).
 */
export async function gitIndexMatchesHead(dir: string): Promise<boolean> {
  const dirs = await findGitDirs(dir).catch(() => null);
  if (!dirs || (await gitHead(dir)) === undefined) return false;
  for (const name of OPERATION_FILES) {
    if (existsSync(join(dirs.gitDir, name))) return false;
  }
  // Exit 0: nothing staged; 1: something is. The plumbing command over the whole repository, so
  // that neither diff.relative (from a CA in a subdirectory) nor ignored submodules hide a change.
  return (await git(dir)).raw(['diff-index', '--cached', '--quiet', '--ignore-submodules=none', 'HEAD', '--']).then(() => true, () => false);
}

/**
 * The index file as the file system has it (inode, size, change times): another value later means
 * the index was written meanwhile (someone staged something). Undefined when it cannot be read.
 */
export async function gitIndexStamp(dir: string): Promise<string | undefined> {
  const dirs = await findGitDirs(dir).catch(() => null);
  if (!dirs) return undefined;
  try {
    const stats = statSync(join(dirs.gitDir, 'index'), { bigint: true });
    return `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** From this many committed files on, a change stores their content as one pack first (gitWriteBlobs). */
export const PACK_MIN_OBJECTS = 100;

/**
 * Stores `contents` as blobs in one new pack (`git fast-import`). Staging the files with that
 * content afterwards finds each object already stored and writes no loose object: for thousands
 * of files (apply), one pack instead of thousands of small files. unpackLimit=0: fast-import would
 * otherwise explode a pack of few new objects (100 by default, or the repository's setting) into
 * loose objects.
 */
export async function gitWriteBlobs(dir: string, contents: (string | Uint8Array)[]): Promise<void> {
  const stream: Buffer[] = [];
  for (const content of contents) {
    const data = Buffer.from(content);
    stream.push(Buffer.from(`blob\ndata ${data.length}\n`), data, Buffer.from('\n'));
  }
  stream.push(Buffer.from('done\n'));
  await (await git(dir)).raw(['-c', 'fastimport.unpackLimit=0', 'fast-import', '--quiet', '--done'], Buffer.concat(stream));
}

/** Puts `paths` back as they are in HEAD (index and work tree); paths HEAD does not have are unstaged. */
export async function gitRestorePaths(dir: string, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const client = await git(dir);
  const head = await gitHead(dir);
  if (!head) {
    await client.raw(['rm', '-q', '--cached', '-r', '--ignore-unmatch', ...PATHSPECS_FROM_STDIN], literalPathspecs(paths));
    return;
  }
  const tracked = await pathsInHead(client, paths);
  await client.raw(['reset', '-q', 'HEAD', ...PATHSPECS_FROM_STDIN], literalPathspecs(paths));
  // --ignore-skip-worktree-bits: restore a path marked skip-worktree too, rather than fail on it.
  if (tracked.length) await client.raw(['checkout', '--ignore-skip-worktree-bits', 'HEAD', ...PATHSPECS_FROM_STDIN], literalPathspecs(tracked));
}

/** Pathspecs go on stdin, NUL-separated: a large apply has more paths than a command line holds. */
export const PATHSPECS_FROM_STDIN = ['--pathspec-from-file=-', '--pathspec-file-nul'];

/** Each path as a pathspec that matches exactly it (no glob), for PATHSPECS_FROM_STDIN. */
export function literalPathspecs(paths: string[]): string {
  return paths.map((path) => `:(literal)${path}\0`).join('');
}

/** The paths (relative to the client's directory) that HEAD has: one cat-file for any number. */
async function pathsInHead(client: GitClient, paths: string[]): Promise<string[]> {
  const types = (await client.raw(['cat-file', '--batch-check=%(objecttype)'], paths.map((path) => `HEAD:./${path}\n`).join(''))).split('\n');
  return paths.filter((_, index) => types[index] === 'blob');
}

/**
 * Refuses paths whose index entry is marked skip-worktree (outside a sparse checkout), as `git add`
 * does: `update-index --remove` would drop them from the index, and the commit would delete them.
 * Asked before anything is written. Only index versions 3 and 4 can hold the flag, and git writes
 * version 2 until an entry needs it, so a plain repository costs one read of 8 bytes; a split
 * index (whose shared part may hold the flag) or an unknown index is always listed.
 */
export async function gitRefuseSkipWorktree(dir: string, paths: string[]): Promise<void> {
  const dirs = await findGitDirs(dir).catch(() => null);
  if (dirs && (await indexVersion(join(dirs.gitDir, 'index'))) === 2 && !(await hasSharedIndex(dirs.gitDir))) return;
  if (!(await gitFindWorkTree(dir))) return;
  // -t tags skip-worktree entries "S"; -v would lower-case the tag of assume-unchanged ones.
  const listing = await (await git(dir)).raw(['ls-files', '-t', '-z']);
  const hidden = new Set(listing.split('\0').flatMap((entry) => (entry.startsWith('S ') ? [entry.slice(2)] : [])));
  const path = paths.find((candidate) => hidden.has(candidate));
  if (path !== undefined) throw new SkipWorktreeError(path);
}

async function hasSharedIndex(gitDir: string): Promise<boolean> {
  try {
    return readdirSync(gitDir).some((name) => name.startsWith('sharedindex.'));
  } catch {
    return false;
  }
}

/** The version in an index file's header; 2 when there is no index yet (nothing to flag), undefined when unknown. */
async function indexVersion(indexFile: string): Promise<number | undefined> {
  let fd;
  try {
    fd = openSync(indexFile, 'r');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 2 : undefined;
  }
  try {
    const header = Buffer.alloc(8);
    const bytesRead = readSync(fd, header, 0, 8, 0);
    return bytesRead === 8 && header.toString('latin1', 0, 4) === 'DIRC' ? header.readUInt32BE(4) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Sets a key in the repository's own config (.git/config of the work tree that holds `dir`). */
export async function gitSetConfig(dir: string, key: string, value: string): Promise<void> {
  await (await git(dir)).raw(['config', '--local', key, value]);
}

/**
 * `git log` of the commits that touch `dir`, newest first, in the given --format; '' when the
 * repository has no commits yet.
 */
export async function gitLog(dir: string, format: string): Promise<string> {
  if (!(await gitHead(dir))) return '';
  return (await git(dir)).raw(['log', `--format=${format}`, '--', '.']);
}

/**
 * The whole messages of `commits`, in their order: one git process, the ids on stdin (any
 * number of them).
 */
export async function gitCommitMessages(dir: string, commits: string[]): Promise<string[]> {
  if (commits.length === 0) return [];
  const output = await (await git(dir)).raw(['log', '--no-walk=unsorted', '--stdin', '--format=%x1e%B'], commits.map((id) => `${id}\n`).join(''));
  return output.split('\x1e').slice(1);
}

/**
 * Paths under `dir` (relative to it) tracked in the index whose staged content matches `pattern`
 * (ERE); only among `paths` when given (taken literally; a long list greps everything and keeps those).
 */
export async function gitGrepTracked(dir: string, pattern: string, paths?: string[]): Promise<string[]> {
  // Exit code 1 is "no match"; any other failure (no git, no repository) is thrown: the caller must not read it as "none".
  return gitPathsAmong(dir, ['grep', '--cached', '-l', '-I', '-E', '-e', pattern], paths, (output) => output.split('\n').filter(Boolean), { noMatchExitCode: 1 });
}

/**
 * What `command` (git's arguments before its pathspecs) finds, as `parse` reads its output: among
 * `paths` (taken literally) when given, else under `dir`. A list too long for a command line runs
 * over everything, and only what it names is kept.
 */
async function gitPathsAmong(dir: string, command: string[], paths: string[] | undefined, parse: (output: string) => string[], options: { noMatchExitCode?: number } = {}): Promise<string[]> {
  if (paths?.length === 0) return [];
  const client = await git(dir);
  const few = paths !== undefined && paths.length <= GREP_PATHSPECS;
  const args = few ? ['--literal-pathspecs', ...command, '--', ...paths] : [...command, '--', '.'];
  const output = await client.raw(args).catch((error: unknown) => {
    if (options.noMatchExitCode !== undefined && error instanceof GitCommandError && error.exitCode === options.noMatchExitCode) return '';
    throw error;
  });
  const found = [...new Set(parse(output))];
  if (paths === undefined || few) return found;
  const wanted = new Set(paths);
  return found.filter((path) => wanted.has(path));
}

/**
 * Of the tracked files under `dir` that match `patterns` (pathspecs such as "*.crt"), or of
 * `paths` when given, those git shows no diff of: their `diff` attribute is unset ("-diff", or "binary"), so `git diff`,
 * `git log -p` and a pull request's page hide what changed in them.
 */
export async function gitDiffHiddenPaths(dir: string, patterns: string[], paths?: string[]): Promise<string[]> {
  const client = await git(dir);
  const tracked = paths ?? (await client.raw(['ls-files', '-z', '--', ...patterns])).split('\0').filter(Boolean);
  if (tracked.length === 0) return [];
  // "PATH\0ATTRIBUTE\0VALUE\0" for each path; the paths go on stdin, however many.
  const fields = (await client.raw(['check-attr', '-z', '--stdin', 'diff'], tracked.map((path) => `${path}\0`).join(''))).split('\0');
  const hidden: string[] = [];
  for (let at = 0; at + 2 < fields.length; at += 3) if (fields[at + 2] === 'unset') hidden.push(fields[at]!);
  return hidden;
}

/** Whether any .gitattributes of the repository that holds `dir`, wherever it is, differs between `base` and the working tree. */
export async function gitAttributesChangedSince(dir: string, base: string): Promise<boolean> {
  const output = await (await git(dir)).raw(['diff', '--name-only', '-z', base, '--', ':(top,glob)**/.gitattributes']);
  return output !== '';
}

/** Whether git ignores each of `paths` (relative to `dir`; they need not exist) by .gitignore, info/exclude or core.excludesFile: one process for all. */
export async function gitIgnores(dir: string, paths: string[]): Promise<boolean[]> {
  const client = await git(dir);
  // Prints the ignored ones; exit code 1 is "none ignored"; any other failure is thrown: the caller must not read it as an answer.
  const output = await client.raw(['check-ignore', '-z', '--stdin', '--no-index'], paths.map((path) => `${path}\0`).join('')).catch((error: unknown) => {
    if (error instanceof GitCommandError && error.exitCode === 1) return '';
    throw error;
  });
  const ignored = new Set(output.split('\0'));
  return paths.map((path) => ignored.has(path));
}

/** Paths under `dir` (relative to it) that git's index holds as symbolic links; only among `paths` when given. */
export async function gitTrackedSymlinks(dir: string, paths?: string[]): Promise<string[]> {
  // "MODE OBJECT STAGE\tPATH", each ended by NUL; 120000 is a symbolic link.
  return gitPathsAmong(dir, ['ls-files', '-s', '-z'], paths, (output) =>
    output
      .split('\0')
      .filter((entry) => entry.startsWith('120000 '))
      .map((entry) => entry.slice(entry.indexOf('\t') + 1)),
  );
}

/** Up to this many paths go on a git command line (see gitPathsAmong). */
const GREP_PATHSPECS = 1000;

/**
 * Paths under `dir` (relative to it) that differ between the merge base of `ref` and HEAD and the
 * working tree: what `git diff ref...HEAD` lists, plus uncommitted changes and untracked files that
 * git does not ignore. Deleted files are included. Throws GitUnknownRefError for a `ref` git does
 * not know or that shares no history with HEAD. `base` is the merge base; `added` holds the paths
 * that did not exist there.
 */
export async function gitChangedPaths(dir: string, ref: string): Promise<{ base: string; paths: string[]; added: Set<string> }> {
  const client = await git(dir);
  // Untracked files do not depend on `ref`: listed while the revisions are resolved.
  const listing = client.raw(['ls-files', '--others', '--exclude-standard', '-z', '--', '.']);
  listing.catch(() => undefined);
  // The merge base (its id) and the diff from it start together: `diff --merge-base` finds it
  // again rather than wait for it (git 2.30 and later; else, or with several bases, the diff
  // from the id). Only a failure asks git why.
  const target = `${ref}^{commit}`;
  const diffArgs = ['diff', '--name-status', '--no-renames', '--relative', '-z'];
  const merged = client.raw(['merge-base', '--end-of-options', target, 'HEAD']).then((out) => out.trim(), () => '');
  const diffing = client.raw([...diffArgs, '--merge-base', '--end-of-options', target, '--', '.']);
  diffing.catch(() => undefined);
  const base = await merged;
  if (!OBJECT_ID.test(base)) {
    const commit = (await client.raw(['rev-parse', '--verify', '--quiet', '--end-of-options', target]).catch(() => '')).trim();
    const shallow = (await client.raw(['rev-parse', '--is-shallow-repository']).catch(() => '')).trim() === 'true';
    throw new GitUnknownRefError(ref, !OBJECT_ID.test(commit) ? 'unknown' : shallow ? 'shallow' : 'unrelated', shallow);
  }
  const [changed, untracked] = await Promise.all([diffing.catch(() => client.raw([...diffArgs, base, '--', '.'])), listing]);
  // --name-status -z: the status letter and the path, each ended by NUL.
  const fields = changed.split('\0');
  const paths = new Set<string>();
  const added = new Set<string>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const path = fields[i + 1]!;
    paths.add(path);
    if (fields[i] === 'A') added.add(path);
  }
  for (const path of untracked.split('\0').filter(Boolean)) {
    paths.add(path);
    added.add(path);
  }
  return { base, paths: [...paths].sort(), added };
}

/**
 * Each match of the Perl-compatible `pattern` in the tracked files under `folder` (relative to
 * `dir`; as the work tree has them), in order, a file's matches together and given the same
 * path string. One `git grep -o` reads them all in C, on one thread (it runs beside other git
 * processes; more threads cost more CPU than they save here). Files without a match, and
 * untracked ones, are not seen. Throws when git cannot (one built without PCRE, no repository).
 */
export async function gitMatchesUnder(dir: string, folder: string, pattern: string, onMatch: (path: string, match: string) => void): Promise<void> {
  const client = await git(dir);
  const args = ['grep', '--threads=1', '--no-line-number', '--no-column', '--no-full-name', '--no-color', '--text', '--only-matching', '-z', '--perl-regexp', '-e', pattern, '--', `${folder}/`];
  const output = await client.raw(args).catch((error: unknown) => {
    if (error instanceof GitCommandError && error.exitCode === 1) return ''; // no match
    throw error;
  });
  // "PATH\0MATCH\n" for each match: a path may hold a newline, a match (one line's) cannot.
  let path = '';
  for (let at = 0; at < output.length; ) {
    const nul = output.indexOf('\0', at);
    if (nul === -1) break;
    const end = output.indexOf('\n', nul + 1);
    if (nul - at !== path.length || !output.startsWith(path, at)) path = output.slice(at, nul);
    onMatch(path, output.slice(nul + 1, end === -1 ? output.length : end));
    at = end === -1 ? output.length : end + 1;
  }
}

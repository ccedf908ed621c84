import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { GitBusyError } from './errors.js';

/** Used when the user has no git identity configured: commit rather than fail. */
export const FALLBACK_IDENTITY = { name: 'certified', email: 'certified@localhost' };

const MISSING_IDENTITY = /Please tell me who you are|empty ident name|unable to auto-detect email|Author identity unknown/i;

async function git(baseDir: string, config: string[] = []): Promise<SimpleGit> {
  const { simpleGit } = await import('simple-git');
  return simpleGit({ baseDir, config, maxConcurrentProcesses: 1 });
}

/** The work tree that contains `dir` (walking up to the nearest `.git`), or undefined. */
export async function gitFindWorkTree(dir: string): Promise<string | undefined> {
  let current = resolve(dir);
  for (;;) {
    const found = await stat(join(current, '.git')).then(() => true, () => false);
    if (found) return current;
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

/**
 * Stages exactly `paths` (relative to `dir`; deleted paths stage their removal) and commits only
 * them, so a user's other staged or unstaged changes are never swept in. Returns the commit id.
 */
export async function gitCommitPaths(dir: string, paths: string[], message: string): Promise<string> {
  const client = await git(dir);
  await client.raw(['add', '-f', '-A', '--', ...paths]);
  const commitArgs = ['commit', '-q', '--no-edit', '-m', message, '--only', '--', ...paths];
  try {
    await client.raw(commitArgs);
  } catch (error) {
    if (!MISSING_IDENTITY.test(String(error))) throw error;
    const fallback = await git(dir, [`user.name=${FALLBACK_IDENTITY.name}`, `user.email=${FALLBACK_IDENTITY.email}`]);
    await fallback.raw(commitArgs);
  }
  return (await client.raw(['rev-parse', 'HEAD'])).trim();
}

/** Puts `paths` back as they are in HEAD (index and work tree); paths HEAD does not have are unstaged. */
export async function gitRestorePaths(dir: string, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const client = await git(dir);
  const head = await gitHead(dir);
  if (!head) {
    await client.raw(['rm', '-q', '--cached', '-r', '--ignore-unmatch', '--', ...paths]);
    return;
  }
  const tracked = (await client.raw(['ls-tree', '-r', '--name-only', 'HEAD', '--', ...paths]))
    .split('\n')
    .filter(Boolean);
  await client.raw(['reset', '-q', 'HEAD', '--', ...paths]);
  if (tracked.length) await client.raw(['checkout', 'HEAD', '--', ...tracked]);
}

/** Sets a key in the repository's own config (.git/config of the work tree that holds `dir`). */
export async function gitSetConfig(dir: string, key: string, value: string): Promise<void> {
  const { simpleGit } = await import('simple-git');
  // simple-git refuses to set a textconv command unless told that it is meant.
  const client = simpleGit({ baseDir: dir, maxConcurrentProcesses: 1, unsafe: { allowUnsafeDiffTextConv: true } });
  await client.raw(['config', '--local', key, value]);
}

/**
 * `git log` of the commits that touch `dir`, newest first, in the given --format; '' when the
 * repository has no commits yet.
 */
export async function gitLog(dir: string, format: string): Promise<string> {
  if (!(await gitHead(dir))) return '';
  return (await git(dir)).raw(['log', `--format=${format}`, '--', '.']);
}

/** Paths under `dir` (relative to it) tracked in the index whose staged content matches `pattern` (ERE). */
export async function gitGrepTracked(dir: string, pattern: string): Promise<string[]> {
  const client = await git(dir);
  const output = await client.raw(['grep', '--cached', '-l', '-I', '-E', '-e', pattern, '--', '.']).catch(() => '');
  return output.split('\n').filter(Boolean);
}

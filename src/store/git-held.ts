import { createHash } from 'node:crypto';
import { git } from './git.js';

/** What git holds for a path: its blob ids in HEAD, in the index (stage 0) and in a given commit, when it has one. */
export interface HeldBlobs {
  head?: string;
  index?: string;
  parent?: string;
}

/**
 * The blob ids HEAD and the index hold for `paths` (relative to `dir`): one `cat-file` for any
 * number of paths. A repository without commits has no HEAD entries.
 */
export async function gitHeldBlobs(dir: string, paths: string[], parent?: string): Promise<Map<string, HeldBlobs>> {
  const held = new Map<string, HeldBlobs>();
  if (paths.length === 0) return held;
  const revs = ['HEAD:./', ':./', ...(parent ? [`${parent}:./`] : [])];
  const input = paths.flatMap((path) => revs.map((rev) => `${rev}${path}\n`)).join('');
  const lines = (await (await git(dir)).raw(['cat-file', '--batch-check=%(objectname) %(objecttype)'], input)).split('\n');
  const blob = (line: string | undefined) => (line && / blob$/.test(line) ? line.split(' ')[0] : undefined);
  paths.forEach((path, index) => {
    const [head, staged, before] = revs.map((_, offset) => blob(lines[revs.length * index + offset]));
    held.set(path, { ...(head ? { head } : {}), ...(staged ? { index: staged } : {}), ...(before ? { parent: before } : {}) });
  });
  return held;
}

/** The id git gives `content` as a blob, in the hash of `like` (SHA-1: 40 hex digits, SHA-256: 64). */
export function gitBlobId(content: Uint8Array, like: string): string {
  const hash = createHash(like.length === 64 ? 'sha256' : 'sha1');
  hash.update(`blob ${content.length}\0`);
  hash.update(content);
  return hash.digest('hex');
}

/** git itself could not be started (not installed, not on PATH): nothing git does can have happened. */
export function isGitMissing(error: unknown): boolean {
  for (let failure = error as (NodeJS.ErrnoException & { cause?: unknown }) | undefined, depth = 0; failure && depth < 5; failure = failure.cause as typeof failure, depth++) {
    if (failure.code === 'ENOENT' && typeof failure.syscall === 'string' && failure.syscall.startsWith('spawn')) return true;
  }
  return false;
}

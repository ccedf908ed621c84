import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** Scratch git repositories for the store's unit tests, removed after the file's tests. */
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs git in `dir` with an identity of its own (the machine may have none); its trimmed output. */
export function git(dir: string, args: string[]): string {
  const result = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A new, empty repository. */
export function repo(prefix = 'certified-git-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  git(dir, ['init', '-q']);
  return dir;
}

/** A path removed with the repositories (a linked work tree beside one). */
export function removedAfter(path: string): string {
  dirs.push(path);
  return path;
}

/** Writes `name` in `dir` and commits it. */
export function commitFile(dir: string, name: string, text: string): void {
  writeFileSync(join(dir, name), text);
  git(dir, ['add', name]);
  git(dir, ['commit', '-q', '-m', `add ${name}`]);
}

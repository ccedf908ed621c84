import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { baseEnv } from './env.js';

export { baseEnv };

/** The checkout: dist-test/test/helpers -> ../../.. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(REPO, 'bin/certified');
export const ROOT_PASSWORD = 'root password for tests';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  input?: string;
  /** Keep stdin open and silent (a pipe that never ends). */
  silentStdin?: boolean;
  timeoutMs?: number;
}


/** Runs the built CLI; stdin is closed (or fed `input`) unless silentStdin. */
export function run(args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: baseEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else if (!options.silentStdin) child.stdin.end();
  });
}

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory outside the checkout, removed when the test file ends. */
export function tempDir(prefix = 'certified-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A CA made in a new directory, as most suites make one before their tests: the directory and the CA's. */
export async function freshCa(args: string[] = [], env: Record<string, string> = {}): Promise<{ cwd: string; db: string }> {
  const cwd = tempDir();
  await makeCa(cwd, args, env);
  return { cwd, db: join(cwd, 'etc/ssl') };
}

/** Makes a CA in `<cwd>/etc/ssl` (or --db from args) and fails loudly if it could not. */
export async function makeCa(cwd: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunResult> {
  const result = await run(['--ca', 'C=US', 'O=Example', 'CN=Example CA', ...args], {
    cwd,
    env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD, ...env },
  });
  if (result.code !== 0) throw new Error(`certified --ca failed: ${result.stderr}`);
  return result;
}

export function tool(command: string, args: string[], options: { cwd?: string; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: options.cwd, input: options.input, encoding: 'utf8' });
}

export function openssl(args: string[], cwd?: string): SpawnSyncReturns<string> {
  return tool('openssl', args, cwd ? { cwd } : {});
}

export function git(dir: string, args: string[]): string {
  const result = tool('git', ['-C', dir, ...args]);
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

export function commitCount(dir: string): number {
  const result = tool('git', ['-C', dir, 'rev-list', '--count', 'HEAD']);
  return result.status === 0 ? Number(result.stdout.trim()) : 0;
}

/** Every file under `dir` (including .git) with a hash of its content: equal snapshots mean nothing changed. */
export function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (current: string) => {
    let entries: string[];
    try {
      entries = readdirSync(current);
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(current, entry);
      const stats = statSync(path);
      if (stats.isDirectory()) walk(path);
      else files.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(dir);
  return files;
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

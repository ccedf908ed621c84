import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, baseEnv } from './cli.js';

export { freePort } from './ports.js';

export interface Served {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `certified serve` and waits (bounded) for its "Serving" line. */
export async function serve(cwd: string, port: number, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${port}`], { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 300 && !stderr.includes('Serving') && child.exitCode === null; i++) await sleep(100);
  assert.match(stderr, /Serving CRLs at /);
  return { child, stderr: () => stderr, exit };
}

/** Stops a server a test started, if it still runs. */
export function stop(served: Served | undefined): void {
  if (served && served.child.exitCode === null) served.child.kill('SIGKILL');
}

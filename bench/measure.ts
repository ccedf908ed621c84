import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnv } from '../test/helpers/env.js';

/** The checkout: dist-test/bench -> ../.. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(REPO, 'bin/certified');
export const ROOT_PASSWORD = 'bench root password';

/** GNU time reports a child's peak RSS (ru_maxrss, the largest of the process and the children it waited for). */
const TIME = '/usr/bin/time';
export const HAS_TIME = existsSync(TIME);

export interface Sample {
  ms: number;
  /** Peak resident set size in KiB, when /usr/bin/time is there. */
  rssKb?: number;
  /** User + system CPU time of the process and its children, ms (10 ms resolution). */
  cpuMs?: number;
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunSpec {
  cwd: string;
  env?: Record<string, string | undefined>;
  input?: string;
}



/** Runs one command to its end: wall time from spawn to exit, and its peak RSS. */
export function sample(command: string, args: string[], spec: RunSpec): Sample {
  const rssFile = join(scratchDir('time'), 'rss');
  rmSync(rssFile, { force: true });
  const [file, argv] = HAS_TIME ? [TIME, ['-q', '-f', '%M %U %S', '-o', rssFile, command, ...args]] : [command, args];
  const started = process.hrtime.bigint();
  const result = spawnSync(file, argv, {
    cwd: spec.cwd,
    env: baseEnv(spec.env),
    input: spec.input ?? '',
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  let usage: { rssKb?: number; cpuMs?: number } = {};
  if (HAS_TIME && existsSync(rssFile)) {
    const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
    const [rss, user, system] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
    if (rss && user !== undefined && system !== undefined) usage = { rssKb: rss, cpuMs: (user + system) * 1000 };
  }
  return { ms, ...usage, code: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Runs the built CLI. */
export function certified(args: string[], spec: RunSpec): Sample {
  return sample(process.execPath, [BIN, ...args], spec);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface Row {
  label: string;
  runs: number;
  /** Median wall time in ms. */
  ms?: number;
  /** Largest peak RSS over the runs, MiB. */
  rssMb?: number;
  /** Median CPU time (user + system, with child processes), ms: steadier than wall time on a busy machine. */
  cpuMs?: number;
  note?: string;
}

/**
 * Runs `once` `runs` times (each gets the run's index) and summarises; a failure stops the bench.
 */
export function measure(label: string, runs: number, once: (index: number) => Sample, accept: (s: Sample) => boolean = (s) => s.code === 0): Row {
  const samples: Sample[] = [];
  for (let index = 0; index < runs; index++) {
    const result = once(index);
    if (!accept(result)) throw new Error(`${label}: exit ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    samples.push(result);
  }
  const rss = samples.flatMap((s) => (s.rssKb === undefined ? [] : [s.rssKb]));
  const cpu = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
  return {
    label,
    runs,
    ms: median(samples.map((s) => s.ms)),
    ...(rss.length ? { rssMb: Math.max(...rss) / 1024 } : {}),
    ...(cpu.length ? { cpuMs: median(cpu) } : {}),
  };
}

export function formatTable(rows: Row[]): string {
  const header = ['what', 'runs', 'median ms', 'CPU ms', 'peak RSS MiB', 'note'];
  const body = rows.map((row) => [
    row.label,
    String(row.runs || '-'),
    row.ms === undefined ? 'n/a' : row.ms.toFixed(0),
    row.cpuMs === undefined ? 'n/a' : row.cpuMs.toFixed(0),
    row.rssMb === undefined ? 'n/a' : row.rssMb.toFixed(0),
    row.note ?? '',
  ]);
  const lines = [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

export function git(dir: string, args: string[]): string {
  const result = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

const scratchDirs: string[] = [];
process.on('exit', () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed when the bench exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `certified-bench-${prefix}-`));
  scratchDirs.push(dir);
  return dir;
}

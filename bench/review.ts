/**
 * The review section of npm run bench: what a reviewer pays for `git log -p` on a CA, where git
 * runs the textconv (bin/certified-textconv, `certified show FILE`) once per certificate, chain,
 * CSR and CRL blob. Times `certified show` on a certificate against `node -e 0` (interleaved, so
 * that both see the same load), and `git log -p -100` with no kept text (cold) and run again (warm).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, ROOT_PASSWORD, certified, median, sample, scratchDir, type Row, type Sample } from './measure.js';

const COMMITS = 30;
const SHOW_RUNS = 11;
const LOG_RUNS = 3;

function row(label: string, samples: Sample[], note?: string): Row {
  const cpu = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
  const rss = samples.flatMap((s) => (s.rssKb === undefined ? [] : [s.rssKb]));
  return {
    label,
    runs: samples.length,
    ms: median(samples.map((s) => s.ms)),
    ...(cpu.length ? { cpuMs: median(cpu) } : {}),
    ...(rss.length ? { rssMb: Math.max(...rss) / 1024 } : {}),
    ...(note ? { note } : {}),
  };
}

function checked(label: string, result: Sample): Sample {
  if (result.code !== 0) throw new Error(`${label}: exit ${result.code}: ${result.stderr.trim()}`);
  return result;
}

function verdict(value: number | undefined, limit: number | undefined, what: string): string {
  if (value === undefined || limit === undefined) return `target ${what}: n/a`;
  return `target ${what} (${limit.toFixed(0)} ms): ${value <= limit ? 'met' : `missed by ${(value - limit).toFixed(0)} ms`}`;
}

/** Makes the CA, measures, and adds its rows (with their targets in the notes). */
export function benchReview(add: (row: Row) => Row, log: (line: string) => void): void {
  log(`Review: git log -p on a CA of ${COMMITS + 1} commits (issues and revocations):`);
  const dir = scratchDir('review');
  checked('certified --ca', certified(['--ca', '--db', dir, 'O=Bench', 'CN=Bench CA'], { cwd: dir, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } }));
  for (let i = 0; i < COMMITS; i++) {
    // Every fourth commit revokes the certificate issued just before: a new CRL, files moved to revoked/.
    const args = i % 4 === 3 ? ['revoke', '--db', dir, `CN=review-${i - 1}.example.com`] : ['--db', dir, `CN=review-${i}.example.com`];
    checked(args.join(' '), certified(args, { cwd: dir }));
  }

  const file = join(dir, 'certs/review-0.example.com.chain.crt');
  const floor: Sample[] = [];
  const show: Sample[] = [];
  const textconv: Sample[] = [];
  const whole: Sample[] = [];
  const kept = join(dir, '.git/certified-textconv');
  for (let run = 0; run < SHOW_RUNS; run++) {
    floor.push(checked('node -e 0', sample(process.execPath, ['-e', '0'], { cwd: dir })));
    show.push(checked('certified show', certified(['show', file], { cwd: dir })));
    rmSync(kept, { recursive: true, force: true });
    textconv.push(checked('bin/certified-textconv', sample(join(REPO, 'bin/certified-textconv'), [file], { cwd: dir })));
    whole.push(checked('whole CLI show', sample(process.execPath, [join(REPO, 'dist/bundle/cli.cjs'), 'show', file], { cwd: dir })));
  }
  const floorRow = add(row('node -e 0 (interleaved with the three rows below)', floor));
  const limit = floorRow.ms === undefined ? undefined : floorRow.ms + 20;
  const showRow = row('certified show FILE (a chain)', show);
  add({ ...showRow, note: verdict(showRow.ms, limit, 'node -e 0 + 20 ms') });
  const textconvRow = row('bin/certified-textconv FILE, nothing kept (what git runs)', textconv);
  add({ ...textconvRow, note: verdict(textconvRow.ms, limit, 'node -e 0 + 20 ms') });
  add(row('certified show FILE through the whole CLI (what every textconv run cost before)', whole));

  const gitLog = () => checked('git log -p -100', sample('git', ['log', '-p', '-100', '--no-color'], { cwd: dir }));
  const cold: Sample[] = [];
  for (let run = 0; run < LOG_RUNS; run++) {
    rmSync(kept, { recursive: true, force: true });
    cold.push(gitLog());
  }
  const blobs = existsSync(kept) ? readdirSync(kept).reduce((count, build) => count + readdirSync(join(kept, build)).length, 0) : 0;
  add(row(`git log -p -100, cold (nothing kept: ${blobs} blobs to show)`, cold));
  const warm: Sample[] = [];
  for (let run = 0; run < LOG_RUNS; run++) warm.push(gitLog());
  const warmRow = row('git log -p -100, warm (run again)', warm);
  add({ ...warmRow, note: verdict(warmRow.ms, 5000, '5 s') });
}

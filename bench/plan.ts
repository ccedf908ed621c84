/**
 * `certified plan` of a manifest the CA already matches, at several sizes: the CA is grown through
 * the library (bench/grow.ts, as `apply` would have left it: every record managed), one commit per
 * size, then `certified plan` is timed. The bench runner (bench/run.ts) calls benchPlan();
 * `node dist-test/bench/plan.js [sizes...]` runs it alone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostName, issueMany, commitAll } from './grow.js';
import { ROOT_PASSWORD, certified, measure, scratchDir, type Row } from './measure.js';
import { recordPath } from '../src/store/layout.js';
import { parseRecord, serializeRecord, type CertificateRecord } from '../src/store/records.js';

export const PLAN_SIZES = [1_000, 5_000, 10_000, 20_000];
/** The size the target is set at: plan of 10,000 unchanged entries <= 1 s. */
export const PLAN_TARGET_SIZE = 10_000;
export const PLAN_TARGET_MS = 1_000;
const RUNS = 5;

/** The manifest of the first `count` certificates bench/grow.ts issues, exactly as they were issued. */
export function planManifest(count: number): string {
  const lines = ['defaults: { days: 365, key: ecdsa }', 'renew_before: 30d', 'certificates:'];
  for (let i = 0; i < count; i++) {
    const name = hostName(i);
    lines.push(`  ${name}: { cn: ${name}.example.com, san: [${name}.example.com], profile: both }`);
  }
  return `${lines.join('\n')}\n`;
}

/** As `certified apply` records them: managed by the manifest. */
function markManaged(dir: string, records: CertificateRecord[]): void {
  for (const record of records) {
    const path = join(dir, recordPath(record.issuer, record.serial));
    writeFileSync(path, serializeRecord({ ...parseRecord(readFileSync(path, 'utf8')), managed: true }));
  }
}

export interface BenchPlanResult {
  rows: Row[];
  /** Median ms per entry at each size, to judge linearity. */
  perEntryUs: { size: number; us: number }[];
}

/** Grows one CA through `sizes` (ascending) and times `certified plan` at each. */
export async function benchPlan(sizes = PLAN_SIZES, log: (line: string) => void = () => undefined): Promise<BenchPlanResult> {
  const dir = scratchDir('plan');
  const made = certified(['--ca', '--db', dir, 'O=Bench', 'CN=Bench CA'], { cwd: dir, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
  if (made.code !== 0) throw new Error(`certified --ca failed: ${made.stderr}`);
  const rows: Row[] = [];
  const perEntryUs: BenchPlanResult['perEntryUs'] = [];
  let have = 0;
  for (const size of sizes) {
    const started = Date.now();
    markManaged(dir, await issueMany(dir, have, size - have));
    writeFileSync(join(dir, 'certificates.yaml'), planManifest(size));
    commitAll(dir, `bench: ${size} certificates from certificates.yaml`);
    log(`  grew the CA to ${size} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    have = size;
    const row = measure(`certified plan, ${size} unchanged entries`, RUNS, () => certified(['plan', '--db', dir], { cwd: dir }));
    const note = `${((row.ms ?? 0) * 1000 / size).toFixed(0)} µs per entry`;
    rows.push({ ...row, note });
    perEntryUs.push({ size, us: ((row.ms ?? 0) * 1000) / size });
    log(`  ${row.label}: ${row.ms?.toFixed(0)} ms, ${row.rssMb?.toFixed(0) ?? 'n/a'} MiB (${note})`);
  }
  return { rows, perEntryUs };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.slice(2).map(Number);
  const { rows } = await benchPlan(sizes.length ? sizes : PLAN_SIZES, (line) => process.stderr.write(`${line}\n`));
  console.log(JSON.stringify(rows.map(({ label, ms, rssMb, cpuMs, note }) => ({ label, ms: Math.round(ms ?? 0), cpuMs, rssMb: rssMb && Math.round(rssMb), note }))));
}

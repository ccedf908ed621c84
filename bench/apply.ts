/**
 * `certified apply` of a 1,000-certificate manifest, in one process. The bench runner
 * (bench/run.ts) calls benchApply(); `node dist-test/bench/apply.js` runs it alone.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT_PASSWORD, certified, scratchDir, type Sample } from './measure.js';

export interface BenchApplyResult {
  certsPerSecond: number;
  certificates: number;
  /** Wall time of the whole `certified apply --yes` process, commit included. */
  seconds: number;
  /** The apply run itself: wall, CPU and peak RSS. */
  sample: Sample;
}

function run(args: string[], cwd: string): Sample {
  const result = certified(args, { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD, CERTIFIED_DB: join(cwd, 'ca') } });
  if (result.code !== 0) throw new Error(`certified ${args.join(' ')} failed: ${result.stderr}`);
  return result;
}

/** A manifest of `count` server certificates with two SANs each, default keys (ECDSA P-256). */
export function benchManifest(count: number): string {
  const lines = ['defaults: { days: 365, key: ecdsa }', 'renew_before: 30d', 'certificates:'];
  for (let i = 0; i < count; i++) lines.push(`  host-${i}: { cn: host-${i}.example.com, san: [alt-${i}.example.com, 10.0.${i >> 8}.${i & 255}], profile: server }`);
  return `${lines.join('\n')}\n`;
}

export async function benchApply(count = 1000): Promise<BenchApplyResult> {
  // Removed when the bench exits, not now: see the note on deleted files in run.ts.
  const dir = scratchDir('apply');
  run(['--ca', 'CN=Bench CA'], dir);
  writeFileSync(join(dir, 'ca', 'certificates.yaml'), benchManifest(count));
  const sample = run(['apply', '--yes'], dir);
  const seconds = sample.ms / 1000;
  return { certsPerSecond: Math.round(count / seconds), certificates: count, seconds: Number(seconds.toFixed(2)), sample };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 1000);
  const { sample, ...result } = await benchApply(count);
  console.log(JSON.stringify({ ...result, cpuMs: sample.cpuMs, rssKb: sample.rssKb }));
}

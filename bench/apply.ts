/**
 * `certified apply` of a 1,000-certificate manifest, in one process (issue 9). The bench runner
 * (bench/run.ts) calls benchApply(); `node dist-test/bench/apply.js` runs it alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(REPO, 'bin/certified');

export interface BenchApplyResult {
  certsPerSecond: number;
  certificates: number;
  /** Wall time of the whole `certified apply --yes` process, commit included. */
  seconds: number;
}

function certified(args: string[], cwd: string): void {
  const env: NodeJS.ProcessEnv = { ...process.env, CERTIFIED_ROOT_PASSWORD: 'bench root password', CERTIFIED_DB: join(cwd, 'ca') };
  for (const key of ['CERTIFIED_PASSWORD', 'CERTIFIED_CA_PASSWORD']) delete env[key];
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`certified ${args.join(' ')} failed: ${result.stderr}`);
}

/** A manifest of `count` server certificates with two SANs each, default keys (ECDSA P-256). */
export function benchManifest(count: number): string {
  const lines = ['defaults: { days: 365, key: ecdsa }', 'renew_before: 30d', 'certificates:'];
  for (let i = 0; i < count; i++) lines.push(`  host-${i}: { cn: host-${i}.example.com, san: [alt-${i}.example.com, 10.0.${i >> 8}.${i & 255}], profile: server }`);
  return `${lines.join('\n')}\n`;
}

export async function benchApply(count = 1000): Promise<BenchApplyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'certified-bench-apply-'));
  try {
    certified(['--ca', 'CN=Bench CA'], dir);
    writeFileSync(join(dir, 'ca', 'certificates.yaml'), benchManifest(count));
    const start = performance.now();
    certified(['apply', '--yes'], dir);
    const seconds = (performance.now() - start) / 1000;
    return { certsPerSecond: Math.round(count / seconds), certificates: count, seconds: Number(seconds.toFixed(2)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 1000);
  console.log(JSON.stringify(await benchApply(count)));
}

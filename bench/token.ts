/**
 * Issuing with the intermediate's key on a PKCS#11 token (SoftHSM) beside the same command with
 * the key in a file: two CAs made alike, their issues interleaved so that the machine's load
 * weighs on both. Skipped, with a note, where SoftHSM or pkcs11js is missing.
 *
 * Alone: node dist-test/bench/token.js [runs]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, ROOT_PASSWORD, certified, median, scratchDir, type Row, type Sample } from './measure.js';

const MODULES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib64/pkcs11/libsofthsm2.so', '/opt/homebrew/lib/softhsm/libsofthsm2.so'];
const PIN = '4711';

/** Why the token can't be measured here, or undefined. */
export function tokenBenchMissing(): string | undefined {
  if (!MODULES.some((path) => existsSync(path))) return 'no SoftHSM module (apt-get install softhsm2)';
  if (spawnSync('softhsm2-util', ['--version']).error) return 'no softhsm2-util (apt-get install softhsm2)';
  try {
    createRequire(import.meta.url).resolve('pkcs11js');
  } catch {
    return 'pkcs11js is not installed (npm builds it where a C++ compiler is available)';
  }
  return undefined;
}

/** A fresh SoftHSM token store; the environment that reaches it. */
function softhsmToken(label: string): Record<string, string> {
  const dir = scratchDir('softhsm');
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { SOFTHSM2_CONF: conf };
  const init = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', PIN, '--so-pin', '12345678'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`softhsm2-util --init-token: ${init.stderr}`);
  return { ...env, CERTIFIED_PKCS11_PIN: PIN, CERTIFIED_PKCS11_MODULE: MODULES.find((path) => existsSync(path))! };
}

function ok(label: string, result: Sample): void {
  if (result.code !== 0) throw new Error(`${label} failed: ${result.stderr}`);
}

export interface TokenBench {
  file: Row;
  token: Row;
  /** Median of the per-pair differences (token minus file), wall and CPU ms. */
  extraMs: number;
  extraCpuMs?: number;
}

/** `runs` issues in each CA, alternating file, token, file, token... */
export function benchTokenIssue(runs: number): TokenBench {
  const fileDir = scratchDir('issue-file');
  const tokenDir = scratchDir('issue-token');
  const tokenEnv = softhsmToken('bench');
  const made = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
  ok('certified --ca', certified(['--ca', '--db', fileDir, 'O=Bench', 'CN=Bench CA'], { cwd: fileDir, env: made }));
  ok('certified --ca --intermediate-key', certified(['--ca', '--db', tokenDir, '--intermediate-key', 'pkcs11:token=bench;object=intermediate', 'O=Bench', 'CN=Bench CA'], { cwd: tokenDir, env: { ...made, ...tokenEnv } }));
  // One issue each first: the first commit of a CA does more (git's index, the records folder).
  ok('warm-up issue', certified(['--db', fileDir, 'CN=warm.example.com'], { cwd: fileDir }));
  ok('warm-up issue (token)', certified(['--db', tokenDir, 'CN=warm.example.com'], { cwd: tokenDir, env: tokenEnv }));
  const file: Sample[] = [];
  const token: Sample[] = [];
  for (let index = 0; index < runs; index++) {
    const a = certified(['--db', fileDir, `CN=host-${index}.example.com`], { cwd: fileDir });
    ok('certified CN=host', a);
    file.push(a);
    const b = certified(['--db', tokenDir, `CN=host-${index}.example.com`], { cwd: tokenDir, env: tokenEnv });
    ok('certified CN=host (token)', b);
    token.push(b);
  }
  const row = (label: string, samples: Sample[]): Row => {
    const rss = samples.flatMap((s) => (s.rssKb === undefined ? [] : [s.rssKb]));
    const cpu = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
    return { label, runs, ms: median(samples.map((s) => s.ms)), ...(rss.length ? { rssMb: Math.max(...rss) / 1024 } : {}), ...(cpu.length ? { cpuMs: median(cpu) } : {}) };
  };
  const hasCpu = file.every((s) => s.cpuMs !== undefined) && token.every((s) => s.cpuMs !== undefined);
  return {
    file: row('certified CN=host, intermediate key in a file (interleaved with the next row)', file),
    token: row('certified CN=host, intermediate key on SoftHSM (PKCS#11)', token),
    extraMs: median(token.map((s, index) => s.ms - file[index]!.ms)),
    ...(hasCpu ? { extraCpuMs: median(token.map((s, index) => s.cpuMs! - file[index]!.cpuMs!)) } : {}),
  };
}

/**
 * What the token adds, measured inside one fresh process per run (the command's wall time is too
 * noisy on a busy machine to see 10 ms): opening the intermediate's key and signing once, from its
 * file (read, import, sign) or on the token (pkcs11js loaded, module loaded and initialized, PIN
 * checked, key found, public half read, sign), after the WebCrypto warm-up a command has had by
 * then. Everything else a command does is the same.
 */
const KEY_COST_SCRIPT = `
import { readFileSync } from 'node:fs';
const [dist, mode, path, module] = process.argv.slice(2);
const { importPrivateKey, signWith } = await import(dist + '/pki/keys.js');
const { openTokenKey } = await import(dist + '/pki/pkcs11.js');
const { parsePkcs11Uri } = await import(dist + '/pki/pkcs11-uri.js');
const data = new Uint8Array(600).fill(7);
// A command has used WebCrypto and ECDSA (the leaf's key) before it opens the CA key: so do we.
const { subtle } = globalThis.crypto;
const warm = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
await subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, warm.privateKey, data);
await subtle.exportKey('jwk', warm.publicKey);
const started = process.hrtime.bigint();
if (mode === 'file') {
  signWith(await importPrivateKey(readFileSync(path, 'utf8')), 'sha384', data);
} else {
  const token = openTokenKey({ modulePath: module, uri: parsePkcs11Uri(path), pin: process.env.CERTIFIED_PKCS11_PIN });
  token.sign('sha384', data);
}
process.stdout.write(String(Number(process.hrtime.bigint() - started) / 1e6));
`;

export interface KeyCost {
  fileMs: number;
  tokenMs: number;
}

export function benchKeyCost(runs: number): KeyCost {
  const dir = scratchDir('key-cost');
  const script = join(dir, 'key-cost.mjs');
  writeFileSync(script, KEY_COST_SCRIPT);
  const fileDir = scratchDir('key-cost-file');
  const tokenDir = scratchDir('key-cost-token');
  const tokenEnv = softhsmToken('cost');
  const made = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
  ok('certified --ca', certified(['--ca', '--db', fileDir, 'CN=Cost CA'], { cwd: fileDir, env: made }));
  const uri = 'pkcs11:token=cost;object=intermediate';
  ok('certified --ca --intermediate-key', certified(['--ca', '--db', tokenDir, '--intermediate-key', uri, 'CN=Cost CA'], { cwd: tokenDir, env: { ...made, ...tokenEnv } }));
  const dist = join(REPO, 'dist');
  const once = (mode: 'file' | 'token'): number => {
    const args = mode === 'file' ? [join(fileDir, 'private/ca.key')] : [uri, tokenEnv.CERTIFIED_PKCS11_MODULE!];
    const result = spawnSync(process.execPath, [script, dist, mode, ...args], { env: { ...process.env, ...tokenEnv }, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`key cost (${mode}): ${result.stderr}`);
    return Number(result.stdout);
  };
  const file: number[] = [];
  const token: number[] = [];
  for (let index = 0; index < runs; index++) {
    file.push(once('file'));
    token.push(once('token'));
  }
  return { fileMs: median(file), tokenMs: median(token) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = tokenBenchMissing();
  if (missing) {
    process.stderr.write(`Skipped: ${missing}.\n`);
  } else {
    const result = benchTokenIssue(Number(process.argv[2] ?? 11));
    for (const row of [result.file, result.token]) process.stdout.write(`${row.label}: ${row.ms?.toFixed(0)} ms, CPU ${row.cpuMs?.toFixed(0) ?? 'n/a'} ms, ${row.rssMb?.toFixed(0) ?? 'n/a'} MiB\n`);
    process.stdout.write(`Token minus file, median of the pairs: ${result.extraMs.toFixed(0)} ms wall, ${result.extraCpuMs?.toFixed(0) ?? 'n/a'} ms CPU\n`);
    const cost = benchKeyCost(11);
    process.stdout.write(`Open the intermediate's key and sign once, in a fresh process: file ${cost.fileMs.toFixed(1)} ms, token ${cost.tokenMs.toFixed(1)} ms\n`);
  }
}

/**
 * npm run bench: the performance figures, measured with the built CLI (bin/certified)
 * as a user runs it. Every figure is the median wall time of several runs, with the largest peak
 * RSS of those runs. BENCH_CERTS (default 10000) sets the size of the grown CA.
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { baselineIssue, prepareBaseline } from './baseline.js';
import { commitAll, hostName, issueMany, revokeMany } from './grow.js';
import { HAS_TIME, ROOT_PASSWORD, certified, formatTable, git, measure, sample, scratchDir, type Row } from './measure.js';
import { benchApply } from './apply.js';
import { benchAcme } from './acme.js';
import { benchPeers } from './peers.js';
import { benchReview } from './review.js';
import { benchPlan } from './plan.js';
import { benchKeyCost, benchTokenIssue, tokenBenchMissing, type KeyCost, type TokenBench } from './token.js';

const CERTS = Number(process.env.BENCH_CERTS ?? 10_000);
const REVOKED = Math.min(999, Math.floor(CERTS / 10));
const APPLY_RUNS = 3;
const ACME_CERTS = Number(process.env.BENCH_ACME_CERTS ?? 400);
const ACME_CLIENTS = Number(process.env.BENCH_ACME_CLIENTS ?? 24);
const rows: Row[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

function add(row: Row): Row {
  rows.push(row);
  log(`  ${row.label}: ${row.ms === undefined ? row.note : `${row.ms.toFixed(0)} ms`}`);
  return row;
}

function makeCa(dir: string, extra: string[] = []) {
  return certified(['--ca', '--db', dir, ...extra, 'O=Bench', 'CN=Bench CA'], { cwd: dir, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
}

const ok = (label: string, result: { code: number; stderr: string }) => {
  if (result.code !== 0) throw new Error(`${label} failed: ${result.stderr}`);
};

async function main(): Promise<void> {
  const started = Date.now();
  log(`certified bench: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, load ${loadavg()[0]?.toFixed(2)}`);
  if (!HAS_TIME) log('Note: /usr/bin/time is missing (apt-get install time): peak RSS is not measured.');

  log('Floor:');
  const floor = add(measure('node -e 0', 7, () => sample(process.execPath, ['-e', '0'], { cwd: process.cwd() })));
  const version = add(measure('certified --version', 7, () => certified(['--version'], { cwd: process.cwd() })));

  log('Making the CA:');
  const caDefault = add(measure('certified --ca (ECDSA P-384)', 5, () => makeCa(scratchDir('ca'))));
  add(measure('certified --ca --key-type rsa (RSA 4096)', 3, () => makeCa(scratchDir('ca-rsa'), ['--key-type', 'rsa'])));

  log('Issuing, in a CA with 10 certificates:');
  const small = scratchDir('small');
  ok('certified --ca', makeCa(small));
  await issueMany(small, 0, 10);
  commitAll(small, 'bench: 10 certificates');
  const issueSmall = add(measure('certified CN=host (ECDSA P-256)', 7, (i) => certified(['--db', small, `CN=small-${i}.example.com`], { cwd: small })));
  const issueSmallRsa = add(measure('certified CN=host --bits 2048', 5, (i) => certified(['--db', small, '--bits', '2048', `CN=small-rsa-${i}.example.com`], { cwd: small })));

  log('Issuing with the intermediate key on a PKCS#11 token (SoftHSM), interleaved with a key file:');
  const tokenMissing = tokenBenchMissing();
  let tokenRun: TokenBench | undefined;
  let keyCost: KeyCost | undefined;
  if (tokenMissing) {
    log(`  skipped: ${tokenMissing}`);
    rows.push({ label: 'certified CN=host, intermediate key on SoftHSM (PKCS#11)', runs: 0, note: `skipped: ${tokenMissing}` });
  } else {
    tokenRun = benchTokenIssue(9);
    add(tokenRun.file);
    add({ ...tokenRun.token, note: `token minus file, median of the pairs: ${tokenRun.extraMs.toFixed(0)} ms wall, ${tokenRun.extraCpuMs?.toFixed(0) ?? 'n/a'} ms CPU` });
    keyCost = benchKeyCost(9);
    add({ label: "open the intermediate's key and sign once, in a fresh process: key file", runs: 9, ms: keyCost.fileMs });
    add({ label: "open the intermediate's key and sign once, in a fresh process: SoftHSM", runs: 9, ms: keyCost.tokenMs, note: `${(keyCost.tokenMs - keyCost.fileMs).toFixed(0)} ms more than the file` });
  }

  log('Baseline: openssl + git add + git commit:');
  const repo = prepareBaseline(small);
  const baseEc = add(measure('baseline: openssl ecparam/req/x509 -req + git (P-256)', 7, (i) => baselineIssue(repo, `ec-${i}`, 'ecdsa')));
  const baseRsa = add(measure('baseline: openssl genrsa/req/x509 -req + git (RSA 2048)', 5, (i) => baselineIssue(repo, `rsa-${i}`, 'rsa')));

  log('The tools a user would pick instead (Debian packages), each from a CA made once:');
  const peers = benchPeers(7).map(add);
  benchReview(add, log);

  // Before the growth phase, and each run in a directory kept until the end: on an ext4 without a
  // journal (this machine's), every file created soon after many were deleted pays for a scan of
  // the recently freed inodes (perf: recently_deleted). After the growth's git gc (~40,000 loose
  // objects deleted), or after the previous run's directory was removed, writing apply's 5,000
  // files took 3 s instead of 0.5 s.
  log('Declarative: certified apply --yes of a 1,000-certificate manifest (one process, one commit):');
  const applyRuns: Awaited<ReturnType<typeof benchApply>>[] = [];
  for (let run = 0; run < APPLY_RUNS; run++) {
    const result = await benchApply(1000);
    log(`  ${result.certificates} certificates in ${result.seconds} s: ${result.certsPerSecond} per second`);
    applyRuns.push(result);
  }
  const applied = applyRuns.sort((a, b) => a.seconds - b.seconds)[Math.floor(APPLY_RUNS / 2)]!;
  rows.push({
    label: `certified apply --yes (${applied.certificates}-certificate manifest)`,
    runs: APPLY_RUNS,
    ms: applied.sample.ms,
    ...(applied.sample.rssKb === undefined ? {} : { rssMb: applied.sample.rssKb / 1024 }),
    ...(applied.sample.cpuMs === undefined ? {} : { cpuMs: applied.sample.cpuMs }),
  });

  log(`ACME: ${ACME_CERTS} certificates, ${ACME_CLIENTS} concurrent clients on loopback (newOrder, http-01, finalize, download):`);
  const acmeRun = await benchAcme(ACME_CERTS, ACME_CLIENTS, log);
  log(`  ${acmeRun.perSecond}/s, p50 ${acmeRun.p50Ms} ms, p95 ${acmeRun.p95Ms} ms; ${acmeRun.recordsCommitted} certificates in HEAD in ${acmeRun.commits} commits`);
  rows.push({
    label: `ACME: ${acmeRun.certificates} issuances, ${acmeRun.clients} clients (p50 from newOrder to certificate)`,
    runs: 1,
    ms: acmeRun.p50Ms,
    ...(acmeRun.serverCpuMsPerCert === undefined ? {} : { cpuMs: acmeRun.serverCpuMsPerCert }),
    note: `${acmeRun.perSecond}/s, p95 ${acmeRun.p95Ms} ms, server CPU ms per certificate`,
  });

  log('Declarative: certified plan of a manifest the CA already matches, at 1,000 to 20,000 entries:');
  // 1,000 and the grown CA's size by default (BENCH_PLAN_SIZES=1000,5000,10000,20000 shows more of the curve).
  const planSizes = process.env.BENCH_PLAN_SIZES ? process.env.BENCH_PLAN_SIZES.split(',').map(Number) : [...new Set([1_000, CERTS])];
  const planned = await benchPlan(planSizes, log);
  for (const row of planned.rows) rows.push(row);

  log(`Growth: a CA with ${CERTS} certificates (made through the library, one commit):`);
  const big = scratchDir('big');
  ok('certified --ca', makeCa(big));
  const growStarted = Date.now();
  const records = await issueMany(big, 0, CERTS);
  const issuedMs = Date.now() - growStarted;
  await revokeMany(big, records.slice(0, REVOKED));
  commitAll(big, `bench: ${CERTS} certificates, ${REVOKED} revoked`);
  log(`  made ${CERTS} certificates in ${(issuedMs / 1000).toFixed(1)} s (${(CERTS / (issuedMs / 1000)).toFixed(0)}/s), revoked ${REVOKED}, committed in ${((Date.now() - growStarted - issuedMs) / 1000).toFixed(1)} s`);
  const issueBig = add(measure(`certified CN=host at ${CERTS}`, 7, (i) => certified(['--db', big, `CN=big-${i}.example.com`], { cwd: big })));
  const ls = add(measure(`certified ls --json at ${CERTS}`, 5, () => certified(['ls', '--json', '--db', big], { cwd: big })));
  const revoke = add(
    measure(`certified --revoke at ${CERTS} (CRL of ${REVOKED + 1}+ entries)`, 5, (i) =>
      certified(['--revoke', '--db', big, '--name', hostName(CERTS - 1 - i)], { cwd: big }),
    ),
  );
  // Every CRL, the root's included (its key is still in private/ here).
  const crl = add(measure(`certified crl at ${CERTS}`, 5, () => certified(['crl', '--db', big], { cwd: big, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } })));
  const check = add(
    measure(`certified check at ${CERTS}`, 1, () => certified(['check', '--db', big], { cwd: big }), (s) => s.code === 0 || s.code === 1),
  );
  // A pull request's review: one more certificate committed past a base branch, then check --since that base.
  git(big, ['branch', 'bench-base']);
  ok('certified CN=host', certified(['--db', big, 'CN=since.example.com'], { cwd: big }));
  const since = add(
    measure(`certified check --since (1 new certificate) at ${CERTS}`, 5, () => certified(['check', '--db', big, '--since', 'bench-base'], { cwd: big }), (s) => s.code === 0 || s.code === 1),
  );
  const files = Number(execSync(`du -sk --exclude=.git ${JSON.stringify(big)}`).toString().split('\t')[0]);
  const packed = Number(execSync(`du -sk ${JSON.stringify(join(big, '.git'))}`).toString().split('\t')[0]);
  const total = CERTS + issueBig.runs + 1;

  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? (a / b).toFixed(2) : 'n/a');
  const lines = [
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${process.platform}.`,
    `Our time / baseline: ${ratio(issueSmall.ms, baseEc.ms)} (P-256), ${ratio(issueSmallRsa.ms, baseRsa.ms)} (RSA 2048).`,
    `Issue at ${CERTS} / at 10: ${ratio(issueBig.ms, issueSmall.ms)}.`,
    `Our CN=host / each peer's one issue: ${peers.map((peer) => `${peer.label.split(':')[0]} ${ratio(issueSmall.ms, peer.ms)}`).join(', ')}.`,
    `CA directory per certificate: ${((files * 1024) / total / 1024).toFixed(1)} KiB of files, ${((packed * 1024) / total / 1024).toFixed(1)} KiB of .git (after gc).`,
    `Made ${CERTS} certificates through the library at ${(CERTS / (issuedMs / 1000)).toFixed(0)} per second.`,
    '',
    'Targets:',
    target('certified CN=host <= 130 ms', issueSmall.ms, 130),
    target('certified CN=host <= 2x the OpenSSL + git script', issueSmall.ms, baseEc.ms === undefined ? undefined : baseEc.ms * 2),
    target('certified --version <= node -e 0 + 10 ms', version.ms, floor.ms === undefined ? undefined : floor.ms + 10),
    ...(tokenRun && keyCost
      ? [
          target('CN=host with the intermediate on a token <= 10 ms more than with a key file (whole command, median of pairs)', tokenRun.extraMs, 10),
          target('the same, opening the key and signing once in-process (less noisy)', keyCost.tokenMs - keyCost.fileMs, 10),
        ]
      : [`- CN=host with the intermediate on a token <= 10 ms more than with a key file: skipped (${tokenMissing})`]),
    target('certified --ca <= 400 ms', caDefault.ms, 400),
    target(`issue at ${CERTS} <= 1.2x at 10`, issueBig.ms, issueSmall.ms === undefined ? undefined : issueSmall.ms * 1.2),
    target('ls --json <= 1 s', ls.ms, 1000),
    target('revoke with a 1,000-entry CRL <= 300 ms', revoke.ms, 300),
    target('crl with a 1,000-entry CRL <= 300 ms', crl.ms, 300),
    target('check <= 10 s', check.ms, 10_000),
    target(`plan of ${CERTS} unchanged entries <= 1 s`, planned.rows.find((row) => row.label === `certified plan, ${CERTS} unchanged entries`)?.ms, 1000),
    target('check --since with one new certificate <= 1 s', since.ms, 1000),
    `- apply >= 300 certificates/s: ${applied.certsPerSecond}/s: ${applied.certsPerSecond >= 300 ? 'met' : `missed (${((applied.certsPerSecond / 300) * 100).toFixed(0)}% of the target)`}`,
    `- ACME >= 100 issuances/s, every one committed: ${acmeRun.perSecond}/s, ${acmeRun.recordsCommitted} of ${acmeRun.certificates} in HEAD: ${acmeRun.perSecond >= 100 && acmeRun.recordsCommitted === acmeRun.certificates ? 'met' : `missed (${((acmeRun.perSecond / 100) * 100).toFixed(0)}% of the target)`}`,
    target('ACME p95 from newOrder to certificate <= 250 ms', acmeRun.p95Ms, 250),
    // The target is per command at 10,000 certificates; apply's row (1,000 new ones in one process) is reported apart.
    target('peak RSS <= 150 MiB', Math.max(...rows.filter((row) => row.label.startsWith('certified') && !row.label.startsWith('certified apply')).map((row) => row.rssMb ?? 0)), 150, 'MiB'),
    '',
    `Bench took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function target(label: string, value: number | undefined, limit: number | undefined, unit = 'ms'): string {
  if (value === undefined || limit === undefined) return `- ${label}: n/a`;
  const verdict = value <= limit ? 'met' : `missed by ${(value - limit).toFixed(0)} ${unit} (${((value / limit - 1) * 100).toFixed(0)}%)`;
  return `- ${label}: ${value.toFixed(0)} ${unit} (limit ${limit.toFixed(0)}): ${verdict}`;
}

await main();

/**
 * Bounded reads of outside input, symbolic links that would send writes out of (or into) the CA
 * directory, and what serve answers to HEAD, to a corrupt record and about the intermediate itself.
 * One CA for the whole file; each case leaves it as it found it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, ROOT_PASSWORD, baseEnv, commitCount, makeCa, openssl, run, snapshot, tempDir, type RunResult } from '../helpers/cli.js';
import { freePort, serve, stop, type Served } from '../helpers/serve.js';

/** Guard only (no timed assertion): a read that never stops is killed and then fails on its message. */
const GUARD_MS = 20_000;

/** Runs the CLI with stdin read from a file (e.g. /dev/zero). */
function runWithStdinFrom(file: string, args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdin = openSync(file, 'r');
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(), stdio: [stdin, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), GUARD_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line of error expected, got:\n${stderr}`);
  return lines[0]!;
}

/** The log so far once it matches (openssl runs synchronously, so serve's lines arrive after it). */
async function logMatching(served: Served, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 100 && !pattern.test(served.stderr()); i++) await sleep(50);
  return served.stderr();
}

describe('hardening: files and serve', () => {
  let cwd: string;
  let db: string;
  let port: number;
  let url: string;

  before(async () => {
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    port = await freePort();
    url = `http://127.0.0.1:${port}/ocsp`;
    await makeCa(cwd, ['--ocsp-url', url]);
    for (const cn of ['web.example.com', 'doomed.example.com']) {
      const issued = await run([`CN=${cn}`], { cwd });
      assert.equal(issued.code, 0, issued.stderr);
    }
  });

  describe('bounded reads', () => {
    const cases: { title: string; args: string[]; message: RegExp }[] = [
      { title: 'show /dev/zero', args: ['show', '/dev/zero'], message: /^certified: failed to read "\/dev\/zero": it is larger than 64 MiB, the most a certificate, CSR or CRL to show may hold\. / },
      { title: '--csr /dev/zero', args: ['--csr', '/dev/zero'], message: /^certified: cannot read the CSR "\/dev\/zero": it is larger than 64 KiB, the most a CSR may hold\. / },
      { title: 'sign /dev/zero', args: ['sign', '/dev/zero'], message: /^certified: cannot read the CSR "\/dev\/zero": it is larger than 64 KiB, the most a CSR may hold\. / },
    ];
    for (const { title, args, message } of cases) {
      it(`${title}: stops at the cap with one line naming it, nothing written`, async () => {
        const before = snapshot(db);
        const result = await run(args, { cwd, timeoutMs: GUARD_MS });
        assert.equal(result.code, 1, result.stderr);
        assert.match(oneLine(result.stderr), message);
        assert.deepEqual(snapshot(db), before);
      });
    }

    it('a password line from stdin (/dev/zero, no newline) stops at 64 KiB; no CA is made', async () => {
      const dir = tempDir();
      const result = await runWithStdinFrom('/dev/zero', ['--ca', 'CN=Zero CA', '--root-password', '-'], dir);
      assert.equal(result.code, 1, result.stderr);
      assert.match(oneLine(result.stderr), /^certified: a line of stdin is longer than 64 KiB, more than a password may be\. /);
      assert.deepEqual(readdirSync(dir), []);
    });

    it('a CA file that never ends (a record linked to /dev/zero) is refused with its cap', async () => {
      const records = join(db, 'records/ca');
      const fake = join(records, 'ffff.json');
      symlinkSync('/dev/zero', fake);
      try {
        const result = await run(['ls'], { cwd, timeoutMs: GUARD_MS });
        assert.equal(result.code, 1, result.stderr);
        assert.match(oneLine(result.stderr), /^certified: "records\/ca\/ffff\.json" is larger than 64 KiB, more than such a file can hold\. /);
      } finally {
        rmSync(fake);
      }
    });
  });

  describe('export --out and symbolic links', () => {
    it('refuses an --out whose folder is a link into the CA directory, and an --out that is a link', async () => {
      const outside = tempDir();
      symlinkSync(db, join(outside, 'ca-link'));
      symlinkSync(join(db, 'certs/new.p12'), join(outside, 'file-link.p12'));
      const before = snapshot(db);
      const commits = commitCount(db);
      const cases: { out: string; message: RegExp }[] = [
        { out: join(outside, 'ca-link/web.p12'), message: /^certified: ".*\/ca-link\/web\.p12" leads into the CA directory \(it is ".*\/etc\/ssl\/web\.p12" once symbolic links are followed\)\. Nothing was written\./ },
        { out: join(outside, 'ca-link/certs/web.example.com.crt'), message: /leads into the CA directory/ },
        { out: join(outside, 'file-link.p12'), message: /^certified: ".*\/file-link\.p12" is a symbolic link, and the \.p12 file is only ever written as a new file\. Nothing was written\./ },
      ];
      for (const { out, message } of cases) {
        const result = await run(['export', 'web.example.com', '--p12', '--out', out, '--p12-password', 'export password 1'], { cwd });
        assert.equal(result.code, 1, `${out}: ${result.stderr}`);
        assert.match(oneLine(result.stderr), message);
      }
      assert.deepEqual(snapshot(db), before);
      assert.equal(commitCount(db), commits);
      assert.equal(existsSync(join(db, 'certs/new.p12')), false);
    });
  });

  describe('symbolic links among the CA folders', () => {
    const cases: { folder: string; args: string[] }[] = [
      { folder: 'private', args: ['CN=link1.example.com'] },
      { folder: 'certs', args: ['CN=link2.example.com'] },
      { folder: 'records', args: ['CN=link3.example.com'] },
      { folder: 'private/revoked', args: ['revoke', '--name', 'web.example.com'] },
      { folder: 'revoked', args: ['revoke', '--name', 'web.example.com'] },
      { folder: 'crl', args: ['revoke', '--name', 'web.example.com'] },
    ];
    for (const { folder, args } of cases) {
      it(`refuses to write when "${folder}" is a symbolic link; nothing lands anywhere`, async () => {
        const outside = join(tempDir(), 'elsewhere');
        const path = join(db, folder);
        const existed = existsSync(path);
        if (existed) renameSync(path, outside);
        else mkdirSync(outside);
        symlinkSync(outside, path);
        const inside = readdirSync(outside).sort();
        const commits = commitCount(db);
        try {
          const result = await run(args, { cwd });
          assert.equal(result.code, 1, result.stderr);
          const line = oneLine(result.stderr);
          assert.match(line, new RegExp(`^certified: "${folder}" in ".*etc/ssl" is a symbolic link, so files written into it would land outside the CA; nothing was written\\. Replace the link`));
          assert.deepEqual(readdirSync(outside).sort(), inside);
          assert.equal(commitCount(db), commits);
        } finally {
          rmSync(path);
          if (existed) renameSync(outside, path);
        }
      });
    }
  });

  describe('serve', () => {
    let served: Served | undefined;
    after(() => stop(served));

    it('answers HEAD on a CRL like GET, without the body', async () => {
      served = await serve(cwd, port);
      const get = await fetch(`http://127.0.0.1:${port}/crl/ca.crl`);
      const body = new Uint8Array(await get.arrayBuffer());
      const head = await fetch(`http://127.0.0.1:${port}/crl/ca.crl`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-type'), 'application/pkix-crl');
      assert.equal(head.headers.get('content-length'), String(body.length));
      assert.equal(head.headers.get('cache-control'), get.headers.get('cache-control'));
      assert.equal((await head.arrayBuffer()).byteLength, 0);
    });

    it('answers internalError (over HTTP 200) for a corrupt record, and logs one line', async () => {
      const serial = openssl(['x509', '-in', join(db, 'certs/doomed.example.com.crt'), '-noout', '-serial']).stdout.trim().split('=')[1]!.toLowerCase().replace(/^(00)+/, '');
      const recordFile = join(db, `records/ca/${serial}.json`);
      const saved = readFileSync(recordFile);
      try {
        for (const corrupt of ['{"status": ', '[]']) {
          writeFileSync(recordFile, corrupt);
          const answer = openssl(['ocsp', '-issuer', join(db, 'certs/ca.crt'), '-cert', join(db, 'certs/doomed.example.com.crt'), '-url', url, '-CAfile', join(db, 'certs/root-ca.crt')]);
          assert.match(answer.stdout + answer.stderr, /Responder Error: internalerror \(2\)/i);
        }
        const line = /POST \/ocsp 200 OCSP internal error: a record of "ca" is unreadable: .*\n/;
        assert.match(await logMatching(served!, line), line);
      } finally {
        writeFileSync(recordFile, saved);
      }
    });

    it('without the root key, answers unauthorized about the intermediate itself', async () => {
      const answer = openssl(['ocsp', '-issuer', join(db, 'certs/root-ca.crt'), '-cert', join(db, 'certs/ca.crt'), '-url', url]);
      assert.match(answer.stdout + answer.stderr, /Responder Error: unauthorized \(6\)/i);
      assert.match(served!.stderr(), /Note: the root key stays offline, so OCSP answers "unauthorized" for the intermediate itself/);
    });

    it('with the root password, answers about the intermediate and a revoked sub-CA, signed by the root', async () => {
      const made = await run(['init', '--issuer', 'root-ca', 'CN=Root Sub CA', '--password', 'sub-CA password 1'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
      assert.equal(made.code, 0, made.stderr);
      const subCa = join(tempDir(), 'root-sub-ca.crt');
      writeFileSync(subCa, readFileSync(join(db, 'certs/root-sub-ca.crt')));
      const revoked = await run(['revoke', '--issuer', 'root-ca', '--name', 'root-sub-ca'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
      assert.equal(revoked.code, 0, revoked.stderr);

      stop(served);
      served = await serve(cwd, port, { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD });
      assert.match(served.stderr(), /OCSP for "ca", "root-ca" at /);
      const ask = (cert: string) => openssl(['ocsp', '-issuer', join(db, 'certs/root-ca.crt'), '-cert', cert, '-url', url, '-CAfile', join(db, 'certs/root-ca.crt')]);
      const intermediate = ask(join(db, 'certs/ca.crt'));
      assert.equal(intermediate.status, 0, intermediate.stderr);
      assert.match(intermediate.stderr, /Response verify OK/);
      assert.match(intermediate.stdout, /ca\.crt: good\n/);
      const sub = ask(subCa);
      assert.equal(sub.status, 0, sub.stderr);
      assert.match(sub.stderr, /Response verify OK/);
      assert.match(sub.stdout, /root-sub-ca\.crt: revoked\n/);
    });
  });
});

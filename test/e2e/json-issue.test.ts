import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, baseEnv, makeCa, run, tempDir } from '../helpers/cli.js';
import { CERTIFICATE_KEYS, CHANGE_KEYS, certificateOnDisk, headOf, jsonError } from '../helpers/json.js';

/** `--json` of issuing, and the error object every command prints under --json when it fails. */


describe('--json of issue', () => {
  it('names the certificate, the files and the commit it made', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const result = await run(['CN=web.example.com', '+www.example.com', '--json'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(document).sort(), [...CHANGE_KEYS, ...CERTIFICATE_KEYS].sort());
    assert.equal(document.action, 'issue');
    assert.equal(document.name, 'web.example.com');
    assert.deepEqual(document.sans, ['DNS:web.example.com', 'DNS:www.example.com']);
    assert.equal(document.issuer, 'ca');
    assert.equal(document.commit, headOf(`${cwd}/etc/ssl`));
    const files = document.files as string[];
    for (const file of files) assert.ok(existsSync(file), `${file} exists`);
    const certificate = files.find((file) => file.endsWith('/certs/web.example.com.crt'));
    assert.ok(certificate, 'the certificate is among the files');
    assert.deepEqual(certificateOnDisk(certificate), { serial: document.serial, fingerprint: document.fingerprint, notBefore: document.notBefore, notAfter: document.notAfter });
    assert.deepEqual(document.warnings, []);
  });

  it('plans without writing under --dry-run', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const result = await run(['issue', 'CN=plan.example.com', '--dry-run', '--json'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout) as { action: string; dryRun: boolean; files: string[]; commit: null };
    assert.equal(document.action, 'issue');
    assert.equal(document.dryRun, true);
    assert.equal(document.commit, null);
    assert.ok(document.files.some((file) => file.endsWith('/certs/plan.example.com.crt')));
    for (const file of document.files) assert.equal(existsSync(file), false, `${file} was not written`);
  });

  it('plans under --dry-run the files a real run writes, the index of revoked certificates included', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const issued = JSON.parse((await run(['CN=gone.example.com', '--json'], { cwd })).stdout) as { serial: string };
    const planned = await run(['revoke', '--name', 'gone.example.com', '--yes', '--dry-run', '--json'], { cwd });
    assert.equal(planned.code, 0, planned.stderr);
    const plan = JSON.parse(planned.stdout) as { files: string[]; moves: { from: string; to: string }[] };
    assert.ok(plan.files.some((file) => file.endsWith(`/revoked-index/ca/${issued.serial}`)), plan.files.join('\n'));
    // A real run's files are what it wrote and what it moved into place.
    const plannedFiles = [...plan.files, ...plan.moves.map((move) => move.to)];
    const done = await run(['revoke', '--name', 'gone.example.com', '--yes', '--json'], { cwd });
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual([...plannedFiles].sort(), [...(JSON.parse(done.stdout) as { files: string[] }).files].sort());
  });

  it('fails with one JSON error object and the usual exit code', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    await run(['CN=taken.example.com'], { cwd });
    const taken = await run(['CN=taken.example.com', '--json'], { cwd });
    assert.match(jsonError(taken, 'NAME_TAKEN').message, /already taken/);
    assert.match(taken.stderr, /^certified: the name "taken\.example\.com" is already taken/);
    jsonError(await run(['issue', 'CN=x.example.com', '--no-such-flag', '--json'], { cwd }), 'USAGE', 2);
    jsonError(await run(['CN=x.example.com', '--json'], { cwd: tempDir() }), 'NO_CA');

    // A mistyped secret flag: the value is in neither the error line nor the document.
    const mistyped = await run(['issue', 'CN=x.example.com', '--pasword=S3cret-value', '--json'], { cwd });
    assert.match(jsonError(mistyped, 'USAGE', 2).message, /unknown option '--pasword=\*\*\*'/);
    assert.doesNotMatch(mistyped.stdout + mistyped.stderr, /S3cret/);
  });

  it('asks on the terminal through stderr, so that a redirected stdout holds only the document', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'init.json');
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} init CN=Prompted --json > ${JSON.stringify(out)}`;
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd, env: baseEnv({ TERM: 'dumb' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let answered = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      const asked = screen.match(/password[^\n]*:/gi)?.length ?? 0;
      while (answered < asked) {
        answered++;
        child.stdin.write('a root password for the terminal\r');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, screen);
    assert.ok(answered >= 1, `the password was asked for on the terminal:\n${screen}`);
    const document = JSON.parse(readFileSync(out, 'utf8')) as { action: string; commit: string };
    assert.equal(document.action, 'init');
    assert.match(document.commit, /^[0-9a-f]{40}$/);
  });

  it('asks nothing when stderr, where prompts draw, is not the terminal: it fails at once, as without one', async () => {
    const cwd = tempDir();
    const err = join(cwd, 'err.txt');
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} init CN=Unasked --json 2> ${JSON.stringify(err)}`;
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd, env: baseEnv({ TERM: 'dumb' }), stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let screen = '';
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 1, `it did not wait for an answer nobody could see:\n${screen}`);
    assert.doesNotMatch(readFileSync(err, 'utf8'), /\?|assword for/i);
    assert.match(readFileSync(err, 'utf8'), /^certified: .*root/);
    assert.equal(existsSync(join(cwd, 'etc')), false);
  });
});

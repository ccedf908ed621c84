import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, baseEnv, makeCa, run, tempDir, tool } from '../helpers/cli.js';

/** `--json` of issuing, and the error object every command prints under --json when it fails. */

const CHANGE_KEYS = ['action', 'files', 'commit', 'warnings'];
const CERTIFICATE_KEYS = ['name', 'cn', 'subject', 'sans', 'issuer', 'serial', 'notBefore', 'notAfter', 'status', 'profile', 'key', 'fingerprint'];

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
    assert.equal(document.commit, tool('git', ['-C', `${cwd}/etc/ssl`, 'rev-parse', 'HEAD']).stdout.trim());
    const files = document.files as string[];
    for (const file of files) assert.ok(existsSync(file), `${file} exists`);
    const certificate = files.find((file) => file.endsWith('/certs/web.example.com.crt'));
    assert.ok(certificate, 'the certificate is among the files');
    const openssl = tool('openssl', ['x509', '-in', certificate, '-noout', '-serial', '-fingerprint', '-sha256', '-enddate', '-dateopt', 'iso_8601']).stdout;
    assert.match(openssl, new RegExp(`serial=${(document.serial as string).toUpperCase()}`));
    assert.match(openssl, new RegExp(`Fingerprint=${document.fingerprint as string}`));
    assert.equal(openssl.match(/notAfter=(\S+ \S+)/)?.[1]?.replace(' ', 'T').replace('Z', '.000Z'), document.notAfter);
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

  it('fails with one JSON error object and the usual exit code', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    await run(['CN=taken.example.com'], { cwd });
    const taken = await run(['CN=taken.example.com', '--json'], { cwd });
    assert.equal(taken.code, 1);
    const error = JSON.parse(taken.stdout) as { error: { code: string; message: string; hint: string | null } };
    assert.deepEqual(Object.keys(error), ['error']);
    assert.deepEqual(Object.keys(error.error), ['code', 'message', 'hint']);
    assert.equal(error.error.code, 'NAME_TAKEN');
    assert.match(error.error.message, /already taken/);
    assert.match(taken.stderr, /^certified: the name "taken\.example\.com" is already taken/);

    const usage = await run(['issue', 'CN=x.example.com', '--no-such-flag', '--json'], { cwd });
    assert.equal(usage.code, 2);
    assert.equal((JSON.parse(usage.stdout) as { error: { code: string } }).error.code, 'USAGE');

    const noCa = await run(['CN=x.example.com', '--json'], { cwd: tempDir() });
    assert.equal(noCa.code, 1);
    assert.equal((JSON.parse(noCa.stdout) as { error: { code: string } }).error.code, 'NO_CA');
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
});

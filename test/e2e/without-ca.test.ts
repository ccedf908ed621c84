import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commitCount, git, makeCa, openssl, readText, run, snapshot, tempDir } from '../helpers/cli.js';
import { committedFiles, publicKey, serialOf, verifyChain, x509Text } from '../helpers/judge.js';

const UNENCRYPTED_KEY = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/;

describe('certified --self-signed', () => {
  it('makes a self-signed leaf with no CA: its own issuer, CA:FALSE, a git repository, the key git-ignored', async () => {
    const cwd = tempDir();
    const db = join(cwd, 'etc/ssl');
    const result = await run(['--self-signed', 'CN=self.example.com', '+alt.example.com', '+10.9.8.7'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const crt = join(db, 'certs/self.example.com.crt');
    assert.equal(result.stdout, readText(crt));
    assert.match(result.stderr, /The certificate is at "etc\/ssl\/certs\/self\.example\.com\.crt" and the key at "etc\/ssl\/private\/self\.example\.com\.key"\./);

    const verify = openssl(['verify', '-x509_strict', '-CAfile', crt, '-purpose', 'sslserver', crt]);
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stdout, `${crt}: OK\n`);
    const text = x509Text(crt);
    assert.match(text, /Issuer: CN = self\.example\.com\n/);
    assert.match(text, /Subject: CN = self\.example\.com\n/);
    assert.match(text, /Basic Constraints: critical\n\s*CA:FALSE\n/);
    assert.match(text, /Key Usage: critical\n\s*Digital Signature\n/);
    assert.match(text, /Extended Key Usage: \n\s*TLS Web Server Authentication, TLS Web Client Authentication\n/);
    assert.match(text, /DNS:self\.example\.com, DNS:alt\.example\.com, IP Address:10\.9\.8\.7\n/);
    assert.match(text, /NIST CURVE: P-256/);
    assert.equal(publicKey('x509', crt), publicKey('pkey', join(db, 'private/self.example.com.key')));
    assert.equal(statSync(join(db, 'private/self.example.com.key')).mode & 0o777, 0o600);

    const serial = serialOf(crt);
    const record = JSON.parse(readText(join(db, `records/self-signed/${serial}.json`)));
    assert.equal(record.issuer, 'self-signed');
    assert.equal(record.profile, 'self-signed');
    assert.equal(record.name, 'self.example.com');
    assert.ok(!existsSync(join(db, 'certified.json')));
    assert.ok(existsSync(join(db, '.git')));
    assert.equal(commitCount(db), 1);
    assert.match(git(db, ['log', '-1', '--format=%s']).trim(), /^Self-sign self\.example\.com \(server\+client, ECDSA P-256, expires \d{4}-\d{2}-\d{2}\)$/);
    assert.deepEqual(committedFiles(db), ['.gitignore', 'certs/self.example.com.crt', `records/self-signed/${serial}.json`]);
    assert.equal(git(db, ['status', '--porcelain']), '', 'the unencrypted key is git-ignored');

    // Later commands cope with a directory that has no CA: ls lists it, issuing asks for a CA,
    // and --ca can still make one here.
    const ls = await run(['ls'], { cwd });
    assert.equal(ls.code, 0, ls.stderr);
    // 146 columns in full: to fit 120, the serial shows its first 8 digits and the SANs are cut.
    assert.match(ls.stdout, /^self\.example\.com +self\.example\.com +self\.example\.com,alt\.example\.com,10\.9\.8… +self-signed +[0-9a-f]{8}… +\d{4}-\d{2}-\d{2} +valid$/m);
    const issue = await run(['CN=host.example.com'], { cwd });
    assert.equal(issue.code, 1);
    assert.match(issue.stderr, /^certified: there is no CA in ".*etc\/ssl"\./);
    await makeCa(cwd);
    assert.equal(commitCount(db), 2);
    assert.equal(git(db, ['status', '--porcelain']), '');
  });

  it('with a CA: takes the CA defaults, honours --server, RSA, --days and --name, and does not chain to the root', async () => {
    const cwd = tempDir();
    const db = join(cwd, 'etc/ssl');
    await makeCa(cwd);
    const result = await run(['--self-signed', '--server', '--key-type', 'rsa', '--days', '30', '--name', 'appliance', 'CN=appliance.example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const crt = join(db, 'certs/appliance.crt');
    assert.equal(openssl(['verify', '-CAfile', crt, crt]).status, 0);
    assert.notEqual(verifyChain(db, crt).status, 0, 'the CA did not sign it');
    const text = x509Text(crt);
    assert.match(text, /Issuer: C = US, O = Example, CN = appliance\.example\.com\n/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Key Usage: critical\n\s*Digital Signature, Key Encipherment\n/);
    assert.match(text, /Extended Key Usage: \n\s*TLS Web Server Authentication\n/);
    const dates = openssl(['x509', '-in', crt, '-noout', '-startdate', '-enddate']).stdout;
    const [start, end] = [...dates.matchAll(/=(.*)/g)].map((match) => Date.parse(match[1]!));
    assert.equal(Math.round((end! - start!) / 86_400_000), 30);
    assert.ok(existsSync(join(db, `records/self-signed/${serialOf(crt)}.json`)));
  });

  it('refuses a taken name and the CA names, leaving no file and no commit', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    assert.equal((await run(['--self-signed', 'CN=dup.example.com'], { cwd })).code, 0);
    const before = snapshot(cwd);
    for (const [args, message] of [
      [['--self-signed', 'CN=dup.example.com'], /^certified: the name "dup\.example\.com" is already taken by "certs\/dup\.example\.com\.crt"\./],
      [['--self-signed', '--name', 'ca', 'CN=x.example.com'], /^certified: the name "ca" is reserved for the CA's own certificates /],
      [['--self-signed', '--ca-password', 'x', 'CN=x.example.com'], /^certified: unknown option '--ca-password' for "self-signed", did you mean '--password'\? Run "certified self-signed --help" for usage\.\n$/],
      [['--self-signed', 'CN=x.example.com', '+bad..name'], /^certified: "bad\.\.name" is not a valid DNS name/],
    ] as const) {
      const result = await run([...args], { cwd });
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, message);
      assert.equal(result.stderr.split('\n').length, 2, 'one line');
      assert.deepEqual(snapshot(cwd), before, args.join(' '));
    }
  });
});

describe('certified --no-sign', () => {
  it('stops at csr/NAME.csr with the requested SANs, with no CA; the key is git-ignored, or committed encrypted', async () => {
    const cwd = tempDir();
    const db = join(cwd, 'etc/ssl');
    const result = await run(['--no-sign', 'O=Vendor Inc', 'CN=vendor.example.com', '+www.vendor.example.com', '+192.0.2.7', '+ops@vendor.example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const csr = join(db, 'csr/vendor.example.com.csr');
    assert.equal(result.stdout, readText(csr));
    const req = openssl(['req', '-in', csr, '-noout', '-verify', '-text']);
    assert.equal(req.status, 0, req.stderr);
    assert.match(req.stderr + req.stdout, /verify OK/);
    assert.match(req.stdout, /Subject: O = Vendor Inc, CN = vendor\.example\.com\n/);
    assert.match(req.stdout, /Requested Extensions:[\s\S]*DNS:vendor\.example\.com, DNS:www\.vendor\.example\.com, IP Address:192\.0\.2\.7, email:ops@vendor\.example\.com\n/);
    assert.equal(publicKey('req', csr), publicKey('pkey', join(db, 'private/vendor.example.com.key')));
    assert.ok(!existsSync(join(db, 'certs')), 'no certificate');
    assert.ok(!existsSync(join(db, 'records')), 'no record');
    assert.equal(commitCount(db), 1);
    assert.match(git(db, ['log', '-1', '--format=%s']).trim(), /^Request vendor\.example\.com \(ECDSA P-256, not signed\)$/);
    assert.deepEqual(committedFiles(db), ['.gitignore', 'csr/vendor.example.com.csr']);
    assert.equal(git(db, ['status', '--porcelain']), '');

    const encrypted = await run(['--no-sign', '--bits', '3072', '--password', '-', 'CN=enc.example.com'], { cwd, input: 'a long key password\n' });
    assert.equal(encrypted.code, 0, encrypted.stderr);
    assert.deepEqual(committedFiles(db), ['csr/enc.example.com.csr', 'private/enc.example.com.key']);
    const key = readText(join(db, 'private/enc.example.com.key'));
    assert.match(key, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    assert.doesNotMatch(key, UNENCRYPTED_KEY);
    const opened = openssl(['pkey', '-in', join(db, 'private/enc.example.com.key'), '-passin', 'pass:a long key password', '-pubout']);
    assert.equal(opened.stdout, publicKey('req', join(db, 'csr/enc.example.com.csr')));
    assert.match(openssl(['req', '-in', join(db, 'csr/enc.example.com.csr'), '-noout', '-text']).stdout, /Public-Key: \(3072 bit\)/);
    assert.doesNotMatch(git(db, ['log', '--format=%B']), /a long key password/);
  });

  it('with a CA takes its DN defaults; the CA can then sign that CSR with --csr, the key staying where it is', async () => {
    const cwd = tempDir();
    const db = join(cwd, 'etc/ssl');
    await makeCa(cwd);
    const request = await run(['--no-sign', 'CN=later.example.com'], { cwd });
    assert.equal(request.code, 0, request.stderr);
    assert.match(openssl(['req', '-in', join(db, 'csr/later.example.com.csr'), '-noout', '-subject']).stdout, /subject=C = US, O = Example, CN = later\.example\.com/);
    const keyBefore = readText(join(db, 'private/later.example.com.key'));
    const signed = await run(['--csr', join(db, 'csr/later.example.com.csr')], { cwd });
    assert.equal(signed.code, 0, signed.stderr);
    const crt = join(db, 'certs/later.example.com.crt');
    assert.equal(verifyChain(db, crt, 'sslserver').status, 0);
    assert.equal(readText(join(db, 'private/later.example.com.key')), keyBefore);
    assert.equal(publicKey('x509', crt), publicKey('pkey', join(db, 'private/later.example.com.key')));
  });
});

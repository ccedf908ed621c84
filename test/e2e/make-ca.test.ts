import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, git, makeCa, openssl, readText, run, snapshot, tempDir } from '../helpers/cli.js';

function x509Text(path: string): string {
  const result = openssl(['x509', '-in', path, '-noout', '-text', '-nameopt', 'multiline,show_type']);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

describe('certified --ca', () => {
  it('makes an ECDSA P-384 root and intermediate in etc/ssl, in one commit, and prints the root', async () => {
    const cwd = tempDir();
    const result = await makeCa(cwd, ['ST=California', 'L=San Francisco', 'OU=Platform']);
    const db = join(cwd, 'etc/ssl');
    assert.equal(result.stdout, readText(join(db, 'certs/root-ca.crt')));
    assert.match(result.stderr, /Created the root CA "Example CA" and its intermediate "Example CA Intermediate"/);
    assert.match(result.stderr, /move it somewhere safe/);
    assert.equal(commitCount(db), 1);
    assert.match(git(db, ['log', '-1', '--format=%s']).trim(), /^Create CA "Example CA" \(ECDSA P-384, expires \d{4}-\d{2}-\d{2}\)/);

    const root = x509Text(join(db, 'certs/root-ca.crt'));
    const intermediate = x509Text(join(db, 'certs/ca.crt'));
    // Subject order C, ST, L, O, OU, CN; C printable, the rest UTF8String.
    assert.match(root, /Subject:\s*\n\s*countryName\s*= PRINTABLESTRING:US\n\s*stateOrProvinceName\s*= UTF8STRING:California\n\s*localityName\s*= UTF8STRING:San Francisco\n\s*organizationName\s*= UTF8STRING:Example\n\s*organizationalUnitName\s*= UTF8STRING:Platform\n\s*commonName\s*= UTF8STRING:Example CA\n/);
    assert.match(intermediate, /commonName\s*= UTF8STRING:Example CA Intermediate\n/);
    assert.match(root, /NIST CURVE: P-384/);
    assert.match(root, /Basic Constraints: critical\n\s*CA:TRUE\n/);
    assert.match(intermediate, /Basic Constraints: critical\n\s*CA:TRUE, pathlen:1\n/);
    for (const text of [root, intermediate]) {
      assert.match(text, /Key Usage: critical\n\s*Certificate Sign, CRL Sign\n/);
      assert.match(text, /Subject Key Identifier/);
      assert.match(text, /Authority Key Identifier/);
      assert.match(text, /ecdsa-with-SHA384/);
    }
    const days = (Date.parse(openssl(['x509', '-in', join(db, 'certs/root-ca.crt'), '-noout', '-enddate']).stdout.split('=')[1]!) - Date.now()) / 86_400_000;
    assert.ok(days > 3649 && days < 3651, `root valid for ${days} days`);

    const verify = openssl(['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), join(db, 'certs/ca.crt')]);
    assert.equal(verify.status, 0, verify.stderr);
    for (const [crl, issuer] of [['root-ca', 'root-ca'], ['ca', 'ca']]) {
      const check = openssl(['crl', '-in', join(db, `crl/${crl}.crl`), '-noout', '-verify', '-CAfile', join(db, `certs/${issuer}.crt`)]);
      assert.equal(check.status, 0, check.stderr);
      assert.match(check.stderr + check.stdout, /verify OK/);
    }
  });

  it('encrypts the root key (PBES2, 600,000 PBKDF2-SHA256 rounds) and never commits an unencrypted key', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    const rootKey = join(db, 'private/root-ca.key');
    assert.equal(statSync(rootKey).mode & 0o777, 0o600);
    assert.equal(statSync(join(db, 'private')).mode & 0o777, 0o700);
    assert.match(readText(rootKey), /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    const params = openssl(['asn1parse', '-in', rootKey]).stdout;
    assert.match(params, /:PBES2/);
    assert.match(params, /:hmacWithSHA256/);
    assert.match(params, /:aes-256-cbc/);
    assert.match(params, /INTEGER\s+:0927C0/, '600,000 iterations');
    assert.equal(openssl(['pkey', '-in', rootKey, '-noout', '-passin', `pass:${ROOT_PASSWORD}`]).status, 0);
    assert.notEqual(openssl(['pkey', '-in', rootKey, '-noout', '-passin', 'pass:wrong password']).status, 0);
    const tracked = git(db, ['ls-files']);
    assert.doesNotMatch(tracked, /private\//);
    assert.doesNotMatch(git(db, ['log', '-p']), /BEGIN (RSA |EC )?PRIVATE KEY/);
  });

  it('commits the intermediate key when --intermediate-password encrypts it, and reads it from stdin with -', async () => {
    const cwd = tempDir();
    const result = await run(['--ca', 'CN=Example CA', '--root-password', '-', '--intermediate-password', '-'], {
      cwd,
      input: `${ROOT_PASSWORD}\nintermediate secret\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    const db = join(cwd, 'etc/ssl');
    assert.match(git(db, ['ls-files']), /^private\/ca\.key$/m);
    assert.equal(openssl(['pkey', '-in', join(db, 'private/ca.key'), '-noout', '-passin', 'pass:intermediate secret']).status, 0);
    const log = git(db, ['log', '--format=%B']);
    assert.match(log, /--root-password - --intermediate-password -/);
    assert.doesNotMatch(log + result.stderr + result.stdout, /intermediate secret|root password for tests/);
  });

  it('puts the CRL and OCSP URLs where they belong and saves them in certified.json', async () => {
    const cwd = tempDir();
    await makeCa(cwd, ['--crl-url', 'http://pki.example.com/ca.crl', '--root-crl-url', 'http://pki.example.com/root-ca.crl', '--ocsp-url', 'http://ocsp.example.com']);
    const db = join(cwd, 'etc/ssl');
    const intermediate = x509Text(join(db, 'certs/ca.crt'));
    assert.match(intermediate, /CRL Distribution Points:[\s\S]*URI:http:\/\/pki\.example\.com\/root-ca\.crl/);
    assert.match(intermediate, /OCSP - URI:http:\/\/ocsp\.example\.com/);
    const config = JSON.parse(readText(join(db, 'certified.json')));
    assert.equal(config.crlUrl, 'http://pki.example.com/ca.crl');
    assert.equal(config.rootCrlUrl, 'http://pki.example.com/root-ca.crl');
    assert.equal(config.ocspUrl, 'http://ocsp.example.com');
    assert.deepEqual(config.subject, { C: 'US', O: 'Example', CN: 'Example CA' });
  });

  it('makes RSA 4096 CAs with --key-type rsa, in --db, inside an existing work tree without touching user files', async () => {
    const cwd = tempDir();
    git(cwd, ['init', '-q']);
    git(cwd, ['commit', '-q', '--allow-empty', '-m', 'start']);
    await import('node:fs/promises').then((fs) => fs.writeFile(join(cwd, 'notes.txt'), 'user work\n'));
    git(cwd, ['add', 'notes.txt']);
    const result = await run(['--ca', '--key-type', 'rsa', '--db', 'pki', 'CN=RSA CA'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!existsSync(join(cwd, 'pki/.git')), 'no nested repository');
    assert.match(x509Text(join(cwd, 'pki/certs/ca.crt')), /Public-Key: \(4096 bit\)/);
    assert.equal(git(cwd, ['diff', '--cached', '--name-only']).trim(), 'notes.txt', 'the user staged file stays staged, uncommitted');
    assert.doesNotMatch(git(cwd, ['show', '--name-only', '--format=', 'HEAD']), /notes\.txt/);
  });

  it('refuses a second --ca and changes nothing', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const before = snapshot(cwd);
    const again = await run(['--ca', 'CN=Other CA'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^certified: a CA already exists in ".*etc\/ssl"\. .*\n$/);
    assert.deepEqual(snapshot(cwd), before);
  });

  it('says a CA already exists before asking for any password (no root password, no TTY)', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const before = snapshot(cwd);
    const again = await run(['--ca', 'CN=again'], { cwd, silentStdin: true, timeoutMs: 10_000 });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^certified: a CA already exists in ".*etc\/ssl"\. Nothing was changed\. [^\n]*\n$/);
    assert.doesNotMatch(again.stderr, /password/);
    assert.deepEqual(snapshot(cwd), before);
  });

  it("refuses a new CA inside another CA's directory, before asking for a password, and writes nothing", async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const before = snapshot(cwd);
    for (const db of ['etc/ssl/certs/inner', 'etc/ssl/team']) {
      const nested = await run(['--ca', '--db', db, 'CN=Inner CA'], { cwd, silentStdin: true, timeoutMs: 10_000 });
      assert.equal(nested.code, 1, nested.stderr);
      assert.match(nested.stderr, /^certified: ".*etc\/ssl\/(certs\/inner|team)" is inside the CA in ".*etc\/ssl"\. Nothing was changed\. Make the new CA in a directory of its own, outside that one \(--db DIR\), or a sub-CA of that CA with --issuer\.\n$/);
      assert.deepEqual(snapshot(cwd), before);
    }
    // Side by side in one repository is fine, and so is a repository of its own.
    const beside = await run(['--ca', '--db', 'etc/ssl-dev', 'CN=Dev CA'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(beside.code, 0, beside.stderr);
    const own = join(cwd, 'etc/ssl-dev/lab');
    git(cwd, ['init', '-q', own]);
    const repository = await run(['--ca', '--db', own, 'CN=Lab CA'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(repository.code, 0, repository.stderr);
  });

  it('without a TTY and without a root password, fails at once and leaves nothing', async () => {
    const cwd = tempDir();
    const result = await run(['--ca', 'CN=Example CA'], { cwd, silentStdin: true, timeoutMs: 10_000 });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'certified: the root key needs a password and none was given. Pass --root-password - (one line on stdin) or set CERTIFIED_ROOT_PASSWORD.\n');
    assert.deepEqual([...snapshot(cwd).keys()], []);
  });

  it('prints help with no arguments', async () => {
    const result = await run([], { cwd: tempDir() });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: certified \[options\]/);
    assert.match(result.stdout, /\$ certified --ca C=US O=Example CN="Example CA"/);
  });
});

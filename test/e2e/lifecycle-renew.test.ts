import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { commitCount, freshCa, git, openssl, readText, run } from '../helpers/cli.js';
import { assertRefused, crlText, revokedDirOf, serialOf, verifyWithCrls } from '../helpers/lifecycle.js';

function publicKeyOf(cert: string): string {
  return openssl(['x509', '-in', cert, '-noout', '-pubkey']).stdout;
}

function ext(cert: string): string {
  return openssl(['x509', '-in', cert, '-noout', '-ext', 'subjectAltName,extendedKeyUsage', '-subject']).stdout;
}

describe('certified renew', () => {
  let cwd: string;
  let db: string;
  before(async () => {
    ({ cwd, db } = await freshCa());
    assert.equal((await run(['--client', '--days', '90', 'CN=alice', '+alice@example.com'], { cwd })).code, 0);
    assert.equal((await run(['--server', 'CN=web.example.com', '+api.example.com', '+10.0.0.5'], { cwd })).code, 0);
  });

  it('issues the same names and profile with a new key and supersedes the old one, in one commit', async () => {
    const cert = join(db, 'certs/alice.crt');
    const oldSerial = serialOf(cert);
    const oldKey = publicKeyOf(cert);
    const oldExt = ext(cert);
    const commits = commitCount(db);
    const result = await run(['renew', 'CN=alice'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(commitCount(db), commits + 1);
    assert.equal(result.stdout, readText(join(db, 'certs/alice.chain.crt')));
    const newSerial = serialOf(cert);
    assert.notEqual(newSerial, oldSerial);
    assert.notEqual(publicKeyOf(cert), oldKey);
    assert.equal(ext(cert), oldExt);
    const days = (Date.parse(openssl(['x509', '-in', cert, '-noout', '-enddate']).stdout.trim().split('=')[1]!) - Date.now()) / 86_400_000;
    assert.ok(days > 89.9 && days < 90.1, `renewed for the old lifetime of 90 days, got ${days}`);

    assert.equal(JSON.parse(readText(join(db, `records/ca/${oldSerial}.json`))).revocation.reason, 'superseded');
    assert.equal(JSON.parse(readText(join(db, `records/ca/${newSerial}.json`))).status, 'valid');
    assert.match(crlText(join(db, 'crl/ca.crl')), new RegExp(`Serial Number: ${oldSerial.toUpperCase()}\\n[^\\n]*\\n\\s*CRL entry extensions:\\n\\s*X509v3 CRL Reason Code: \\n\\s*Superseded`));
    const old = verifyWithCrls(db, join(db, 'certs/ca.crt'), join(revokedDirOf(db, 'alice', oldSerial), 'alice.crt'));
    assert.match(old.output, /certificate revoked/);
    const fresh = verifyWithCrls(db, join(db, 'certs/ca.crt'), cert);
    assert.ok(fresh.ok, fresh.output);
    assert.equal(publicKeyOf(cert), openssl(['pkey', '-in', join(db, 'private/alice.key'), '-pubout']).stdout);
    assert.ok(existsSync(join(db, `private/revoked/alice-${oldSerial}.key`)));

    assert.match(git(db, ['log', '-1', '--format=%s']).trim(), new RegExp(`^Renew alice \\(serial ${oldSerial} -> ${newSerial}, new key, expires \\d{4}-\\d{2}-\\d{2}\\)$`));
    const body = git(db, ['log', '-1', '--format=%B']);
    assert.match(body, /Certified-Action: renew\n/);
    assert.match(body, new RegExp(`Certified-Replaces: ${oldSerial}\\n`));
    assert.deepEqual(git(db, ['show', '--no-renames', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort(), [
      'certs/alice.chain.crt',
      'certs/alice.crt',
      'crl/ca.crl',
      'csr/alice.csr',
      `records/ca/${newSerial}.json`,
      `records/ca/${oldSerial}.json`,
      `revoked-index/ca/${oldSerial}`,
      `revoked/alice-${oldSerial}/alice.chain.crt`,
      `revoked/alice-${oldSerial}/alice.crt`,
      `revoked/alice-${oldSerial}/alice.csr`,
    ].sort());
    assert.equal(git(db, ['status', '--porcelain']), '');
  });

  it('keeps the key with --reuse-key and takes --days', async () => {
    const cert = join(db, 'certs/web.example.com.crt');
    const oldKey = publicKeyOf(cert);
    const oldSerial = serialOf(cert);
    const result = await run(['renew', '--name', 'web.example.com', '--reuse-key', '--days', '30'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(publicKeyOf(cert), oldKey);
    assert.equal(openssl(['pkey', '-in', join(db, 'private/web.example.com.key'), '-pubout']).stdout, oldKey);
    assert.match(ext(cert), /DNS:web\.example\.com, DNS:api\.example\.com, IP Address:10\.0\.0\.5/);
    assert.match(ext(cert), /TLS Web Server Authentication\n/);
    const days = (Date.parse(openssl(['x509', '-in', cert, '-noout', '-enddate']).stdout.trim().split('=')[1]!) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days < 30.1, `30 days, got ${days}`);
    assert.match(crlText(join(db, 'crl/ca.crl')), new RegExp(`Serial Number: ${oldSerial.toUpperCase()}`));
    const fresh = verifyWithCrls(db, join(db, 'certs/ca.crt'), cert);
    assert.ok(fresh.ok, fresh.output);
  });

  it('refuses a revoked or unknown certificate and a CA, changing nothing', async () => {
    assert.equal((await run(['CN=gone.example.com'], { cwd })).code, 0);
    assert.equal((await run(['--revoke', 'CN=gone.example.com'], { cwd })).code, 0);
    await assertRefused(['renew', 'CN=gone.example.com'], { cwd }, 1, /"gone\.example\.com" \(serial [0-9a-f]+\) was already revoked on/);
    await assertRefused(['renew', 'CN=nobody.example.com'], { cwd }, 1, /there is no certificate named "nobody\.example\.com"/);
    await assertRefused(['renew', '--name', 'ca'], { cwd }, 1, /"ca" is a ca certificate; renew is for certificates a CA issued/);
    await assertRefused(['renew'], { cwd }, 2, /which certificate\?/);
  });

  it('asks for a password for the new key when the old key was encrypted', async () => {
    assert.equal((await run(['--password', 'leaf secret 1', 'CN=locked.example.com'], { cwd })).code, 0);
    await assertRefused(['renew', 'CN=locked.example.com'], { cwd }, 1, /the key of "locked\.example\.com" is encrypted, so its new key needs a password too/);
    const result = await run(['renew', 'CN=locked.example.com'], { cwd, env: { CERTIFIED_PASSWORD: 'leaf secret 2' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(openssl(['pkey', '-in', join(db, 'private/locked.example.com.key'), '-noout', '-passin', 'pass:leaf secret 2']).status, 0);
    assert.match(git(db, ['ls-files', 'private']), /private\/revoked\/locked\.example\.com-[0-9a-f]+\.key/);
    assert.doesNotMatch(git(db, ['log', '-p']), /leaf secret|BEGIN (RSA |EC )?PRIVATE KEY/);
  });
});

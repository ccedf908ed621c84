import assert from 'node:assert/strict';
import { existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, freshCa, git, makeCa, openssl, readText, run, tempDir } from '../helpers/cli.js';
import { assertNextCrlNumber, assertRefused, crlNumber, nowSeconds, crlText, revokedDirOf, serialOf, verifyCrl, verifyWithCrls } from '../helpers/lifecycle.js';

describe('certified --revoke and certified crl', () => {
  let cwd: string;
  let db: string;
  before(async () => {
    ({ cwd, db } = await freshCa(['--crl-url', 'http://pki.example.com/ca.crl']));
    for (const cn of ['host.example.com', 'good.example.com']) {
      const result = await run([`CN=${cn}`], { cwd });
      assert.equal(result.code, 0, result.stderr);
    }
  });

  it('revokes: record, CRL judged by OpenSSL, files moved away, key still git-ignored, one commit', async () => {
    const serial = serialOf(join(db, 'certs/host.example.com.crt'));
    const number = crlNumber(join(db, 'crl/ca.crl'));
    const since = nowSeconds();
    const commits = commitCount(db);
    const result = await run(['--revoke', '--reason', 'keyCompromise', 'CN=host.example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`Revoked "host\\.example\\.com" \\(serial ${serial}, keyCompromise\\)`));
    assert.equal(commitCount(db), commits + 1);

    const record = JSON.parse(readText(join(db, `records/ca/${serial}.json`)));
    assert.equal(record.status, 'revoked');
    assert.equal(record.revocation.reason, 'keyCompromise');
    assert.ok(!Number.isNaN(Date.parse(record.revocation.date)));

    const crl = readText(join(db, 'crl/ca.crl'));
    assert.match(crl, /^-----BEGIN X509 CRL-----\n[\s\S]+\n-----END X509 CRL-----\n$/);
    assert.match(verifyCrl(join(db, 'crl/ca.crl'), join(db, 'certs/ca.crt')), /verify OK/);
    assertNextCrlNumber(join(db, 'crl/ca.crl'), number, since);
    const text = crlText(join(db, 'crl/ca.crl'));
    assert.match(text, /Version 2/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.match(text, new RegExp(`Serial Number: ${serial.toUpperCase()}\\n[\\s\\S]*?CRL Reason Code: \\n\\s*Key Compromise`));
    assert.match(text, /Next Update: /);

    const moved = revokedDirOf(db, 'host.example.com', serial);
    for (const file of ['host.example.com.crt', 'host.example.com.chain.crt', 'host.example.com.csr']) assert.ok(existsSync(join(moved, file)), file);
    assert.ok(!existsSync(join(db, 'certs/host.example.com.crt')));
    assert.ok(!existsSync(join(db, 'private/host.example.com.key')));
    const key = join(db, `private/revoked/host.example.com-${serial}.key`);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.equal(statSync(join(db, 'private/revoked')).mode & 0o777, 0o700);
    assert.equal(git(db, ['check-ignore', `private/revoked/host.example.com-${serial}.key`]).trim(), `private/revoked/host.example.com-${serial}.key`);
    assert.equal(git(db, ['status', '--porcelain']), '');

    // The revoked certificate is refused, the good one accepted.
    const revoked = verifyWithCrls(db, join(db, 'certs/ca.crt'), join(moved, 'host.example.com.crt'));
    assert.equal(revoked.ok, false);
    assert.match(revoked.output, /certificate revoked/);
    const leafOnly = openssl(['verify', '-crl_check', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/ca.crt'), '-CRLfile', join(db, 'crl/ca.crl'), join(moved, 'host.example.com.crt')]);
    assert.match(leafOnly.stdout + leafOnly.stderr, /certificate revoked/);
    const good = verifyWithCrls(db, join(db, 'certs/ca.crt'), join(db, 'certs/good.example.com.crt'));
    assert.ok(good.ok, good.output);
    assert.match(good.output, /good\.example\.com\.crt: OK/);

    assert.equal(git(db, ['log', '-1', '--format=%s']).trim(), `Revoke host.example.com (serial ${serial}, keyCompromise)`);
    const body = git(db, ['log', '-1', '--format=%B']);
    assert.match(body, /\$ certified --revoke --reason keyCompromise CN=host\.example\.com/);
    assert.match(body, /Certified-Action: revoke\n/);
    assert.match(body, new RegExp(`Certified-Serial: ${serial}\\n`));
    assert.match(body, /Certified-Reason: keyCompromise\n/);
    assert.deepEqual(git(db, ['show', '--no-renames', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort(), [
      'certs/host.example.com.chain.crt',
      'certs/host.example.com.crt',
      'crl/ca.crl',
      // Keeps csr/ in git now that its only request moved: see CSR_KEEP_FILE.
      'csr/.keep',
      'csr/host.example.com.csr',
      `records/ca/${serial}.json`,
      `revoked-index/ca/${serial}`,
      `revoked/host.example.com-${serial}/host.example.com.chain.crt`,
      `revoked/host.example.com-${serial}/host.example.com.crt`,
      `revoked/host.example.com-${serial}/host.example.com.csr`,
    ]);

    // The name is free again.
    const again = await run(['CN=host.example.com'], { cwd });
    assert.equal(again.code, 0, again.stderr);
    assert.notEqual(serialOf(join(db, 'certs/host.example.com.crt')), serial);
  });

  it('puts each reason code in the CRL and numbers every CRL one more than the last', async () => {
    const reasons = [
      ['superseded', 'Superseded'],
      ['cessationOfOperation', 'Cessation Of Operation'],
      ['affiliationChanged', 'Affiliation Changed'],
      ['unspecified', undefined],
    ] as const;
    for (const [reason, shown] of reasons) {
      const name = `reason-${reason.toLowerCase()}`;
      assert.equal((await run(['--name', name, `CN=${name}.example.com`], { cwd })).code, 0);
      const serial = serialOf(join(db, `certs/${name}.crt`));
      const number = crlNumber(join(db, 'crl/ca.crl'));
      const since = nowSeconds();
      const args = reason === 'unspecified' ? ['--revoke', '--name', name] : ['--revoke', '--reason', reason, '--name', name];
      const result = await run(args, { cwd });
      assert.equal(result.code, 0, result.stderr);
      assertNextCrlNumber(join(db, 'crl/ca.crl'), number, since);
      const entry = new RegExp(`Serial Number: ${serial.toUpperCase()}\\n\\s*Revocation Date: [^\\n]+\\n(\\s*CRL entry extensions:\\n\\s*X509v3 CRL Reason Code: \\n\\s*([^\\n]+)\\n)?`).exec(crlText(join(db, 'crl/ca.crl')));
      assert.ok(entry, `serial ${serial} listed`);
      assert.equal(entry[2], shown, `reason of ${reason}`);
      assert.equal(JSON.parse(readText(join(db, `records/ca/${serial}.json`))).revocation.reason, reason);
    }
  });

  it('refuses an unknown name, an already revoked one, a bad reason and the CA names, changing nothing', async () => {
    await assertRefused(['--revoke', 'CN=nobody.example.com'], { cwd }, 1, /there is no certificate named "nobody\.example\.com"/);
    await assertRefused(['--revoke', '--name', 'reason-superseded'], { cwd }, 1, /"reason-superseded" \(serial [0-9a-f]+\) was already revoked on \d{4}-\d{2}-\d{2}/);
    await assertRefused(['--revoke', '--reason', 'boredom', 'CN=good.example.com'], { cwd }, 2, /--reason must be one of unspecified, keyCompromise, superseded, cessationOfOperation, affiliationChanged, got "boredom"/);
    await assertRefused(['--revoke', '--name', 'ca'], { cwd }, 2, /the intermediate is revoked by the root\. Run "certified revoke --ca --root-password -"/);
    await assertRefused(['--revoke', '--name', 'root-ca'], { cwd }, 1, /the root cannot be revoked/);
    await assertRefused(['--revoke', '+x.example.com', 'CN=good.example.com'], { cwd }, 2, /revoke takes no \+names/);
    await assertRefused(['--revoke'], { cwd }, 2, /which certificate\?/);
    await assertRefused(['--revoke', '--issuer', 'nope', 'CN=good.example.com'], { cwd }, 1, /there is no CA "nope"/);
  });

  it('certified crl re-signs from the records alone, skipping the offline root key with a note', async () => {
    const before = crlText(join(db, 'crl/ca.crl')).match(/Serial Number: \w+/g);
    const caNumber = crlNumber(join(db, 'crl/ca.crl'));
    const since = nowSeconds();
    const rootCrl = readText(join(db, 'crl/root-ca.crl'));
    renameSync(join(db, 'private/root-ca.key'), join(cwd, 'root-ca.key'));
    try {
      const commits = commitCount(db);
      const result = await run(['crl', '--crl-days', '3'], { cwd });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Note: the root key is offline, so the root's CRL was not re-signed/);
      assert.equal(commitCount(db), commits + 1);
      assert.deepEqual(git(db, ['show', '--no-renames', '--name-only', '--format=', 'HEAD']).trim().split('\n'), ['crl/ca.crl']);
      assert.match(git(db, ['log', '-1', '--format=%B']), /Certified-Action: crl\n/);
      assertNextCrlNumber(join(db, 'crl/ca.crl'), caNumber, since);
      assert.deepEqual(crlText(join(db, 'crl/ca.crl')).match(/Serial Number: \w+/g), before);
      assert.match(verifyCrl(join(db, 'crl/ca.crl'), join(db, 'certs/ca.crt')), /verify OK/);
      const next = openssl(['crl', '-in', join(db, 'crl/ca.crl'), '-noout', '-nextupdate']).stdout.trim().replace('nextUpdate=', '');
      const days = (Date.parse(next) - Date.now()) / 86_400_000;
      assert.ok(days > 2.9 && days < 3.1, `nextUpdate ${next} is 3 days ahead`);
      assert.equal(readText(join(db, 'crl/root-ca.crl')), rootCrl);

      await assertRefused(['crl', '--issuer', 'root-ca'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } }, 1, /the key of "root-ca" is not at "private\/root-ca\.key"\. The root key is kept offline/);
    } finally {
      renameSync(join(cwd, 'root-ca.key'), join(db, 'private/root-ca.key'));
    }
    // Without the root password (no terminal), cron's "certified crl" re-signs what it can open and says what it skipped.
    const withoutRoot = await run(['crl'], { cwd });
    assert.equal(withoutRoot.code, 0, withoutRoot.stderr);
    assert.match(withoutRoot.stderr, /^Note: no password for the root key was given, so the root's CRL was not re-signed: run "certified crl --issuer root-ca --root-password -" \(or set CERTIFIED_ROOT_PASSWORD\)\.$/m);
    assert.deepEqual(git(db, ['show', '--no-renames', '--name-only', '--format=', 'HEAD']).trim().split('\n'), ['crl/ca.crl']);
    await assertRefused(['crl', '--issuer', 'root-ca'], { cwd }, 1, /the root key needs a password and none was given/);
    await assertRefused(['crl', '--root-password', 'wrong password'], { cwd }, 1, /the password for "private\/root-ca\.key" is wrong/);
    const rootNumber = crlNumber(join(db, 'crl/root-ca.crl'));
    const bothSince = nowSeconds();
    const both = await run(['crl', '--root-password', '-'], { cwd, input: `${ROOT_PASSWORD}\n` });
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(git(db, ['show', '--no-renames', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort(), ['crl/ca.crl', 'crl/root-ca.crl']);
    assertNextCrlNumber(join(db, 'crl/root-ca.crl'), rootNumber, bothSince);
    assert.match(verifyCrl(join(db, 'crl/root-ca.crl'), join(db, 'certs/root-ca.crt')), /verify OK/);
    assert.doesNotMatch(git(db, ['log', '-1', '--format=%B']), new RegExp(ROOT_PASSWORD));
  });

  it('needs the password of an encrypted intermediate key and changes nothing without it', async () => {
    const other = tempDir();
    await makeCa(other, ['--intermediate-password', 'intermediate secret']);
    const issued = await run(['--ca-password', 'intermediate secret', 'CN=x.example.com'], { cwd: other });
    assert.equal(issued.code, 0, issued.stderr);
    await assertRefused(['--revoke', 'CN=x.example.com'], { cwd: other }, 1, /the intermediate key needs a password and none was given/);
    await assertRefused(['--revoke', '--ca-password', 'not it at all', 'CN=x.example.com'], { cwd: other }, 1, /the password for "private\/ca\.key" is wrong/);
    const result = await run(['--revoke', 'CN=x.example.com'], { cwd: other, env: { CERTIFIED_CA_PASSWORD: 'intermediate secret' } });
    assert.equal(result.code, 0, result.stderr);
  });
});

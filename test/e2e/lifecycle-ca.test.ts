import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, freshCa, git, openssl, readText, run } from '../helpers/cli.js';
import { assertRefused, crlNumber, crlText, nowSeconds, revokedDirOf, serialOf, verifyCrl, verifyWithCrls } from '../helpers/lifecycle.js';

const ROOT = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };

function x509Text(file: string): string {
  return openssl(['x509', '-in', file, '-noout', '-text']).stdout;
}

describe('certified --ca --revoke, then a new intermediate under the same root', () => {
  let cwd: string;
  let db: string;
  before(async () => {
    ({ cwd, db } = await freshCa(['--crl-url', 'http://pki.example.com/ca.crl', '--root-crl-url', 'http://pki.example.com/root-ca.crl', '--ocsp-url', 'http://ocsp.example.com']));
    assert.equal((await run(['CN=old.example.com'], { cwd })).code, 0);
  });

  it('the root revokes the intermediate, issuing is refused, a new one is made with the saved defaults', async () => {
    const oldSerial = serialOf(join(db, 'certs/ca.crt'));
    const config = readText(join(db, 'certified.json'));
    await assertRefused(['--ca', '--revoke'], { cwd }, 1, /the root key needs a password and none was given/);
    await assertRefused(['--ca', '--revoke', '--root-password', 'not the password'], { cwd }, 1, /the password for "private\/root-ca\.key" is wrong/);

    const commits = commitCount(db);
    const revoked = await run(['--ca', '--revoke', '--reason', 'keyCompromise'], { cwd, env: ROOT });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(commitCount(db), commits + 1);
    assert.equal(git(db, ['log', '-1', '--format=%s']).trim(), `Revoke ca (serial ${oldSerial}, keyCompromise)`);
    assert.match(verifyCrl(join(db, 'crl/root-ca.crl'), join(db, 'certs/root-ca.crt')), /verify OK/);
    assert.match(crlText(join(db, 'crl/root-ca.crl')), new RegExp(`Serial Number: ${oldSerial.toUpperCase()}\\n[\\s\\S]*Key Compromise`));
    const moved = revokedDirOf(db, 'ca', oldSerial);
    assert.ok(existsSync(join(moved, 'ca.crt')));
    assert.ok(!existsSync(join(db, 'certs/ca.crt')));
    assert.ok(existsSync(join(db, `private/revoked/ca-${oldSerial}.key`)));
    const judged = openssl(['verify', '-crl_check', '-CAfile', join(db, 'certs/root-ca.crt'), '-CRLfile', join(db, 'crl/root-ca.crl'), join(moved, 'ca.crt')]);
    assert.match(judged.stdout + judged.stderr, /certificate revoked/);

    await assertRefused(['CN=new.example.com'], { cwd }, 1, /the issuing CA "ca" was revoked on \d{4}-\d{2}-\d{2} \(keyCompromise\)\. Make a new intermediate under the root with "certified init --root-password -"/);
    await assertRefused(['--ca', '--revoke'], { cwd, env: ROOT }, 1, /there is no certificate named "ca"|"ca" \(serial [0-9a-f]+\) was already revoked/);

    const made = await run(['--ca'], { cwd, env: ROOT });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout, readText(join(db, 'certs/ca.crt')));
    assert.notEqual(serialOf(join(db, 'certs/ca.crt')), oldSerial);
    assert.equal(readText(join(db, 'certified.json')), config);
    const intermediate = x509Text(join(db, 'certs/ca.crt'));
    assert.match(intermediate, /Subject: C = US, O = Example, CN = Example CA Intermediate\n/);
    assert.match(intermediate, /CA:TRUE, pathlen:1/);
    assert.match(intermediate, /URI:http:\/\/pki\.example\.com\/root-ca\.crl/);
    assert.match(intermediate, /OCSP - URI:http:\/\/ocsp\.example\.com/);
    assert.match(git(db, ['log', '-1', '--format=%B']), /Certified-Action: init-intermediate\n/);
    assert.match(verifyCrl(join(db, 'crl/ca.crl'), join(db, 'certs/ca.crt')), /verify OK/);

    const issued = await run(['CN=new.example.com'], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
    const fresh = verifyWithCrls(db, join(db, 'certs/ca.crt'), join(db, 'certs/new.example.com.crt'));
    assert.ok(fresh.ok, fresh.output);
    assert.match(x509Text(join(db, 'certs/new.example.com.crt')), /URI:http:\/\/pki\.example\.com\/ca\.crl/);
    // The old leaf chains only to the revoked intermediate.
    const old = openssl(['verify', '-crl_check_all', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(moved, 'ca.crt'), '-CRLfile', join(db, 'crl/root-ca.crl'), '-CRLfile', join(db, 'crl/ca.crl'), join(db, 'certs/old.example.com.crt')]);
    assert.notEqual(old.status, 0);
    const renewed = await run(['renew', 'CN=old.example.com'], { cwd });
    assert.equal(renewed.code, 0, renewed.stderr);
    const again = verifyWithCrls(db, join(db, 'certs/ca.crt'), join(db, 'certs/old.example.com.crt'));
    assert.ok(again.ok, again.output);

    await assertRefused(['--ca', 'CN=Another'], { cwd, env: ROOT }, 1, /a CA already exists in ".*"\. Nothing was changed\. To replace the intermediate, revoke it first/);
  });
});

describe('sub-CAs: certified --ca --issuer=ca CN="Team CA"', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa(['--crl-url', 'http://pki.example.com/ca.crl'])));

  it('makes a pathlen:0 CA with its own CRL, issues and revokes from it; the whole chain verifies', async () => {
    const subCaSince = nowSeconds();
    const made = await run(['--ca', '--issuer=ca', 'CN=Team CA'], { cwd });
    assert.equal(made.code, 0, made.stderr);
    const subCa = x509Text(join(db, 'certs/team-ca.crt'));
    assert.match(subCa, /Subject: C = US, O = Example, CN = Team CA\n/);
    assert.match(subCa, /Issuer: C = US, O = Example, CN = Example CA Intermediate\n/);
    assert.match(subCa, /Basic Constraints: critical\n\s*CA:TRUE, pathlen:0\n/);
    assert.match(subCa, /Key Usage: critical\n\s*Certificate Sign, CRL Sign\n/);
    assert.equal(readText(join(db, 'certs/team-ca.chain.crt')), readText(join(db, 'certs/team-ca.crt')) + readText(join(db, 'certs/ca.crt')));
    assert.equal(made.stdout, readText(join(db, 'certs/team-ca.chain.crt')));
    const serial = serialOf(join(db, 'certs/team-ca.crt'));
    assert.equal(JSON.parse(readText(join(db, `records/ca/${serial}.json`))).profile, 'ca');
    assert.match(verifyCrl(join(db, 'crl/team-ca.crl'), join(db, 'certs/team-ca.crt')), /verify OK/);
    const subCaCrlNumber = crlNumber(join(db, 'crl/team-ca.crl'));
    assert.ok(subCaCrlNumber >= subCaSince && subCaCrlNumber <= nowSeconds(), 'the first CRL is numbered by its signing time');
    assert.match(git(db, ['log', '-1', '--format=%B']), /Certified-Action: create-ca\n/);
    const verifySub = openssl(['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/ca.crt'), join(db, 'certs/team-ca.crt')]);
    assert.equal(verifySub.status, 0, verifySub.stderr);

    const leaf = await run(['--issuer=Team CA', 'CN=host.example.com'], { cwd });
    assert.equal(leaf.code, 0, leaf.stderr);
    const chain = readText(join(db, 'certs/host.example.com.chain.crt'));
    assert.equal(chain, readText(join(db, 'certs/host.example.com.crt')) + readText(join(db, 'certs/team-ca.crt')) + readText(join(db, 'certs/ca.crt')));
    const leafSerial = serialOf(join(db, 'certs/host.example.com.crt'));
    assert.ok(existsSync(join(db, `records/team-ca/${leafSerial}.json`)));
    const leafText = x509Text(join(db, 'certs/host.example.com.crt'));
    assert.match(leafText, /Issuer: C = US, O = Example, CN = Team CA\n/);
    assert.match(leafText, /URI:http:\/\/pki\.example\.com\/team-ca\.crl/);
    const good = verifyWithCrls(db, join(db, 'certs/team-ca.chain.crt'), join(db, 'certs/host.example.com.crt'));
    assert.ok(good.ok, good.output);

    // By file name as well as by CN; a wrong issuer for the revocation is refused.
    assert.equal((await run(['--issuer', 'team-ca', 'CN=other.example.com'], { cwd })).code, 0);
    await assertRefused(['--issuer', 'ca', '--revoke', 'CN=host.example.com'], { cwd }, 1, /"host\.example\.com" was issued by "team-ca", not by "ca"/);

    const revoked = await run(['--issuer=Team CA', '--revoke', '--reason', 'keyCompromise', 'CN=host.example.com'], { cwd });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(verifyCrl(join(db, 'crl/team-ca.crl'), join(db, 'certs/team-ca.crt')), /verify OK/);
    assert.ok(crlNumber(join(db, 'crl/team-ca.crl')) > subCaCrlNumber);
    assert.match(crlText(join(db, 'crl/team-ca.crl')), new RegExp(`Serial Number: ${leafSerial.toUpperCase()}`));
    assert.doesNotMatch(crlText(join(db, 'crl/ca.crl')), new RegExp(leafSerial.toUpperCase()));
    const judged = verifyWithCrls(db, join(db, 'certs/team-ca.chain.crt'), join(revokedDirOf(db, 'host.example.com', leafSerial), 'host.example.com.crt'));
    assert.equal(judged.ok, false);
    assert.match(judged.output, /certificate revoked/);
    const other = verifyWithCrls(db, join(db, 'certs/team-ca.chain.crt'), join(db, 'certs/other.example.com.crt'));
    assert.ok(other.ok, other.output);
  });

  it('encrypts a sub-CA key with --password and needs it as --ca-password to issue', async () => {
    const made = await run(['--ca', '--issuer', 'ca', '--password', 'team b secret', 'CN=Team B'], { cwd });
    assert.equal(made.code, 0, made.stderr);
    assert.match(git(db, ['ls-files', 'private']), /private\/team-b\.key/);
    assert.equal(openssl(['pkey', '-in', join(db, 'private/team-b.key'), '-noout', '-passin', 'pass:team b secret']).status, 0);
    await assertRefused(['--issuer', 'Team B', 'CN=b.example.com'], { cwd }, 1, /the key of the CA "team-b" needs a password and none was given/);
    const issued = await run(['--issuer', 'Team B', '--ca-password', '-', 'CN=b.example.com'], { cwd, input: 'team b secret\n' });
    assert.equal(issued.code, 0, issued.stderr);
    assert.doesNotMatch(git(db, ['log', '-p']), /team b secret/);
  });

  it('refuses a sub-CA of a sub-CA, an unknown issuer, a taken name and a leaf from the root', async () => {
    await assertRefused(['--ca', '--issuer', 'Team CA', 'CN=Deeper CA'], { cwd }, 1, /the CA "team-ca" may not sign CAs \(pathlen 0\)/);
    await assertRefused(['--ca', '--issuer', 'Nobody CA', 'CN=X CA'], { cwd }, 1, /there is no CA "Nobody CA"/);
    await assertRefused(['--ca', '--issuer', 'ca', 'CN=Team CA'], { cwd }, 1, /the name "team-ca" is already taken/);
    await assertRefused(['--issuer', 'host.example.com', 'CN=y.example.com'], { cwd }, 1, /there is no CA "host\.example\.com"/);
    await assertRefused(['--issuer', 'root-ca', 'CN=y.example.com'], { cwd }, 1, /the root signs only CAs/);
  });
});

/**
 * Every signing path with CA keys on a PKCS#11 token (SoftHSM): signing a CSR, renewing, the CRL
 * command, apply above the size that uses worker threads, OCSP answers of serve, a sub-CA whose
 * key the token holds, a new intermediate on the token after the old one was revoked, and check
 * comparing the token's keys with the CA certificates. OpenSSL judges what was signed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commitCount, git, makeCa, openssl, run, snapshot, tempDir } from '../helpers/cli.js';
import { crlNumber } from '../helpers/lifecycle.js';
import { freePort, serve, stop, type Served } from '../helpers/serve.js';
import { SOFTHSM_MODULE, USER_PIN, softhsmMissing, softhsmToken, type Token } from '../helpers/softhsm.js';

const skip = softhsmMissing();
/** apply and serve on a busy machine. */
const SLOW = { timeoutMs: 300_000 };

/** SHA-256 of a certificate's SubjectPublicKeyInfo, as the commit message writes it. */
function publicKeySha256(certificate: string): string {
  const pem = openssl(['x509', '-in', certificate, '-noout', '-pubkey']).stdout;
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** openssl verify of `leaf` against the root, with the CA certificates between them. */
function verify(db: string, leaf: string, untrusted: string[] = ['ca']): string {
  const args = ['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt')];
  for (const name of untrusted) args.push('-untrusted', join(db, `certs/${name}.crt`));
  const result = openssl([...args, leaf]);
  return result.stdout + result.stderr;
}

function tokenKeys(db: string): Record<string, { uri: string; module: string }> | undefined {
  return (JSON.parse(readFileSync(join(db, 'certified.json'), 'utf8')) as { tokenKeys?: Record<string, { uri: string; module: string }> }).tokenKeys;
}

describe('every signing path with the root and intermediate keys on a token', { skip }, () => {
  let token: Token;
  let cwd: string;
  let db: string;
  let env: Record<string, string>;
  let port: number;
  let served: Served | undefined;
  const certified = (args: string[], extra: Record<string, string | undefined> = {}) => run(args, { cwd, env: { ...env, ...extra }, ...SLOW });

  before(async () => {
    token = softhsmToken('ca');
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    env = { ...token.env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE! };
    port = await freePort();
    const made = await certified(['--ca', '--root-key', 'pkcs11:token=ca;object=root-ca', '--intermediate-key', 'pkcs11:token=ca;object=intermediate', '--ocsp-url', `http://127.0.0.1:${port}/ocsp`, 'CN=Paths CA']);
    assert.equal(made.code, 0, made.stderr);
  });
  after(() => stop(served));

  it('signs a CSR made elsewhere', async () => {
    const work = tempDir();
    const csr = join(work, 'elsewhere.csr');
    const made = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'elsewhere.key'), '-subj', '/CN=elsewhere.example.test', '-addext', 'subjectAltName=DNS:elsewhere.example.test', '-out', csr]);
    assert.equal(made.status, 0, made.stderr);
    const signed = await certified(['sign', csr]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(verify(db, join(db, 'certs/elsewhere.example.test.crt')), /: OK\n/);
  });

  it('renews a certificate', async () => {
    assert.equal((await certified(['CN=renewed.example.test'])).code, 0);
    const renewed = await certified(['renew', '--name', 'renewed.example.test', '--yes']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.match(verify(db, join(db, 'certs/renewed.example.test.crt')), /: OK\n/);
  });

  it('re-signs the root CRL on the token with the others', async () => {
    const rootCrl = join(db, 'crl/root-ca.crl');
    const before = crlNumber(rootCrl);
    const crl = await certified(['crl']);
    assert.equal(crl.code, 0, crl.stderr);
    assert.match(crl.stderr, /^Re-signed "etc\/ssl\/crl\/root-ca\.crl": CRL number \d+, 0 revoked/m);
    assert.ok(crlNumber(rootCrl) > before, `the root CRL was re-signed: ${crl.stderr}`);
    const checked = openssl(['crl', '-in', rootCrl, '-noout', '-CAfile', join(db, 'certs/root-ca.crt')]);
    assert.match(checked.stdout + checked.stderr, /verify OK/);
  });

  it('applies a manifest big enough for worker threads, signing on the token', async () => {
    const entries = Array.from({ length: 45 }, (_, i) => `  host-${i}: { cn: host-${i}.example.test }`);
    writeFileSync(join(db, 'certificates.yaml'), `defaults: { days: 30, key: ecdsa }\ncertificates:\n${entries.join('\n')}\n`);
    git(db, ['add', 'certificates.yaml']);
    git(db, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'Edit certificates.yaml']);
    const applied = await certified(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(git(db, ['log', '-1', '--format=%s']).trim(), 'Apply certificates.yaml: 45 issued');
    for (const name of ['host-0', 'host-44']) assert.match(verify(db, join(db, `certs/${name}.crt`)), /: OK\n/);
  });

  it('answers OCSP with responses the token key signed', async () => {
    assert.equal((await certified(['CN=ocsp.example.test'])).code, 0);
    served = await serve(cwd, port, env);
    const answer = openssl(['ocsp', '-issuer', join(db, 'certs/ca.crt'), '-cert', join(db, 'certs/ocsp.example.test.crt'), '-url', `http://127.0.0.1:${port}/ocsp`, '-CAfile', join(db, 'certs/root-ca.crt')]);
    assert.equal(answer.status, 0, answer.stderr);
    assert.match(answer.stdout, /ocsp\.example\.test\.crt: good\n/);
    assert.match(answer.stderr, /Response verify OK/);
    stop(served);
  });

  it('check compares the token keys with the CA certificates, and says when it could not', async () => {
    const checked = await certified(['check', '--json']);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    const json = JSON.parse(checked.stdout) as { ok: boolean; tokenKeys: unknown };
    assert.deepEqual(json.tokenKeys, [
      { name: 'ca', uri: 'pkcs11:token=ca;object=intermediate', result: 'match' },
      { name: 'root-ca', uri: 'pkcs11:token=ca;object=root-ca', result: 'match' },
    ]);
    assert.match((await certified(['check'])).stderr, /^The keys of "ca" and "root-ca" on PKCS#11 tokens match their certificates\.$/m);

    const unreachable = await certified(['check'], { CERTIFIED_PKCS11_PIN: undefined });
    assert.equal(unreachable.code, 0, unreachable.stdout + unreachable.stderr);
    assert.match(unreachable.stderr, /^Note: the key of "ca" on the PKCS#11 token \(pkcs11:token=ca;object=intermediate\) could not be compared with its certificate: the token "ca" needs its user PIN and none was given\.$/m);
    const noModule = await certified(['check'], { CERTIFIED_PKCS11_MODULE: join(cwd, 'no-such-module.so') });
    assert.equal(noModule.code, 0, noModule.stdout + noModule.stderr);
    assert.match(noModule.stderr, /^Note: the key of "root-ca" on the PKCS#11 token \(pkcs11:token=ca;object=root-ca\) could not be compared with its certificate: the PKCS#11 module "[^"]*no-such-module\.so" cannot be loaded/m);

    // A copy of the CA whose certified.json points the intermediate at the root's key.
    const copy = join(tempDir(), 'ssl');
    cpSync(db, copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(copy, 'certified.json'), 'utf8')) as { tokenKeys: Record<string, { uri: string }> };
    config.tokenKeys.ca!.uri = 'pkcs11:token=ca;object=root-ca';
    writeFileSync(join(copy, 'certified.json'), JSON.stringify(config, null, 2) + '\n');
    const mismatch = await certified(['check', '--db', copy]);
    assert.equal(mismatch.code, 1, mismatch.stdout + mismatch.stderr);
    assert.match(mismatch.stdout, /^certified\.json: the key of "ca" on the PKCS#11 token \(pkcs11:token=ca;object=root-ca\) is not the key of the CA in "certs\/ca\.crt", so the CA cannot sign with it: .* \[key-mismatch\]$/m);
  });

  it('makes a sub-CA whose key is on the token, signed by the token intermediate, and issues from it', async () => {
    const made = await certified(['init', '--issuer', 'ca', '--key', 'pkcs11:token=ca;object=team', '--name', 'team', 'CN=Team CA']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /The key of "team" is on the PKCS#11 token \(pkcs11:token=ca;object=team\); it never leaves it\./);
    assert.deepEqual(tokenKeys(db)?.team, { uri: 'pkcs11:token=ca;object=team', module: 'libsofthsm2.so' });
    assert.equal(existsSync(join(db, 'private/team.key')), false);
    const message = git(db, ['log', '-1', '--format=%B']);
    assert.ok(message.includes(`The key is an ECDSA P-384 key made on the PKCS#11 token (pkcs11:token=ca;object=team), public key SHA-256 ${publicKeySha256(join(db, 'certs/team.crt'))}.`), message);
    const listed = token.tool(['--list-objects', '--type', 'privkey']);
    assert.match(listed.stdout, /label:\s+team/);

    const issued = await certified(['--issuer', 'team', 'CN=svc.team.example.test']);
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(verify(db, join(db, 'certs/svc.team.example.test.crt'), ['ca', 'team']), /: OK\n/);
    const withoutPin = await certified(['--issuer', 'team', 'CN=never.team.example.test'], { CERTIFIED_PKCS11_PIN: undefined });
    assert.equal(withoutPin.code, 1);
    assert.match(withoutPin.stderr, /^certified: the key of "team" on the PKCS#11 token cannot be used: the token "ca" needs its user PIN and none was given\./);
  });

  it('keeps the key of a revoked sub-CA from its successor, whose key file then replaces the token record', async () => {
    const revoked = await certified(['revoke', '--name', 'team', '--yes']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const before = snapshot(db);
    for (const uri of ['pkcs11:token=ca;object=team', 'pkcs11:token=ca;object=team;type=private']) {
      const reused = await certified(['init', '--issuer', 'ca', '--name', 'team', '--key', uri, 'CN=Team CA']);
      assert.equal(reused.code, 1, reused.stderr);
      assert.match(reused.stderr, new RegExp(`^certified: --key names the key of the revoked CA "team" \\(${uri.replace(/[.;=]/g, (c) => `\\${c}`)}\\)\\. Give the new CA a key of its own, like pkcs11:token=ca;object=team-2`));
    }
    assert.deepEqual(snapshot(db), before, 'nothing was written');
    const remade = await certified(['init', '--issuer', 'ca', '--name', 'team', 'CN=Team CA']);
    assert.equal(remade.code, 0, remade.stderr);
    assert.equal(tokenKeys(db)?.team, undefined);
    assert.equal(existsSync(join(db, 'private/team.key')), true);
    const issued = await certified(['--issuer', 'team', 'CN=again.team.example.test']);
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(verify(db, join(db, 'certs/again.team.example.test.crt'), ['ca', 'team']), /: OK\n/);
  });

  it('refuses a sub-CA key the token lacks a usable key for, writing nothing', async () => {
    const before = snapshot(db);
    const commits = commitCount(db);
    for (const [uri, message] of [
      ['pkcs11:token=ca;object=intermediate', /^certified: --key names the key of the CA "ca" \(pkcs11:token=ca;object=intermediate\)\. Give the new CA a key of its own/],
      // The same keys named otherwise: found by their public keys once the token is open.
      ['pkcs11:token=ca;object=intermediate;type=private', /^certified: --key names the key of the CA "ca" \(pkcs11:token=ca;object=intermediate;type=private\)\. Give the new CA a key of its own, like pkcs11:token=ca;object=other-ca;type=private\.\n$/],
      ['pkcs11:token=ca;object=root-ca;type=private', /^certified: --key names the key of the CA "root-ca" \(pkcs11:token=ca;object=root-ca;type=private\)\. /],
      ['pkcs11:token=elsewhere;object=other', /^certified: the key of "other-ca" on the PKCS#11 token cannot be used: there is no token "elsewhere"/],
    ] as const) {
      const refused = await certified(['init', '--issuer', 'ca', '--key', uri, 'CN=Other CA']);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, message);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    }
    const withPassword = await certified(['init', '--issuer', 'ca', '--key', 'pkcs11:token=ca;object=other', '--password', 'secret', 'CN=Other CA']);
    assert.equal(withPassword.code, 2, withPassword.stderr);
    const withoutIssuer = await certified(['init', '--key', 'pkcs11:token=ca;object=other', 'CN=Other CA']);
    assert.equal(withoutIssuer.code, 2, withoutIssuer.stderr);
    assert.deepEqual(snapshot(db), before, 'nothing was written');
    assert.equal(commitCount(db), commits);
  });

  it('replaces a revoked intermediate with one whose key is on the token, signed by the token root', async () => {
    const revoked = await certified(['revoke', '--ca', '--yes']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const before = snapshot(db);
    const reused = await certified(['init', '--intermediate-key', 'pkcs11:token=ca;object=intermediate']);
    assert.equal(reused.code, 1, reused.stderr);
    assert.match(reused.stderr, /^certified: --intermediate-key names the key of the revoked intermediate \(pkcs11:token=ca;object=intermediate\)\. Give the new intermediate a key of its own, like pkcs11:token=ca;object=intermediate-2\.\n$/);
    const renamed = await certified(['init', '--intermediate-key', 'pkcs11:token=ca;object=intermediate;type=private']);
    assert.equal(renamed.code, 1, renamed.stderr);
    assert.match(renamed.stderr, /^certified: --intermediate-key names the key of the revoked intermediate \(pkcs11:token=ca;object=intermediate;type=private\)\. /);
    const root = await certified(['init', '--intermediate-key', 'pkcs11:token=ca;object=root-ca;type=private']);
    assert.equal(root.code, 1, root.stderr);
    assert.match(root.stderr, /^certified: --intermediate-key names the key of the CA "root-ca" \(pkcs11:token=ca;object=root-ca;type=private\)\. /);
    assert.deepEqual(snapshot(db), before, 'nothing was written');

    const made = await certified(['init', '--intermediate-key', 'pkcs11:token=ca;object=intermediate-2']);
    assert.equal(made.code, 0, made.stderr);
    assert.deepEqual(tokenKeys(db)?.ca, { uri: 'pkcs11:token=ca;object=intermediate-2', module: 'libsofthsm2.so' });
    assert.equal(existsSync(join(db, 'private/ca.key')), false);
    const message = git(db, ['log', '-1', '--format=%B']);
    assert.ok(message.includes(`The key is an ECDSA P-384 key made on the PKCS#11 token (pkcs11:token=ca;object=intermediate-2), public key SHA-256 ${publicKeySha256(join(db, 'certs/ca.crt'))}.`), message);
    const issued = await certified(['CN=after.example.test']);
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(verify(db, join(db, 'certs/after.example.test.crt')), /: OK\n/);
  });
});

describe('token keys beside key files', { skip }, () => {
  it('a sub-CA key on the token under a file intermediate; a file intermediate replacing a token one', async () => {
    const token = softhsmToken('mixed');
    const cwd = tempDir();
    const db = join(cwd, 'etc/ssl');
    const env = { ...token.env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE! };
    await makeCa(cwd, ['--intermediate-key', 'pkcs11:token=mixed;object=intermediate'], env);
    const sub = await run(['init', '--issuer', 'ca', '--key', 'pkcs11:token=mixed;object=team', '--name', 'team', 'CN=Team CA'], { cwd, env });
    assert.equal(sub.code, 0, sub.stderr);
    const issued = await run(['--issuer', 'team', 'CN=svc.example.test'], { cwd, env });
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(verify(db, join(db, 'certs/svc.example.test.crt'), ['ca', 'team']), /: OK\n/);

    const revoked = await run(['revoke', '--ca', '--yes'], { cwd, env: { ...env, CERTIFIED_ROOT_PASSWORD: 'root password for tests' } });
    assert.equal(revoked.code, 0, revoked.stderr);
    const replaced = await run(['init'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: 'root password for tests' } });
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(Object.keys(tokenKeys(db) ?? {}), ['team'], 'the revoked intermediate is no longer on the token for certified');
    assert.equal(existsSync(join(db, 'private/ca.key')), true);
    const later = await run(['CN=later.example.test'], { cwd, env: {} });
    assert.equal(later.code, 0, 'the new intermediate needs no token: ' + later.stderr);
    assert.match(verify(db, join(db, 'certs/later.example.test.crt')), /: OK\n/);
  });
});

/**
 * CA keys on a PKCS#11 token (SoftHSM, one fresh token store per CA): made there sensitive and
 * never extractable, used by every signing command, judged by OpenSSL and pkcs11-tool; and the
 * refusals (wrong PIN, no module, a key the token lacks or cannot use) write nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { BIN, baseEnv, commitCount, git, openssl, run, snapshot, tempDir, ROOT_PASSWORD } from '../helpers/cli.js';
import { SOFTHSM_MODULE, USER_PIN, softhsmMissing, softhsmToken, type Token } from '../helpers/softhsm.js';

const skip = softhsmMissing();

/** SHA-256 of a certificate's SubjectPublicKeyInfo, as the commit message writes it. */
function publicKeySha256(certificate: string): string {
  const pem = openssl(['x509', '-in', certificate, '-noout', '-pubkey']).stdout;
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

describe('a CA whose root and intermediate keys a PKCS#11 token holds', { skip }, () => {
  let token: Token;
  let cwd: string;
  let db: string;
  let env: Record<string, string>;
  const certified = (args: string[], extra: Record<string, string | undefined> = {}) => run(args, { cwd, env: { ...env, ...extra } });

  before(async () => {
    token = softhsmToken('ca');
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    env = { ...token.env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN };
    const made = await certified(['--ca', '--root-key', 'pkcs11:token=ca;object=root-ca', '--intermediate-key', 'pkcs11:token=ca;object=intermediate', '--pkcs11-module', SOFTHSM_MODULE!, 'O=Token', 'CN=Token CA']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /The root key is on the PKCS#11 token \(pkcs11:token=ca;object=root-ca\); it never leaves it\./);
  });

  it('makes both keys on the token, sensitive and never extractable, and keeps no key file', () => {
    const listed = token.tool(['--list-objects', '--type', 'privkey']);
    assert.equal(listed.status, 0, listed.stderr);
    for (const label of ['root-ca', 'intermediate']) {
      const object = listed.stdout.split(/(?=Private Key Object)/).find((block) => block.includes(`label:      ${label}`));
      assert.ok(object, `the token holds the private key ${label}:\n${listed.stdout}`);
      assert.match(object, /Private Key Object; EC/);
      assert.match(object, /Access:\s+sensitive, always sensitive, never extractable, local/);
    }
    assert.equal(existsSync(join(db, 'private')), false, 'no private/ folder');
    assert.deepEqual(git(db, ['ls-files']).split('\n').filter((path) => path.endsWith('.key')), []);
    const config = JSON.parse(readFileSync(join(db, 'certified.json'), 'utf8')) as { tokenKeys: unknown };
    assert.deepEqual(config.tokenKeys, {
      'root-ca': { uri: 'pkcs11:token=ca;object=root-ca', module: 'libsofthsm2.so' },
      ca: { uri: 'pkcs11:token=ca;object=intermediate', module: 'libsofthsm2.so' },
    });
    const message = git(db, ['log', '-1', '--format=%B', '--', 'certified.json']);
    assert.match(message, /^Create CA "Token CA" \(ECDSA P-384, expires /);
    assert.ok(message.includes(`The root key is an ECDSA P-384 key made on the PKCS#11 token (pkcs11:token=ca;object=root-ca), public key SHA-256 ${publicKeySha256(join(db, 'certs/root-ca.crt'))}.`), message);
    assert.ok(message.includes(`The intermediate key is an ECDSA P-384 key made on the PKCS#11 token (pkcs11:token=ca;object=intermediate), public key SHA-256 ${publicKeySha256(join(db, 'certs/ca.crt'))}.`), message);
    assert.doesNotMatch(message + readFileSync(join(db, 'certified.json'), 'utf8'), new RegExp(USER_PIN));
  });

  it('issues, revokes and signs CRLs with the token keys, and OpenSSL accepts them', async () => {
    for (const name of ['kept.example.test', 'gone.example.test']) {
      const issued = await certified([`CN=${name}`]);
      assert.equal(issued.code, 0, issued.stderr);
    }
    const revoked = await certified(['revoke', '--name', 'gone.example.test', '--yes']);
    assert.equal(revoked.code, 0, revoked.stderr);
    // The root signs its CRL on the token too.
    const crl = await certified(['crl']);
    assert.equal(crl.code, 0, crl.stderr);
    const trust = join(cwd, 'trust.pem');
    writeFileSync(trust, readFileSync(join(db, 'certs/root-ca.crt'), 'utf8') + readFileSync(join(db, 'crl/root-ca.crl'), 'utf8') + readFileSync(join(db, 'crl/ca.crl'), 'utf8'));
    const verify = (certificate: string) => openssl(['verify', '-crl_check_all', '-CAfile', trust, '-untrusted', join(db, 'certs/ca.crt'), certificate]);
    const kept = verify(join(db, 'certs/kept.example.test.crt'));
    assert.equal(kept.status, 0, kept.stdout + kept.stderr);
    const gone = git(db, ['ls-files', 'revoked']).split('\n').find((path) => path.endsWith('/gone.example.test.crt'))!;
    const refused = verify(join(db, gone));
    assert.notEqual(refused.status, 0);
    assert.match(refused.stdout + refused.stderr, /certificate revoked/);
  });

  it("opens the root's token only with the root's PIN: crl without it re-signs the others and says why not the root's", async () => {
    const rootCrl = readFileSync(join(db, 'crl/root-ca.crl'), 'utf8');
    const intermediateCrl = readFileSync(join(db, 'crl/ca.crl'), 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new CRL number (seconds)
    const result = await certified(['crl'], { CERTIFIED_PKCS11_ROOT_PIN: undefined });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /root/);
    assert.equal(readFileSync(join(db, 'crl/root-ca.crl'), 'utf8'), rootCrl, "the root's CRL is left as it was");
    assert.notEqual(readFileSync(join(db, 'crl/ca.crl'), 'utf8'), intermediateCrl, "the intermediate's CRL is signed again");
  });

  it('asks for the PIN on a terminal, masked, with no spinner drawn over the question', async () => {
    const child = spawn('script', ['-q', '-e', '-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} CN=prompted.example.test`, '/dev/null'], {
      cwd,
      env: baseEnv({ ...token.env, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE!, TERM: 'dumb' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let answered = false;
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      if (!answered && screen.includes('PIN for the token holding the key of "ca":')) {
        answered = true;
        child.stdin.write(`${USER_PIN}\r`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, screen);
    assert.ok(answered, `the PIN was asked for:\n${screen}`);
    assert.doesNotMatch(screen, new RegExp(USER_PIN), 'the PIN is not echoed');
    assert.match(git(db, ['log', '-1', '--format=%s']), /^Issue prompted\.example\.test /);
  });

  it('refuses a wrong PIN, a missing PIN and a module that is not there, writing nothing', async () => {
    const before = snapshot(db);
    const cases: [Record<string, string | undefined>, RegExp][] = [
      [{ CERTIFIED_PKCS11_PIN: '0000' }, /^certified: the key of "ca" on the PKCS#11 token cannot be used: the PIN of the token "ca" is wrong\. Give the user PIN with --pin \(- reads it from stdin\) or CERTIFIED_PKCS11_PIN; nothing was written\.\n$/],
      [{ CERTIFIED_PKCS11_PIN: undefined }, /^certified: the key of "ca" on the PKCS#11 token cannot be used: the token "ca" needs its user PIN and none was given\. /],
      [{ CERTIFIED_PKCS11_MODULE: join(cwd, 'no-such-module.so') }, /^certified: the key of "ca" on the PKCS#11 token cannot be used: the PKCS#11 module "[^"]*no-such-module\.so" cannot be loaded \([^\n]*\)\. Check the path given with --pkcs11-module or CERTIFIED_PKCS11_MODULE\.\n$/],
    ];
    for (const [extra, message] of cases) {
      const result = await certified(['CN=never.example.test'], extra);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
    }
    assert.deepEqual(snapshot(db), before, 'nothing was written');
  });
});

describe('certified.json names a key, nothing more', { skip }, () => {
  it('refuses a recorded URI with a query (a module path or PIN file), loading nothing', async () => {
    const token = softhsmToken('query');
    const cwd = tempDir();
    const env = { ...token.env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE!, CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
    const made = await run(['--ca', '--intermediate-key', 'pkcs11:token=query;object=intermediate', 'CN=Query CA'], { cwd, env });
    assert.equal(made.code, 0, made.stderr);
    const db = join(cwd, 'etc/ssl');
    const config = join(db, 'certified.json');
    const marker = join(cwd, 'loaded');
    writeFileSync(config, readFileSync(config, 'utf8').replace('pkcs11:token=query;object=intermediate', `pkcs11:token=query;object=intermediate?module-path=${join(cwd, 'evil.so')}&pin-source=file:${marker}`));
    git(db, ['commit', '-q', '-am', 'a module path slipped into certified.json']);
    const before = snapshot(db);
    const result = await run(['CN=never.example.test'], { cwd, env: { ...env, CERTIFIED_PKCS11_MODULE: undefined } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^certified: the PKCS#11 URI of "ca" in certified\.json has a query \(module-path, pin-source\), which certified never records\. Restore certified\.json from a reviewed commit/);
    assert.deepEqual(snapshot(db), before);
  });
});

describe('a new CA on a token: key types, and the keys it refuses', { skip }, () => {
  it('makes an RSA root on the token beside an intermediate in a file; the root signs its CRL there', async () => {
    const token = softhsmToken('rsa');
    const cwd = tempDir();
    const env = { ...token.env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE! };
    const made = await run(['--ca', '--key-type', 'rsa', '--root-key', 'pkcs11:token=rsa;object=root', 'CN=RSA Token CA'], { cwd, env });
    assert.equal(made.code, 0, made.stderr);
    const db = join(cwd, 'etc/ssl');
    assert.match(openssl(['x509', '-in', join(db, 'certs/root-ca.crt'), '-noout', '-text']).stdout, /Public-Key: \(4096 bit\)/);
    assert.equal(existsSync(join(db, 'private/root-ca.key')), false);
    assert.equal(existsSync(join(db, 'private/ca.key')), true, 'the intermediate key is a file');
    const issued = await run(['CN=web.example.test'], { cwd, env: { CERTIFIED_PKCS11_PIN: undefined } });
    assert.equal(issued.code, 0, 'issuing needs no token when the intermediate key is a file: ' + issued.stderr);
    const crl = await run(['crl'], { cwd, env });
    assert.equal(crl.code, 0, crl.stderr);
    const rootCrl = openssl(['crl', '-in', join(db, 'crl/root-ca.crl'), '-noout', '-CAfile', join(db, 'certs/root-ca.crt')]);
    assert.match(rootCrl.stdout + rootCrl.stderr, /verify OK/);
  });

  it('makes nothing on the token in a dry run', async () => {
    const token = softhsmToken('dry');
    const cwd = tempDir();
    const env = { ...token.env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE! };
    const result = await run(['--ca', '--dry-run', '--root-key', 'pkcs11:token=dry;object=root-ca', '--intermediate-key', 'pkcs11:token=dry;object=intermediate', 'CN=Dry CA'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout + result.stderr, /Dry CA/);
    const listed = token.tool(['--list-objects']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /Key Object/, 'no key was made on the token');
    assert.equal(existsSync(join(cwd, 'etc')), false, 'nothing was written');
  });

  it('refuses a PIN in the URI, a key of a curve it does not sign with, and a URI naming no key; nothing is made', async () => {
    const token = softhsmToken('odd');
    const made = token.tool(['--keypairgen', '--key-type', 'EC:secp521r1', '--label', 'p521']);
    assert.equal(made.status, 0, made.stderr);
    const cwd = tempDir();
    const env = { ...token.env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE!, CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
    const cases: [string, number, RegExp][] = [
      ['pkcs11:token=odd;object=ca?pin-value=4711', 1, /^certified: --intermediate-key is not a usable PKCS#11 URI: it holds the PIN \(pin-value\): give the PIN with --pin or CERTIFIED_PKCS11_PIN instead, or point pin-source at a file\. /],
      ['pkcs11:token=odd;object=p521', 1, /^certified: the key of "ca" on the PKCS#11 token cannot be used: the key "p521" on the token "odd" is an ECDSA P-521 key, which certified does not sign with \(ECDSA P-256 or P-384, RSA of 2048 bits or more\)\. /],
      ['pkcs11:token=odd', 1, /^certified: --intermediate-key is not a usable PKCS#11 URI: it names no key: give object=LABEL \(or id=\.\.\.\)\. /],
      ['pkcs11:token=elsewhere;object=ca', 1, /^certified: the key of "ca" on the PKCS#11 token cannot be used: there is no token "elsewhere" \(the module has "odd"\)\. /],
    ];
    // Both keys are looked at before either is made: the refusal leaves no root key on the token.
    const refused = await run(['--ca', '--root-key', 'pkcs11:token=odd;object=fresh-root', '--intermediate-key', 'pkcs11:token=odd;object=p521', 'CN=Odd CA'], { cwd, env: { ...env, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN } });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /is an ECDSA P-521 key/);
    assert.doesNotMatch(token.tool(['--list-objects']).stdout, /fresh-root/, 'no root key was made');
    const same = await run(['--ca', '--root-key', 'pkcs11:token=odd;object=shared', '--intermediate-key', 'pkcs11:object=shared', 'CN=Odd CA'], { cwd, env: { ...env, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN } });
    assert.equal(same.code, 1, same.stderr);
    assert.match(same.stderr, /^certified: --root-key and --intermediate-key name the same key on the token\. /);
    assert.equal(existsSync(join(cwd, 'etc')), false, 'nothing was written');
    for (const [uri, code, message] of cases) {
      const result = await run(['--ca', '--intermediate-key', uri, 'CN=Odd CA'], { cwd, env });
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
      assert.equal(existsSync(join(cwd, 'etc')), false, 'nothing was written');
      assert.equal(commitCount(join(cwd, 'etc/ssl')), 0);
    }
  });
});

describe('token keys: where the PIN and the module come from, keys adopted and lost', { skip }, () => {
  let token: Token;
  let cwd: string;
  let db: string;
  let env: Record<string, string>;

  before(async () => {
    token = softhsmToken('adopt');
    const made = token.tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'existing']);
    assert.equal(made.status, 0, made.stderr);
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    env = { ...token.env, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE!, CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
  });

  it('adopts a key the token already has, the PIN from a pin-source file; the commit shows no PIN', async () => {
    const pinFile = join(cwd, 'pin.txt');
    writeFileSync(pinFile, `${USER_PIN}\n`, { mode: 0o600 });
    const result = await run(['--ca', '--intermediate-key', `pkcs11:token=adopt;object=existing?pin-source=file:${pinFile}`, 'CN=Adopting CA'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /The intermediate key is on the PKCS#11 token \(pkcs11:token=adopt;object=existing\)/);
    assert.match(openssl(['x509', '-in', join(db, 'certs/ca.crt'), '-noout', '-text']).stdout, /ASN1 OID: prime256v1/);
    const message = git(db, ['log', '-1', '--format=%B']);
    assert.ok(message.includes(`The intermediate key is an ECDSA P-256 key found on the PKCS#11 token (pkcs11:token=adopt;object=existing), public key SHA-256 ${publicKeySha256(join(db, 'certs/ca.crt'))}.`), message);
    // The URI is recorded without its query: a pin-source is a path on this machine.
    assert.match(readFileSync(join(db, 'certified.json'), 'utf8'), /"uri": "pkcs11:token=adopt;object=existing"/);
  });

  it('reads the PIN from stdin with --pin -, and masks a PIN given on the command line in the commit', async () => {
    const fromStdin = await run(['CN=stdin.example.test', '--pin', '-'], { cwd, env, input: `${USER_PIN}\n` });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const fromArgv = await run(['CN=argv.example.test', '--pin', USER_PIN], { cwd, env });
    assert.equal(fromArgv.code, 0, fromArgv.stderr);
    const message = git(db, ['log', '-1', '--format=%B']);
    assert.match(message, /--pin \*\*\*/);
    assert.doesNotMatch(git(db, ['log', '--format=%B']), new RegExp(USER_PIN));
  });

  it('names the flag and the variable when the recorded module is nowhere to be found, writing nothing', async () => {
    const config = join(db, 'certified.json');
    const original = readFileSync(config, 'utf8');
    writeFileSync(config, original.replace('"module": "libsofthsm2.so"', '"module": "libnowhere-pkcs11.so"'));
    git(db, ['commit', '-q', '-am', 'a module this machine does not have']);
    const before = snapshot(db);
    const result = await run(['CN=nomodule.example.test'], { cwd, env: { ...env, CERTIFIED_PKCS11_MODULE: undefined, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN } });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, 'certified: no PKCS#11 module is named and "libnowhere-pkcs11.so" is in none of the usual places. Name the module with --pkcs11-module PATH or CERTIFIED_PKCS11_MODULE=PATH (for SoftHSM: /usr/lib/softhsm/libsofthsm2.so).\n');
    assert.deepEqual(snapshot(db), before);
    // check, where the module is missing (a CI runner), says what it could not compare and passes.
    const checked = await run(['check'], { cwd, env: { ...env, CERTIFIED_PKCS11_MODULE: undefined, CERTIFIED_PKCS11_PIN: USER_PIN } });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stderr, /the key of "ca" on the PKCS#11 token \(pkcs11:token=adopt;object=existing\) could not be compared with its certificate/);
    writeFileSync(config, original);
    git(db, ['commit', '-q', '-am', 'the module back']);
  });

  it('refuses to sign when the token no longer has the key, writing nothing', async () => {
    const deleted = token.tool(['--delete-object', '--type', 'privkey', '--label', 'existing']);
    assert.equal(deleted.status, 0, deleted.stderr);
    const before = snapshot(db);
    const result = await run(['CN=lost.example.test'], { cwd, env: { ...env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_ROOT_PIN: USER_PIN } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^certified: the key of "ca" on the PKCS#11 token cannot be used: the token "adopt" has no private key "existing"\. Check object= in "pkcs11:token=adopt;object=existing" against "pkcs11-tool --module MODULE --list-objects --login"\.\n$/);
    assert.deepEqual(snapshot(db), before);
  });
});

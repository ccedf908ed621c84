import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { commitCount, freshCa, openssl, run, snapshot, tempDir, tool } from '../helpers/cli.js';

const STOREPASS = 'changeit';

/** A Debian-shaped file system root with one other CA already trusted, so the bundle is never empty. */
function debianRoot(): string {
  const root = tempDir('certified-root-');
  for (const dir of ['usr/local/share/ca-certificates', 'usr/share/ca-certificates', 'etc/ssl/certs', 'etc/ca-certificates/update.d']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  writeFileSync(join(root, 'etc/ca-certificates.conf'), '');
  const other = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(root, 'other.key'), '-subj', '/CN=Other CA', '-days', '30', '-out', join(root, 'usr/local/share/ca-certificates/other.crt')]);
  assert.equal(other.status, 0, other.stderr);
  return root;
}

function nssDb(dir: string): string {
  mkdirSync(dir, { recursive: true });
  assert.equal(tool('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']).status, 0);
  return `sql:${dir}`;
}

describe('certified trust', () => {
  let cwd: string;
  let db: string;
  let home: string;
  let keystore: string;
  let nssDbs: string[];
  before(async () => {
    ({ cwd, db } = await freshCa());
    assert.equal((await run(['CN=web.example.com'], { cwd })).code, 0);
    home = tempDir('certified-home-');
    nssDbs = [nssDb(join(home, '.pki/nssdb')), nssDb(join(home, '.mozilla/firefox/abcd1234.default-release'))];
    keystore = join(home, 'truststore.p12');
    const other = debianRoot();
    const made = tool('keytool', ['-importcert', '-noprompt', '-alias', 'other', '-file', join(other, 'usr/local/share/ca-certificates/other.crt'), '-keystore', keystore, '-storetype', 'PKCS12', '-storepass', STOREPASS]);
    assert.equal(made.status, 0, made.stdout + made.stderr);
  });

  it('installs the root into the system store, every NSS database and a Java keystore, once, and removes it again', async () => {
    const root = debianRoot();
    const args = ['trust', '--system', '--nss', '--java', '--java-keystore', keystore, '--root', root];
    const env = { HOME: home };
    const anchor = join(root, 'usr/local/share/ca-certificates/certified-example-ca.crt');
    const bundle = join(root, 'etc/ssl/certs/ca-certificates.crt');
    const leaf = join(db, 'certs/web.example.com.crt');
    const verifyWithBundle = () => openssl(['verify', '-CAfile', bundle, '-untrusted', join(db, 'certs/ca.crt'), leaf]);
    assert.notEqual(verifyWithBundle().status, 0, 'not trusted before');
    const caBefore = snapshot(db);
    const commits = commitCount(db);

    const first = await run(args, { cwd, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /System store ".*certified-example-ca\.crt": installed \(ran update-ca-certificates --certsconf /);
    assert.match(first.stderr, /NSS database "sql:.*\.pki\/nssdb": installed \(ran certutil -A /);
    assert.match(first.stderr, /NSS database "sql:.*abcd1234\.default-release": installed/);
    assert.match(first.stderr, /Java keystore ".*truststore\.p12": installed \(ran keytool -importcert .* -storepass:file '<password-file>'\)/);
    assert.match(first.stderr, /Installed the root "Example CA" \(SHA-256 [0-9A-F:]+\) into 4 stores\./);
    assert.equal(readFileSync(anchor, 'utf8'), readFileSync(join(db, 'certs/root-ca.crt'), 'utf8'));
    // Judges: OpenSSL with the rebuilt system bundle, NSS verifying the leaf, keytool listing the entry.
    const verified = verifyWithBundle();
    assert.equal(verified.status, 0, verified.stderr);
    for (const nss of nssDbs) {
      assert.match(tool('certutil', ['-L', '-d', nss]).stdout, /Example CA\s+C,,/);
      tool('certutil', ['-A', '-d', nss, '-n', 'intermediate', '-t', ',,', '-i', join(db, 'certs/ca.crt')]);
      tool('certutil', ['-A', '-d', nss, '-n', 'web', '-t', ',,', '-i', leaf]);
      const nssVerify = tool('certutil', ['-V', '-d', nss, '-n', 'web', '-u', 'V']);
      assert.match(nssVerify.stdout, /certificate is valid/, nssVerify.stdout + nssVerify.stderr);
    }
    const listed = tool('keytool', ['-list', '-v', '-keystore', keystore, '-storepass', STOREPASS, '-alias', 'certified-example-ca']);
    assert.equal(listed.status, 0, listed.stdout);
    assert.match(listed.stdout, /Entry type: trustedCertEntry/);
    const fingerprint = openssl(['x509', '-in', join(db, 'certs/root-ca.crt'), '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1]!;
    assert.ok(listed.stdout.includes(fingerprint), 'keytool holds the same certificate');
    assert.deepEqual(snapshot(db), caBefore, 'the CA is not changed');
    assert.equal(commitCount(db), commits);

    const again = await run(args, { cwd, env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr.match(/: already trusted\./g)?.length, 4, again.stderr);
    assert.match(again.stderr, /Nothing changed: "Example CA" is already trusted\./);
    assert.doesNotMatch(again.stderr, /ran /);

    const removed = await run([...args, '--uninstall'], { cwd, env });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /System store ".*": removed \(ran update-ca-certificates --fresh /);
    assert.equal(removed.stderr.match(/: removed /g)?.length, 4, removed.stderr);
    assert.match(removed.stderr, /Removed the root "Example CA" from 4 stores\./);
    assert.equal(existsSync(anchor), false);
    assert.notEqual(verifyWithBundle().status, 0, 'the rebuilt bundle no longer trusts it');
    assert.match(readFileSync(bundle, 'utf8'), /BEGIN CERTIFICATE/, 'the other CA stays');
    for (const nss of nssDbs) {
      assert.doesNotMatch(tool('certutil', ['-L', '-d', nss]).stdout, /Example CA/);
      assert.doesNotMatch(tool('certutil', ['-V', '-d', nss, '-n', 'web', '-u', 'V']).stdout, /certificate is valid/);
    }
    assert.notEqual(tool('keytool', ['-list', '-keystore', keystore, '-storepass', STOREPASS, '-alias', 'certified-example-ca']).status, 0);
    assert.equal(tool('keytool', ['-list', '-keystore', keystore, '-storepass', STOREPASS, '-alias', 'other']).status, 0);

    const twice = await run([...args, '--uninstall'], { cwd, env });
    assert.equal(twice.code, 0, twice.stderr);
    assert.equal(twice.stderr.match(/: not there\./g)?.length, 4, twice.stderr);
    assert.match(twice.stderr, /Nothing changed: "Example CA" was not in any store\./);
  });

  it('places the anchor for RHEL/Fedora and says to run update-ca-trust inside another root', async () => {
    const root = tempDir('certified-rhel-');
    mkdirSync(join(root, 'etc/pki/ca-trust/source/anchors'), { recursive: true });
    const anchor = join(root, 'etc/pki/ca-trust/source/anchors/certified-example-ca.pem');
    const added = await run(['trust', '--system', '--root', root], { cwd });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, /: installed \(run update-ca-trust inside ".*" to rebuild its bundle\)\./);
    assert.equal(openssl(['x509', '-in', anchor, '-noout', '-subject']).stdout.trim(), 'subject=C = US, O = Example, CN = Example CA');
    const removed = await run(['trust', '--system', '--root', root, '--uninstall'], { cwd });
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(existsSync(anchor), false);
  });

  it('prints the exact command on macOS and Windows and changes nothing', async () => {
    for (const [platform, expected] of [
      ['darwin', /^sudo security add-trusted-cert -d -r trustRoot -k \/Library\/Keychains\/System\.keychain ".*\/etc\/ssl\/certs\/root-ca\.crt"\n$/],
      ['win32', /^certutil -addstore -f Root ".*\/etc\/ssl\/certs\/root-ca\.crt"\n$/],
    ] as const) {
      const result = await run(['trust', '--system'], { cwd, env: { CERTIFIED_TRUST_PLATFORM: platform } });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, expected);
      assert.match(result.stderr, /certified does not change the system store itself; run this to trust "Example CA":/);
    }
  });

  it("gives keytool the keystore password in a file it removes, never in keytool's arguments", async () => {
    const password = 'Distinct-Storepass-4711';
    const store = join(tempDir('certified-keystore-'), 'store.p12');
    const other = debianRoot();
    const made = tool('keytool', ['-importcert', '-noprompt', '-alias', 'other', '-file', join(other, 'usr/local/share/ca-certificates/other.crt'), '-keystore', store, '-storetype', 'PKCS12', '-storepass', password]);
    assert.equal(made.status, 0, made.stdout + made.stderr);
    // A keytool first on the PATH that writes down its arguments, then runs the real one.
    const bin = tempDir('certified-bin-');
    const log = join(bin, 'argv.log');
    const real = tool('sh', ['-c', 'command -v keytool']).stdout.trim();
    writeFileSync(join(bin, 'keytool'), `#!/bin/sh\nprintf '%s\\n' "$@" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const result = await run(['trust', '--java', '--java-keystore', store], { cwd, env: { HOME: home, PATH: `${bin}:${process.env.PATH}`, CERTIFIED_JAVA_STOREPASS: password } });
    assert.equal(result.code, 0, result.stderr);
    const argv = readFileSync(log, 'utf8').split('\n');
    assert.ok(argv.includes('-importcert'), 'keytool ran through the wrapper');
    assert.ok(!argv.some((arg) => arg.includes(password)), argv.join(' '));
    const passwordFiles = argv.filter((_, index) => argv[index - 1] === '-storepass:file');
    assert.ok(passwordFiles.length >= 2, argv.join(' '));
    for (const file of passwordFiles) assert.equal(existsSync(file), false, `${file} is removed`);
    assert.ok(!result.stderr.includes(password));
    const listed = tool('keytool', ['-list', '-keystore', store, '-storepass', password, '-alias', 'certified-example-ca']);
    assert.equal(listed.status, 0, listed.stdout + listed.stderr);
  });

  it('refuses a store that is not there, with the reason, and without a CA', async () => {
    const empty = tempDir('certified-empty-');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['trust', '--system', '--root', empty], {}, /^certified: no system trust store under ".*"\. Only Debian\/Ubuntu/],
      [['trust', '--nss'], { HOME: empty }, /^certified: no NSS database under ".*" \(~\/\.pki\/nssdb or a Firefox profile\)\. Start Chrome or Firefox once, or make one with: certutil -N/],
      [['trust', '--java', '--java-keystore', keystore], { HOME: home, CERTIFIED_JAVA_STOREPASS: 'wrong' }, /^certified: "keytool -importcert .* -storepass:file '<password-file>'" failed: .*\. Check the keystore password/],
      [['trust', '--system', '--root', debianRoot(), '--db', empty], {}, /^certified: there is no CA in/],
    ];
    for (const [args, env, message] of cases) {
      const result = await run(args, { cwd, env });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    assert.deepEqual(tool('ls', ['-A', empty]).stdout, '');
  });
});

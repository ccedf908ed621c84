import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, createSecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { commitCount, freshCa, git, openssl, run, snapshot, tempDir, tool } from '../helpers/cli.js';

const P12_PASSWORD = 'p12 password for tests';
const KEY_PASSWORD = 'key password for tests';

/** A TLS server on loopback from the .p12 alone; a client that trusts only the root connects. */
async function handshake(p12: Buffer, rootPem: string, servername: string): Promise<{ authorized: boolean; error?: string; peer: string }> {
  const server = createServer({ pfx: p12, passphrase: P12_PASSWORD }, (socket) => socket.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername, ca: rootPem, rejectUnauthorized: false }, () => {
        const error = socket.authorizationError;
        resolve({ authorized: socket.authorized, ...(error ? { error: String(error) } : {}), peer: socket.getPeerCertificate().subject?.CN as string });
        socket.end();
      });
      socket.on('error', reject);
    });
  } finally {
    server.close();
  }
}

describe('certified export NAME --p12', () => {
  let cwd: string;
  let db: string;
  let rootPem: string;
  before(async () => {
    ({ cwd, db } = await freshCa());
    rootPem = readFileSync(join(db, 'certs/root-ca.crt'), 'utf8');
    assert.equal((await run(['CN=web.example.com'], { cwd })).code, 0);
    const rsa = await run(['--bits', '2048', 'CN=rsa.example.com', '--password', KEY_PASSWORD], { cwd });
    assert.equal(rsa.code, 0, rsa.stderr);
  });

  for (const [name, keyType, extra] of [
    ['web.example.com', 'ec', []],
    ['rsa.example.com', 'rsa', ['--password', KEY_PASSWORD]],
  ] as const) {
    it(`exports ${keyType === 'ec' ? 'an ECDSA' : 'an encrypted RSA'} key with its chain that OpenSSL 3, keytool, NSS and Node read`, async () => {
      const commits = commitCount(db);
      const result = await run(['export', name, '--p12', '--p12-password', P12_PASSWORD, ...extra], { cwd });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`Exported "${name}" with its key and 1 issuing CA certificate to "${name}\\.p12"`));
      assert.doesNotMatch(result.stdout + result.stderr, new RegExp(P12_PASSWORD));
      const file = join(cwd, `${name}.p12`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(commitCount(db), commits, 'an export makes no commit');

      // OpenSSL 3 without -legacy: modern algorithms, MAC checked, key matches the certificate.
      const info = openssl(['pkcs12', '-info', '-nokeys', '-in', file, '-passin', `pass:${P12_PASSWORD}`]);
      assert.equal(info.status, 0, info.stderr);
      assert.match(info.stderr, /MAC: sha256, Iteration \d+/);
      assert.match(info.stderr, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
      assert.match(info.stderr, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
      assert.match(info.stdout, new RegExp(`friendlyName: ${name.replace(/\./g, '\\.')}`));
      assert.match(info.stdout, /subject=C = US, O = Example, CN = Example CA Intermediate/);
      const wrong = openssl(['pkcs12', '-info', '-nokeys', '-in', file, '-passin', 'pass:not the password']);
      assert.notEqual(wrong.status, 0, 'a wrong password must fail the MAC');
      const keyPem = openssl(['pkcs12', '-in', file, '-nocerts', '-nodes', '-passin', `pass:${P12_PASSWORD}`]).stdout;
      const keyPub = tool('openssl', ['pkey', '-pubout'], { input: keyPem }).stdout;
      const certPub = openssl(['x509', '-in', join(db, `certs/${name}.crt`), '-noout', '-pubkey']).stdout;
      assert.ok(keyPub.includes('PUBLIC KEY'), 'openssl extracts the key');
      assert.equal(keyPub, certPub);

      // Java keytool: one private key entry with its chain of two.
      const keytool = tool('keytool', ['-list', '-v', '-storetype', 'PKCS12', '-keystore', file, '-storepass', P12_PASSWORD]);
      assert.equal(keytool.status, 0, keytool.stdout + keytool.stderr);
      assert.match(keytool.stdout, new RegExp(`Alias name: ${name.replace(/\./g, '\\.')}`));
      assert.match(keytool.stdout, /Entry type: PrivateKeyEntry/);
      assert.match(keytool.stdout, /Certificate chain length: 2/);

      // NSS (Firefox, Chrome on Linux): pk12util imports key and certificates into a fresh database.
      const nss = join(tempDir(), 'nssdb');
      mkdirSync(nss);
      assert.equal(tool('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']).status, 0);
      const imported = tool('pk12util', ['-i', file, '-d', `sql:${nss}`, '-W', P12_PASSWORD]);
      assert.equal(imported.status, 0, imported.stdout + imported.stderr);
      assert.match(imported.stdout, /PKCS12 IMPORT SUCCESSFUL/);
      const keys = tool('certutil', ['-K', '-d', `sql:${nss}`]);
      assert.match(keys.stdout, new RegExp(`${keyType}\\s+[0-9a-f]{40}\\s+${name.replace(/\./g, '\\.')}`));

      // Node: the .p12 alone as a TLS server's pfx, verified by a client that trusts only the root.
      assert.throws(() => createSecureContext({ pfx: readFileSync(file), passphrase: 'not the password' }));
      const tls = await handshake(readFileSync(file), rootPem, name);
      assert.equal(tls.error, undefined);
      assert.equal(tls.authorized, true);
      assert.equal(tls.peer, name);
    });
  }

  it('takes the password from stdin, the environment and --out', async () => {
    const fromStdin = await run(['export', 'web.example.com', '--p12', '--p12-password', '-', '--out', 'stdin.p12'], { cwd, input: `${P12_PASSWORD}\n` });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const fromEnv = await run(['export', 'web.example.com', '--p12', '--out', join(cwd, 'env.p12')], { cwd, env: { CERTIFIED_P12_PASSWORD: P12_PASSWORD } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    for (const file of ['stdin.p12', 'env.p12']) {
      assert.equal(openssl(['pkcs12', '-info', '-nokeys', '-in', join(cwd, file), '-passin', `pass:${P12_PASSWORD}`]).status, 0);
    }
  });

  it('names an unknown certificate and how to list them, before asking for any password', async () => {
    const before = snapshot(cwd);
    for (const extra of [[], ['--password', '-', '--p12-password', '-']]) {
      const result = await run(['export', 'nobody', '--p12', ...extra], { cwd, input: `${KEY_PASSWORD}\n${P12_PASSWORD}\n` });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, `certified: there is no certificate "nobody" in "${db}". Run "certified ls" to list the certificates and their names.\n`);
    }
    assert.deepEqual(snapshot(cwd), before);
  });

  it('reads "-" passwords from stdin one line each, in the order of the flags', async () => {
    for (const [flags, input, out] of [
      [['--p12-password', '-', '--password', '-'], `${P12_PASSWORD}\n${KEY_PASSWORD}\n`, 'p12-first.p12'],
      [['--password', '-', '--p12-password', '-'], `${KEY_PASSWORD}\n${P12_PASSWORD}\n`, 'key-first.p12'],
      [['--p12-password=-', '--password=-'], `${P12_PASSWORD}\n${KEY_PASSWORD}\n`, 'equals.p12'],
    ] as const) {
      const result = await run(['export', 'rsa.example.com', '--p12', ...flags, '--out', out], { cwd, input });
      assert.equal(result.code, 0, `${flags.join(' ')}: ${result.stderr}`);
      const file = join(cwd, out);
      assert.equal(openssl(['pkcs12', '-info', '-nokeys', '-in', file, '-passin', `pass:${P12_PASSWORD}`]).status, 0, `${out} opens with the .p12 password`);
      assert.notEqual(openssl(['pkcs12', '-info', '-nokeys', '-in', file, '-passin', `pass:${KEY_PASSWORD}`]).status, 0, `${out} does not open with the key password`);
      const keyPub = tool('openssl', ['pkey', '-pubout'], { input: openssl(['pkcs12', '-in', file, '-nocerts', '-nodes', '-passin', `pass:${P12_PASSWORD}`]).stdout }).stdout;
      assert.equal(keyPub, openssl(['x509', '-in', join(db, 'certs/rsa.example.com.crt'), '-noout', '-pubkey']).stdout, 'the key opened with the key password is in it');
    }
  });

  it('refuses without a password, inside the CA, over an existing file, for an unknown name or a wrong key password', async () => {
    writeFileSync(join(cwd, 'taken.p12'), 'mine');
    const before = snapshot(db);
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [['export', 'web.example.com', '--p12', '--out', 'none.p12'], /certified: the file ".*none\.p12" needs a password and none was given\. Pass --p12-password - .* or set CERTIFIED_P12_PASSWORD\./],
      [['export', 'web.example.com', '--p12', '--p12-password', 'short', '--out', 'none.p12'], /too short/],
      [['export', 'web.example.com', '--p12', '--p12-password', P12_PASSWORD, '--out', 'etc/ssl/private/web.p12'], /is inside the CA directory\. A \.p12 file must never be committed/],
      [['export', 'web.example.com', '--p12', '--p12-password', P12_PASSWORD, '--out', 'taken.p12'], /"[^"]*taken\.p12" already exists\. Nothing was written/],
      [['export', 'nobody', '--p12', '--p12-password', P12_PASSWORD, '--out', 'none.p12'], /there is no certificate "nobody"/],
      [['export', '../x', '--p12', '--p12-password', P12_PASSWORD, '--out', 'none.p12'], /cannot be used as a file name/],
      [['export', 'rsa.example.com', '--p12', '--p12-password', P12_PASSWORD, '--out', 'none.p12'], /the key of "rsa\.example\.com" needs a password/],
      [['export', 'rsa.example.com', '--p12', '--p12-password', P12_PASSWORD, '--password', 'wrong password', '--out', 'none.p12'], /the password for "private\/rsa\.example\.com\.key" is wrong/],
      [['export', 'web.example.com', '--p12-password', P12_PASSWORD, '--out', 'none.p12'], /say which format to export\. Use --p12/],
    ];
    for (const [args, message, env] of cases) {
      const result = await run(args, { cwd, ...(env ? { env } : {}) });
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, new RegExp(P12_PASSWORD));
    }
    assert.equal(existsSync(join(cwd, 'none.p12')), false);
    assert.equal(existsSync(join(db, 'private/web.p12')), false);
    assert.equal(readFileSync(join(cwd, 'taken.p12'), 'utf8'), 'mine');
    assert.deepEqual(snapshot(db), before);
    assert.doesNotMatch(git(db, ['log', '-p']), new RegExp(P12_PASSWORD));
  });
});

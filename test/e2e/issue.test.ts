import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, freshCa, git, makeCa, openssl, readText, run, snapshot, tempDir, tool } from '../helpers/cli.js';

function verifyLeaf(db: string, name: string, purpose?: string) {
  const args = ['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/ca.crt')];
  if (purpose) args.push('-purpose', purpose);
  return openssl([...args, join(db, `certs/${name}.crt`)]);
}

function text(db: string, name: string): string {
  return openssl(['x509', '-in', join(db, `certs/${name}.crt`), '-noout', '-text']).stdout;
}

describe('certified CN=.. (issue)', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa(['--crl-url', 'http://pki.example.com/ca.crl', '--ocsp-url', 'http://ocsp.example.com'])));

  it('issues an ECDSA P-256 certificate for server and client use with every kind of SAN', async () => {
    const result = await run(
      ['CN=host.example.com', '+alt.example.com', '+*.apps.example.com', '+10.0.0.1', '+2001:db8::1', '+alice@example.com', '+URI:spiffe://example.org/svc', '+bücher.example'],
      { cwd },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, readText(join(db, 'certs/host.example.com.chain.crt')));
    assert.equal(result.stdout, readText(join(db, 'certs/host.example.com.crt')) + readText(join(db, 'certs/ca.crt')));
    assert.match(result.stderr, /The certificate is at "etc\/ssl\/certs\/host\.example\.com\.crt", the chain at "etc\/ssl\/certs\/host\.example\.com\.chain\.crt" and the key at "etc\/ssl\/private\/host\.example\.com\.key"\./);
    assert.match(result.stderr, /It will expire on \d{1,2} \w+ \d{4}\./);

    const verify = verifyLeaf(db, 'host.example.com', 'sslserver');
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verifyLeaf(db, 'host.example.com', 'sslclient').status, 0);
    const cert = text(db, 'host.example.com');
    assert.match(cert, /Subject: C = US, O = Example, CN = host\.example\.com\n/);
    assert.match(cert, /NIST CURVE: P-256/);
    assert.match(cert, /Basic Constraints: critical\n\s*CA:FALSE\n/);
    assert.match(cert, /Key Usage: critical\n\s*Digital Signature\n/);
    // The e-mail address brings emailProtection (S/MIME) along with clientAuth, as with mkcert.
    assert.match(cert, /Extended Key Usage: \n\s*TLS Web Server Authentication, TLS Web Client Authentication, E-mail Protection\n/);
    assert.match(
      cert,
      /DNS:host\.example\.com, DNS:alt\.example\.com, DNS:\*\.apps\.example\.com, IP Address:10\.0\.0\.1, IP Address:2001:DB8:0:0:0:0:0:1, email:alice@example\.com, URI:spiffe:\/\/example\.org\/svc, DNS:xn--bcher-kva\.example\n/,
    );
    assert.match(cert, /CRL Distribution Points:[\s\S]*URI:http:\/\/pki\.example\.com\/ca\.crl/);
    assert.match(cert, /OCSP - URI:http:\/\/ocsp\.example\.com/);
    assert.match(cert, /Subject Key Identifier/);
    assert.match(cert, /Authority Key Identifier/);
    assert.match(cert, /Serial Number:\s*\n?\s*([0-9a-f]{2}:){15}[0-9a-f]{2}/);

    const serial = openssl(['x509', '-in', join(db, 'certs/host.example.com.crt'), '-noout', '-serial']).stdout.trim().split('=')[1]!.toLowerCase();
    const record = JSON.parse(readText(join(db, `records/ca/${serial.replace(/^(00)+/, '')}.json`)));
    assert.equal(record.name, 'host.example.com');
    assert.equal(record.status, 'valid');
    assert.equal(record.profile, 'server+client');
    assert.equal(statSync(join(db, 'private/host.example.com.key')).mode & 0o777, 0o600);
    const csr = openssl(['req', '-in', join(db, 'csr/host.example.com.csr'), '-noout', '-verify', '-text']);
    assert.equal(csr.status, 0, csr.stderr);
    assert.match(csr.stdout, /DNS:alt\.example\.com/);
    assert.match(git(db, ['log', '-1', '--format=%s']).trim(), /^Issue host\.example\.com \(server\+client, ECDSA P-256, expires \d{4}-\d{2}-\d{2}\)$/);
    const body = git(db, ['log', '-1', '--format=%B']);
    assert.match(body, /\$ certified CN=host\.example\.com \+alt\.example\.com/);
    assert.match(body, /SHA-256: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    assert.match(body, /Certified-Serial: [0-9a-f]+/);
    assert.deepEqual(git(db, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort(), [
      'certs/host.example.com.chain.crt',
      'certs/host.example.com.crt',
      'csr/host.example.com.csr',
      `records/ca/${record.serial}.json`,
    ]);
  });

  it('issues RSA with --bits, server-only with --server and client-only with --client', async () => {
    for (const [flags, name, keyUsage, eku] of [
      [['--server', '--bits', '2048'], 'rsa-server', 'Digital Signature, Key Encipherment', 'TLS Web Server Authentication\n'],
      [['--client', '--key-type', 'rsa'], 'rsa-client', 'Digital Signature, Key Encipherment', 'TLS Web Client Authentication\n'],
      [['--client'], 'ec-client', 'Digital Signature\n', 'TLS Web Client Authentication\n'],
    ] as const) {
      const result = await run([...flags, '--name', name, `CN=${name}.example.com`], { cwd });
      assert.equal(result.code, 0, result.stderr);
      const verify = verifyLeaf(db, name, flags[0] === '--server' ? 'sslserver' : 'sslclient');
      assert.equal(verify.status, 0, verify.stderr);
      const cert = text(db, name);
      assert.ok(cert.includes(`Key Usage: critical\n                ${keyUsage}`), cert);
      assert.ok(cert.includes(`Extended Key Usage: \n                ${eku}`), cert);
      if (flags.includes('--bits' as never) || flags.includes('rsa' as never)) assert.match(cert, /Public-Key: \(2048 bit\)/);
    }
    assert.notEqual(verifyLeaf(db, 'rsa-server', 'sslclient').status, 0, 'a server-only certificate is no client certificate');
  });

  it('derives the name from the CN, takes the DN defaults from the CA, and an IP CN becomes an IP SAN', async () => {
    const result = await run(['O=Other Org', 'CN=Build Server', '+build.example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(join(db, 'certs/build-server.crt')));
    assert.match(text(db, 'build-server'), /Subject: C = US, O = Other Org, CN = Build Server\n/);
    const ip = await run(['CN=10.1.2.3'], { cwd });
    assert.equal(ip.code, 0, ip.stderr);
    assert.match(text(db, '10.1.2.3'), /X509v3 Subject Alternative Name: \n\s*IP Address:10\.1\.2\.3\n/);
  });

  it('refuses a name that exists, with the fix, and changes nothing', async () => {
    await run(['CN=dup.example.com'], { cwd });
    const before = snapshot(cwd);
    const again = await run(['CN=dup.example.com'], { cwd });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^certified: the name "dup\.example\.com" is already taken by "certs\/dup\.example\.com\.crt"\. Revoke it first/);
    assert.deepEqual(snapshot(cwd), before);
  });

  it('keeps leaf validity inside the issuer and warns about long server certificates', async () => {
    const result = await run(['--days', '900', 'CN=long.example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Warning: Apple platforms reject TLS server certificates valid for more than 825 days/);
    const capped = await run(['--days', '36500', 'CN=capped.example.com'], { cwd });
    assert.equal(capped.code, 0, capped.stderr);
    const caEnd = openssl(['x509', '-in', join(db, 'certs/ca.crt'), '-noout', '-enddate']).stdout;
    assert.equal(openssl(['x509', '-in', join(db, 'certs/capped.example.com.crt'), '-noout', '-enddate']).stdout, caEnd);
  });

  it('encrypts the leaf key with --password and then commits it', async () => {
    const result = await run(['--password', '-', 'CN=secret.example.com'], { cwd, input: 'leaf key secret\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(git(db, ['ls-files', 'private']), /private\/secret\.example\.com\.key/);
    assert.equal(openssl(['pkey', '-in', join(db, 'private/secret.example.com.key'), '-noout', '-passin', 'pass:leaf key secret']).status, 0);
    assert.doesNotMatch(git(db, ['log', '-p']), /leaf key secret|BEGIN (RSA |EC )?PRIVATE KEY/);
  });

  it('serializes parallel runs: every one succeeds with its own serial and its own commit', async () => {
    const count = commitCount(db);
    const results = await Promise.all([1, 2, 3, 4].map((i) => run([`CN=parallel-${i}.example.com`], { cwd })));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.equal(commitCount(db), count + 4);
    const serials = new Set(
      [1, 2, 3, 4].map((i) => openssl(['x509', '-in', join(db, `certs/parallel-${i}.example.com.crt`), '-noout', '-serial']).stdout),
    );
    assert.equal(serials.size, 4);
    assert.equal(git(db, ['status', '--porcelain']).trim(), '');
  });
});

describe('issuing with an encrypted intermediate', () => {
  it('needs the CA password: at once without a TTY, refused when wrong, accepted from the environment', async () => {
    const cwd = tempDir();
    await makeCa(cwd, ['--intermediate-password', 'intermediate secret']);
    const before = snapshot(cwd);
    const missing = await run(['CN=a.example.com'], { cwd, silentStdin: true, timeoutMs: 10_000 });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'certified: the intermediate key needs a password and none was given. Pass --ca-password - (one line on stdin) or set CERTIFIED_CA_PASSWORD.\n');
    const wrong = await run(['--ca-password', 'not it at all', 'CN=a.example.com'], { cwd });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^certified: the password for "private\/ca\.key" is wrong\. Nothing was changed/);
    assert.doesNotMatch(wrong.stderr, /not it at all/);
    assert.deepEqual(snapshot(cwd), before);
    const ok = await run(['CN=a.example.com'], { cwd, env: { CERTIFIED_CA_PASSWORD: 'intermediate secret' } });
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('git identity', () => {
  it('commits as certified <certified@localhost> when none is configured', async () => {
    const cwd = tempDir();
    const home = tempDir();
    const env = { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(home, 'none'), CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD, GIT_AUTHOR_NAME: undefined, GIT_AUTHOR_EMAIL: undefined, GIT_COMMITTER_NAME: undefined, GIT_COMMITTER_EMAIL: undefined, EMAIL: undefined };
    const result = await run(['--ca', 'CN=Example CA'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    const author = tool('git', ['-C', join(cwd, 'etc/ssl'), 'log', '-1', '--format=%an <%ae>']).stdout.trim();
    assert.equal(author, 'certified <certified@localhost>');
  });
});

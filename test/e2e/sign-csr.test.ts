import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, freshCa, git, openssl, readText, run, snapshot, tempDir } from '../helpers/cli.js';
import { assertRefused } from '../helpers/lifecycle.js';
import { committedFiles, publicKey, serialOf, verifyChain, x509Text } from '../helpers/judge.js';

describe('certified --csr FILE', () => {
  let cwd: string;
  let db: string;
  let work: string;
  before(async () => {
    ({ cwd, db } = await freshCa());
    work = tempDir();
  });

  /** A CSR made by OpenSSL, as a server that keeps its key would make it. */
  function opensslCsr(name: string, newkey: string[], subject: string, sans?: string, der = false): string {
    const out = join(work, `${name}.${der ? 'der' : 'csr'}`);
    const args = ['req', '-new', ...newkey, '-nodes', '-keyout', join(work, `${name}.key`), '-subj', subject, '-out', out];
    if (sans) args.push('-addext', `subjectAltName=${sans}`);
    if (der) args.push('-outform', 'DER');
    const result = openssl(args);
    assert.equal(result.status, 0, result.stderr);
    return out;
  }

  it('finds --issuer by CN as issuing does: a sub-CA named "Team CSR CA" signs the CSR', async () => {
    const made = await run(['--ca', '--issuer', 'ca', 'CN=Team CSR CA'], { cwd });
    assert.equal(made.code, 0, made.stderr);
    const file = opensslCsr('team', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=team-api.example.com', 'DNS:team-api.example.com');
    const result = await run(['--csr', file, '--issuer', 'Team CSR CA'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const crt = join(db, 'certs/team-api.example.com.crt');
    assert.match(x509Text(crt), /Issuer: .*CN ?= ?Team CSR CA\n/);
    assert.equal(JSON.parse(readText(join(db, `records/team-csr-ca/${serialOf(crt)}.json`))).issuer, 'team-csr-ca');
    const issued = await run(['--issuer', 'Team CSR CA', 'CN=team-web.example.com'], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(x509Text(join(db, 'certs/team-web.example.com.crt')), /Issuer: .*CN ?= ?Team CSR CA\n/);
    const unknown = await run(['--csr', file, '--name', 'other', '--issuer', 'Nobody CA'], { cwd });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^certified: there is no CA "Nobody CA" in ".*"\. Give --issuer the file name or CN of a CA: .*"team-csr-ca"/);
  });

  it('signs an ECDSA CSR: the chain verifies, the SANs are kept, no key file, one commit', async () => {
    const file = opensslCsr('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=api.example.com', 'DNS:api.example.com,DNS:API2.example.com,IP:10.1.1.1');
    const commits = commitCount(db);
    const result = await run(['--csr', file, '--days', '30', '--server'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const crt = join(db, 'certs/api.example.com.crt');
    assert.equal(result.stdout, readText(join(db, 'certs/api.example.com.chain.crt')));
    assert.match(result.stderr, /the key stays with whoever made the CSR/);
    const verify = verifyChain(db, crt, 'sslserver');
    assert.equal(verify.status, 0, verify.stderr);
    const text = x509Text(crt);
    assert.match(text, /Subject: C = US, O = Example, CN = api\.example\.com\n/);
    assert.match(text, /DNS:api\.example\.com, DNS:api2\.example\.com, IP Address:10\.1\.1\.1\n/);
    assert.match(text, /Extended Key Usage: \n\s*TLS Web Server Authentication\n/);
    assert.equal(publicKey('x509', crt), publicKey('pkey', join(work, 'ec.key')));
    assert.ok(!existsSync(join(db, 'private/api.example.com.key')));
    assert.equal(commitCount(db), commits + 1);
    assert.match(git(db, ['log', '-1', '--format=%s']).trim(), /^Sign the CSR of api\.example\.com \(server, ECDSA P-256, expires \d{4}-\d{2}-\d{2}\)$/);
    const serial = serialOf(crt);
    assert.deepEqual(committedFiles(db), [
      'certs/api.example.com.chain.crt',
      'certs/api.example.com.crt',
      'csr/api.example.com.csr',
      `records/ca/${serial}.json`,
    ]);
    assert.equal(openssl(['req', '-in', join(db, 'csr/api.example.com.csr'), '-noout', '-verify']).status, 0);
  });

  it('signs an RSA CSR in DER for a client, under --name', async () => {
    const file = opensslCsr('rsa', ['-newkey', 'rsa:2048'], '/CN=Bob Client', 'email:bob@example.com', true);
    const result = await run(['--csr', file, '--client', '--name', 'bob'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const crt = join(db, 'certs/bob.crt');
    assert.equal(verifyChain(db, crt, 'sslclient').status, 0);
    const text = x509Text(crt);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Key Usage: critical\n\s*Digital Signature, Key Encipherment\n/);
    // An e-mail address on a client certificate brings emailProtection (S/MIME), as with mkcert.
    assert.match(text, /Extended Key Usage: \n\s*TLS Web Client Authentication, E-mail Protection\n/);
    assert.match(text, /email:bob@example\.com\n/);
    assert.equal(publicKey('x509', crt), publicKey('pkey', join(work, 'rsa.key')));
  });

  it('refuses to have the root sign a CSR (the root signs only CAs): exit 1, one line, no file, no commit', async () => {
    const file = opensslCsr('to-root', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=rooted.example.com', 'DNS:rooted.example.com');
    const result = await assertRefused(['--csr', file, '--issuer', 'root-ca', '--ca-password', '-'], { cwd, input: `${ROOT_PASSWORD}\n` }, 1, /^certified: the root signs only CAs\. /);
    assert.match(result.stderr, /Issue it from the intermediate "ca" \(the default issuer\) or from a sub-CA\.\n$/);
    assert.ok(!existsSync(join(db, 'certs/rooted.example.com.crt')));
  });

  it('refuses a tampered signature, truncated or foreign input and bad names with one line, no file and no commit', async () => {
    const good = opensslCsr('good', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=good.example.com', undefined, true);
    const tampered = join(work, 'tampered.der');
    const bytes = readFileSync(good);
    bytes[bytes.length - 3]! ^= 0x01; // inside the signature's BIT STRING
    writeFileSync(tampered, bytes);
    const pem = readText(opensslCsr('whole', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=whole.example.com'));
    const truncated = join(work, 'truncated.csr');
    writeFileSync(truncated, pem.slice(0, Math.floor(pem.length / 2)));
    const cutInside = join(work, 'cut-inside.csr');
    const lines = pem.split('\n');
    writeFileSync(cutInside, [...lines.slice(0, 3), ...lines.slice(-2)].join('\n'));
    const certificate = join(db, 'certs/ca.crt');
    const badSan = opensslCsr('badsan', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=ok.example.com', 'DNS:bad..name.example.com');
    const wildcard = opensslCsr('wild', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=ok2.example.com', 'DNS:*.*.example.com');
    const badCn = opensslCsr('badcn', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=..\\/..\\/etc');
    const weak = opensslCsr('weak', ['-newkey', 'rsa:1024'], '/CN=weak.example.com');

    const unchanged = snapshot(cwd);
    const cases: [string[], RegExp][] = [
      [['--csr', tampered], /is not a usable certificate signing request: its signature does not match its key/],
      [['--csr', truncated], /is not a usable certificate signing request: no complete "CERTIFICATE REQUEST" PEM block/],
      [['--csr', cutInside], /is not a usable certificate signing request: it cannot be decoded as PKCS#10/],
      [['--csr', certificate], /is not a usable certificate signing request: no complete "CERTIFICATE REQUEST" PEM block/],
      [['--csr', join(work, 'good.key')], /is not a usable certificate signing request/],
      [['--csr', badSan], /the CSR is refused: "bad\.\.name\.example\.com" is not a valid DNS name/],
      [['--csr', wildcard], /the CSR is refused: "\*\.\*\.example\.com" is not a valid wildcard/],
      [['--csr', badCn], /the CSR is refused: cannot derive a file name from CN/],
      [['--csr', weak], /the CSR's key is RSA 1024, below the minimum of 2048 bits/],
      [['--csr', good, '--name', 'ca'], /the name "ca" is reserved for the CA's own certificates/],
      [['--csr', join(work, 'missing.csr')], /cannot read the CSR ".*missing\.csr": no such file/],
      [['--csr', good, 'CN=other.example.com'], /the subject and names come from the CSR/],
      [['--csr', good, '--bits', '4096'], /^certified: unknown option '--bits' for "sign"\. Run "certified sign --help" for usage\.\n$/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args, { cwd });
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, /^certified: /);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /DEBUG=certified/, 'an expected error, not a crash');
      assert.deepEqual(snapshot(cwd), unchanged, args.join(' '));
    }
    // OpenSSL agrees that the tampered one is bad and the original good.
    // (openssl req -verify exits 0 either way: read what it says.)
    const verdict = (file: string) => {
      const result = openssl(['req', '-inform', 'DER', '-in', file, '-noout', '-verify']);
      return result.stdout + result.stderr;
    };
    assert.match(verdict(tampered), /verify failure/);
    assert.match(verdict(good), /verify OK/);
  });
});

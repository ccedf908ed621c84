import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createCrl } from '../../src/pki/crl.js';
import { importPrivateKey } from '../../src/pki/keys.js';
import { REPO, ROOT_PASSWORD, commitCount, freshCa, git, makeCa, openssl, readText, run, snapshot, tempDir, tool } from '../helpers/cli.js';

const IDENTITY = ['-c', 'user.name=Reviewer', '-c', 'user.email=reviewer@example.com'];

function opensslField(file: string, flag: string): string {
  const result = openssl(['x509', '-in', file, '-noout', flag]);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim().split('=').slice(1).join('=');
}

function serialOf(file: string): string {
  return opensslField(file, '-serial').toLowerCase().replace(/^(00)+/, '');
}

describe('review: show, git diffs, trailers, log, dry run', () => {
  let cwd: string;
  let db: string;
  before(async () => {
    ({ cwd, db } = await freshCa(['--crl-url', 'http://pki.example.com/ca.crl']));
    const issued = await run(['--server', 'CN=web.example.com', '+10.0.0.7', '+api.example.com'], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
  });

  it('shows a certificate from any directory, with the fields OpenSSL reads from it', async () => {
    const file = join(db, 'certs/web.example.com.crt');
    const elsewhere = tempDir();
    const result = await run(['show', file], { cwd: elsewhere });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const out = result.stdout;
    assert.match(out, /^Certificate:\n  Subject: +C=US, O=Example, CN=web\.example\.com\n  Issuer: +C=US, O=Example, CN=Example CA Intermediate\n/);
    assert.match(out, new RegExp(`\\n  Serial: +${serialOf(file)}\\n`));
    const sha256 = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1];
    assert.ok(out.includes(`  SHA-256 fingerprint:  ${sha256}\n`), out);
    assert.match(out, /\n  Key: +ECDSA P-256\n/);
    assert.match(out, /\n  Basic constraints: +critical, CA:FALSE\n/);
    assert.match(out, /\n  Key usage: +critical, digitalSignature\n/);
    assert.match(out, /\n  Extended key usage: +serverAuth\n/);
    assert.match(out, /\n  SAN: +DNS:web\.example\.com\n  SAN: +IP Address:10\.0\.0\.7\n  SAN: +DNS:api\.example\.com\n/);
    assert.match(out, /\n  CRL distribution: +http:\/\/pki\.example\.com\/ca\.crl\n/);
    const notAfter = new Date(opensslField(file, '-enddate')).toISOString().replace(/\.000Z$/, 'Z');
    assert.ok(out.includes(`  Not after:            ${notAfter}\n`), out);
    const again = await run(['show', file], { cwd: elsewhere });
    assert.equal(again.stdout, out, 'the output is stable');
  });

  it('shows every block of a chain, a CSR, a CRL, DER input, a name in the CA, and JSON', async () => {
    const chain = await run(['show', join(db, 'certs/web.example.com.chain.crt')], { cwd });
    assert.equal(chain.code, 0, chain.stderr);
    assert.match(chain.stdout, /^Certificate \(1 of 2\):\n  Subject: +C=US, O=Example, CN=web\.example\.com\n[\s\S]*\n\nCertificate \(2 of 2\):\n  Subject: +C=US, O=Example, CN=Example CA Intermediate\n[\s\S]*  Basic constraints: +critical, CA:TRUE, pathlen:1\n/);
    const csr = await run(['show', 'etc/ssl/csr/web.example.com.csr'], { cwd });
    assert.match(csr.stdout, /^Certificate request:\n  Subject: +C=US, O=Example, CN=web\.example\.com\n[\s\S]*  Signature: +valid\n/);
    const crl = await run(['show', join(db, 'crl/ca.crl')], { cwd });
    assert.match(crl.stdout, /^CRL:\n  Issuer: +C=US, O=Example, CN=Example CA Intermediate\n  This update: +\S+Z\n  Next update: +\S+Z\n  CRL number: +\d+\n[\s\S]*  Revoked: +0\n/);
    const der = join(tempDir(), 'web.der');
    assert.equal(openssl(['x509', '-in', join(db, 'certs/web.example.com.crt'), '-outform', 'der', '-out', der]).status, 0);
    const fromDer = await run(['show', der], { cwd });
    const fromPem = await run(['show', 'web.example.com'], { cwd });
    assert.equal(fromPem.code, 0, fromPem.stderr);
    assert.equal(fromDer.stdout, fromPem.stdout);
    const json = await run(['show', '--json', 'web.example.com'], { cwd });
    const [view] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.equal(view?.kind, 'certificate');
    assert.equal(view?.serial, serialOf(join(db, 'certs/web.example.com.crt')));
    assert.deepEqual(view?.sans, ['DNS:web.example.com', 'IP Address:10.0.0.7', 'DNS:api.example.com']);
    assert.deepEqual(view?.extendedKeyUsage, ['serverAuth']);
    const junk = join(tempDir(), 'junk.crt');
    writeFileSync(junk, 'not a certificate\n');
    const bad = await run(['show', junk], { cwd });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^certified: ".*junk\.crt" holds no certificate, CSR or CRL found \(neither PEM nor DER\)\. Give a PEM or DER certificate, CSR or CRL\.\n$/);
    const missing = await run(['show', 'no-such-name'], { cwd });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^certified: there is no file "no-such-name" and no certificate of that name in the CA\./);
  });

  it('commits .gitattributes with the CA and sets the diff driver, so git log -p and git show decode', () => {
    assert.match(git(db, ['ls-files', '.gitattributes']), /\.gitattributes/);
    assert.equal(readText(join(db, '.gitattributes')).split('\n').filter((line) => line.includes('diff=')).join('\n'), '*.crt diff=certified\n*.csr diff=certified\n*.crl diff=certified');
    assert.equal(git(db, ['config', 'diff.certified.textconv']).trim(), join(REPO, 'bin/certified-textconv'));
    assert.equal(tool('git', ['-C', db, 'config', 'diff.certified.cachetextconv']).status, 1, 'no textconv cache: it needs a git identity');
    const log = git(db, ['log', '-p']);
    assert.match(log, /\+  Subject: +C=US, O=Example, CN=web\.example\.com\n/);
    assert.match(log, /\+  Subject: +C=US, O=Example, CN=Example CA\n/);
    assert.match(log, /\+CRL:\n/);
    assert.doesNotMatch(log, /BEGIN CERTIFICATE|BEGIN X509 CRL|BEGIN CERTIFICATE REQUEST/);
    const show = git(db, ['show', 'HEAD']);
    assert.match(show, /\+Certificate request:\n\+  Subject: +C=US, O=Example, CN=web\.example\.com\n/);
    assert.match(show, /\+  SAN: +IP Address:10\.0\.0\.7\n/);
  });

  it('certified git-setup sets up a fresh clone, where git diff needs it', async () => {
    const clone = join(tempDir(), 'clone');
    git(cwd, ['clone', '-q', db, clone]);
    assert.match(git(clone, ['log', '-p', '-1']), /BEGIN CERTIFICATE/, 'a clone has no diff driver until set up');
    const commits = commitCount(clone);
    const setup = await run(['git-setup', '--db', clone], { cwd });
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stderr, /run "certified git-setup" once in every clone/);
    assert.equal(commitCount(clone), commits, '.gitattributes was already committed');
    assert.match(git(clone, ['log', '-p', '-1']), /\+  Subject: +C=US, O=Example, CN=web\.example\.com\n/);
  });

  it('writes trailers that git interpret-trailers parses, and certified log reads them back', async () => {
    const parse = (rev: string) => tool('git', ['interpret-trailers', '--parse'], { input: git(db, ['log', '-1', '--format=%B', rev]) }).stdout;
    const serial = serialOf(join(db, 'certs/web.example.com.crt'));
    const fingerprint = openssl(['x509', '-in', join(db, 'certs/web.example.com.crt'), '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1];
    assert.equal(parse('HEAD'), `Certified-Action: issue\nCertified-Name: web.example.com\nCertified-Issuer: ca\nCertified-Serial: ${serial}\nCertified-Fingerprint: ${fingerprint}\n`);
    const caSerial = serialOf(join(db, 'certs/ca.crt'));
    assert.match(parse('HEAD~1'), new RegExp(`^Certified-Action: init-ca\\nCertified-Name: ca\\nCertified-Serial: ${caSerial}\\n`));

    const json = await run(['log', '--json'], { cwd });
    assert.equal(json.code, 0, json.stderr);
    const entries = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(entries.map((entry) => [entry.action, entry.name, entry.serial]), [
      ['issue', 'web.example.com', serial],
      ['init-ca', 'ca', caSerial],
    ]);
    assert.equal(entries[0]?.fingerprint, fingerprint);
    assert.equal(entries[0]?.commit, git(db, ['rev-parse', 'HEAD']).trim());
    assert.equal((entries[1]?.trailers as Record<string, string>)['Certified-Root-Serial'], serialOf(join(db, 'certs/root-ca.crt')));

    const text = await run(['log'], { cwd });
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^DATE +ACTION +NAME +SERIAL +AUTHOR +COMMIT$/);
    const short = git(db, ['rev-parse', '--short', 'HEAD']).trim();
    assert.match(lines[1] ?? '', new RegExp(`^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}  issue +web\\.example\\.com  ${serial}  .+  ${short}$`));
    assert.equal(lines.length, 3);
  });

  it('--dry-run prints the certificate that would be made and writes nothing', async () => {
    const before = snapshot(cwd);
    const dry = await run(['--dry-run', '--client', 'CN=dry.example.com'], { cwd });
    assert.equal(dry.code, 0, dry.stderr);
    // A record is named by its serial without leading zero bytes (normalizeSerial): 1 to 16 bytes of hex.
    assert.equal(
      dry.stderr.replace(/expires \d{4}-\d{2}-\d{2}/, 'expires DATE').replace(/(?<=records\/ca\/)(?:[0-9a-f]{2}){1,16}(?=\.json)/, 'SERIAL'),
      [
        'Dry run: the commit would be "Issue dry.example.com (client, ECDSA P-256, expires DATE)", with:',
        '  write  certs/dry.example.com.crt',
        '  write  certs/dry.example.com.chain.crt',
        '  write  private/dry.example.com.key (not committed)',
        '  write  csr/dry.example.com.csr',
        '  write  records/ca/SERIAL.json',
        'Nothing was written.',
        '',
      ].join('\n'),
    );
    assert.match(dry.stdout, /^# certs\/dry\.example\.com\.crt\nCertificate:\n  Subject: +C=US, O=Example, CN=dry\.example\.com\n  Issuer: +C=US, O=Example, CN=Example CA Intermediate\n/);
    assert.match(dry.stdout, /\n  Extended key usage: +clientAuth\n/);
    const refused = await run(['--dry-run', 'CN=web.example.com'], { cwd });
    assert.equal(refused.code, 1, 'validation still runs');
    assert.match(refused.stderr, /already taken/);
    assert.deepEqual(snapshot(cwd), before);

    const fresh = tempDir();
    const ca = await run(['--ca', '--dry-run', 'O=Example', 'CN=Dry CA'], { cwd: fresh, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(ca.code, 0, ca.stderr);
    assert.match(ca.stdout, /^# certs\/root-ca\.crt\nCertificate:\n  Subject: +O=Example, CN=Dry CA\n  Issuer: +O=Example, CN=Dry CA \(self-signed\)\n[\s\S]*# certs\/ca\.crt\nCertificate:\n  Subject: +O=Example, CN=Dry CA Intermediate\n/);
    assert.match(ca.stderr, /write +private\/root-ca\.key \(not committed\)\n[\s\S]*Nothing was written\.\n$/);
    assert.equal(existsSync(join(fresh, 'etc')), false);
  });
});

describe('certified check', () => {
  let cwd: string;
  let db: string;
  let serial: string;
  before(async () => {
    ({ cwd, db } = await freshCa());
    for (const args of [['CN=web.example.com'], ['--bits', '2048', '--client', 'CN=alice']]) {
      const result = await run(args, { cwd });
      assert.equal(result.code, 0, result.stderr);
    }
    serial = serialOf(join(db, 'certs/web.example.com.crt'));
  });

  /** A copy of the healthy CA (with its git repository) to break. */
  function copy(): string {
    const dir = join(tempDir(), 'ca');
    cpSync(db, dir, { recursive: true });
    return dir;
  }

  async function check(dir: string) {
    const result = await run(['check', '--db', dir], { cwd });
    return { ...result, lines: result.stdout.trimEnd().split('\n').filter(Boolean) };
  }

  it('passes a healthy CA', async () => {
    const result = await check(db);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /passes every check \(4 certificate\(s\), 4 record\(s\), 2 CRL\(s\)\)/);
    const json = await run(['check', '--json', '--db', db], { cwd });
    // The root key, encrypted, is still in private/: check reads no password, so it says it could not compare it.
    assert.deepEqual(JSON.parse(json.stdout), { ok: true, findings: [], uncheckedKeys: ['private/root-ca.key'], certificates: 4, records: 4, crls: 2 });
  });

  it('finds a removed record', async () => {
    const dir = copy();
    rmSync(join(dir, `records/ca/${serial}.json`));
    const result = await check(dir);
    assert.equal(result.code, 1);
    assert.deepEqual(result.lines, [`certs/web.example.com.crt: serial ${serial} has no record in records/ [no-record]`]);
    assert.match(result.stderr, /1 finding\(s\)/);
  });

  it('finds a tampered certificate (one byte of its signature flipped)', async () => {
    const dir = copy();
    const file = join(dir, 'certs/web.example.com.crt');
    const der = Buffer.from(readText(file).replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 1]! ^= 0x01;
    writeFileSync(file, `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`);
    assert.equal(openssl(['x509', '-in', file, '-noout']).status, 0, 'still parseable');
    assert.notEqual(openssl(['verify', '-CAfile', join(dir, 'certs/root-ca.crt'), '-untrusted', join(dir, 'certs/ca.crt'), file]).status, 0, 'OpenSSL rejects it too');
    const result = await check(dir);
    assert.equal(result.code, 1);
    assert.ok(result.lines.includes('certs/web.example.com.crt: the signature does not verify against its issuer "certs/ca.crt" [bad-signature]'), result.stdout);
    assert.ok(result.lines.includes(`certs/web.example.com.chain.crt: does not start with the certificate in "certs/web.example.com.crt" [chain-mismatch]`), result.stdout);
  });

  it('finds a stale CRL, and one that lists a serial no record revoked', async () => {
    const dir = copy();
    const caPem = readText(join(dir, 'certs/ca.crt'));
    const signingKey = await importPrivateKey(readText(join(dir, 'private/ca.key')));
    const day = 86_400_000;
    const stale = await createCrl({
      issuerPem: caPem,
      signingKey,
      crlNumber: 2,
      thisUpdate: new Date(Date.now() - 10 * day),
      nextUpdate: new Date(Date.now() - 3 * day),
      entries: [{ serial: '0badc0de', revokedAt: new Date(Date.now() - 10 * day), reason: 'keyCompromise' }],
    });
    writeFileSync(join(dir, 'crl/ca.crl'), stale);
    const verify = openssl(['crl', '-in', join(dir, 'crl/ca.crl'), '-CAfile', join(dir, 'certs/ca.crt'), '-noout', '-verify']);
    assert.match(verify.stderr + verify.stdout, /verify OK/, 'the CRL is well signed: only its age and entries are wrong');
    const result = await check(dir);
    assert.equal(result.code, 1);
    assert.equal(result.lines.length, 2, result.stdout);
    assert.match(result.lines[0] ?? '', /^crl\/ca\.crl: lists serial\(s\) 0badc0de that no revoked record of "ca" has \[crl-entries\]$/);
    assert.match(result.lines[1] ?? '', /^crl\/ca\.crl: expired at \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z: run "certified crl" \[stale-crl\]$/);
  });

  it('checks a large CA in worker threads, with the same findings', async () => {
    const big = tempDir();
    const dir = join(big, 'etc/ssl');
    await makeCa(big);
    const entries = Array.from({ length: 240 }, (_, i) => `  host-${i}: { cn: host-${i}.example.com, profile: server }`);
    writeFileSync(join(dir, 'certificates.yaml'), ['defaults: { days: 90, key: ecdsa }', 'certificates:', ...entries, ''].join('\n'));
    const applied = await run(['apply', '--yes', '--db', dir], { cwd: big });
    assert.equal(applied.code, 0, applied.stderr);
    const healthy = await check(dir);
    assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
    assert.match(healthy.stderr, /passes every check \(242 certificate\(s\), 242 record\(s\), 2 CRL\(s\)\)/);

    const tampered = join(dir, 'certs/host-7.crt');
    const der = Buffer.from(readText(tampered).replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 1]! ^= 0x01;
    writeFileSync(tampered, `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`);
    writeFileSync(join(dir, 'certs/host-200.crt'), 'not a certificate\n');
    const result = await check(dir);
    assert.equal(result.code, 1);
    const codes = result.lines.map((line) => line.replace(/: .*\[/, ': ['));
    assert.ok(codes.includes('certs/host-7.crt: [bad-signature]'), result.stdout);
    assert.ok(codes.includes('certs/host-7.chain.crt: [chain-mismatch]'), result.stdout);
    assert.ok(codes.includes('certs/host-200.crt: [unreadable]'), result.stdout);
    assert.equal(codes.filter((line) => line.includes('[bad-signature]')).length, 1, result.stdout);
  });

  it('finds an unencrypted private key committed to git', async () => {
    const dir = copy();
    const key = join(dir, 'private/leaked.key');
    assert.equal(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]).status, 0);
    git(dir, ['add', '-f', 'private/leaked.key']);
    git(dir, [...IDENTITY, 'commit', '-q', '-m', 'Add a key by mistake']);
    const result = await check(dir);
    assert.equal(result.code, 1);
    assert.deepEqual(result.lines.map((line) => line.replace(/: .*\[/, ': [')), ['private/leaked.key: [plaintext-key-tracked]']);
    const json = JSON.parse((await run(['check', '--json', '--db', dir], { cwd })).stdout) as { ok: boolean; findings: Array<{ path: string; code: string }> };
    assert.equal(json.ok, false);
    assert.deepEqual(json.findings.map((item) => [item.path, item.code]), [['private/leaked.key', 'plaintext-key-tracked']]);
    assert.ok(readFileSync(join(dir, 'private/web.example.com.key'), 'utf8').length > 0, 'the ignored leaf key is on disk but untracked, so not a finding');
  });
});

import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { freshCa, makeCa, openssl, readText, run, snapshot, tempDir } from '../helpers/cli.js';

const UNENCRYPTED_KEY = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/;
const KEY_PASSWORD = 'inventory key password';

interface Expected {
  name: string;
  cn: string;
  subject: Record<string, string>;
  issuer: string;
  profile: string;
  key: string;
}

/** What OpenSSL reads from certs/NAME.crt, in the shape of one `ls --json` object. */
function fromOpenssl(db: string, expected: Expected, status = 'valid') {
  const file = join(db, `certs/${expected.name}.crt`);
  const out = openssl(['x509', '-in', file, '-noout', '-serial', '-startdate', '-enddate', '-fingerprint', '-sha256', '-ext', 'subjectAltName']).stdout;
  const field = (label: string) => new RegExp(`^${label}=(.*)$`, 'm').exec(out)?.[1] ?? '';
  const sanLine = /X509v3 Subject Alternative Name: *\n\s*(.*)\n/.exec(out)?.[1];
  return {
    name: expected.name,
    cn: expected.cn,
    subject: expected.subject,
    sans: sanLine ? sanLine.split(', ') : [],
    issuer: expected.issuer,
    serial: field('serial').toLowerCase().replace(/^(00)+/, ''),
    notBefore: new Date(field('notBefore')).toISOString(),
    notAfter: new Date(field('notAfter')).toISOString(),
    status,
    profile: expected.profile,
    key: expected.key,
    fingerprint: field('sha256 Fingerprint'),
  };
}

/** The cells of each line (runs separated by two or more spaces) and where each cell starts. */
/** The table of `ls`, without the CRL lines `--expiring` prints after it. */
function table(stdout: string): { cells: string[][]; starts: number[][] } {
  const lines = stdout.split('\n').filter((line) => !line.startsWith('crl/'));
  assert.equal(lines.pop(), '', 'ends with a newline');
  const matches = lines.map((line) => [...line.matchAll(/\S+(?: \S+)*/g)]);
  return { cells: matches.map((m) => m.map((match) => match[0])), starts: matches.map((m) => m.map((match) => match.index ?? -1)) };
}

/** A CRL's nextUpdate as OpenSSL reads it, in ISO form. */
function crlNextUpdate(file: string): string {
  const out = openssl(['crl', '-in', file, '-noout', '-nextupdate']);
  assert.equal(out.status, 0, out.stderr);
  return new Date(out.stdout.trim().replace('nextUpdate=', '')).toISOString();
}

function shortSans(sans: string[]): string {
  return sans.map((san) => san.replace(/^(?:DNS|IP Address|email):/, '')).join(',') || '-';
}

describe('certified ls and yaml', () => {
  let cwd: string;
  let db: string;
  let expected: Expected[];
  before(async () => {
    ({ cwd, db } = await freshCa());
    const ok = async (args: string[], input?: string) => {
      const result = await run(args, { cwd, ...(input === undefined ? {} : { input }) });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    };
    await ok(['CN=web.example.com', '+10.0.0.1']);
    await ok(['--client', '--days', '20', 'CN=alice', '+alice@example.com']);
    await ok(['--password', '-', 'CN=enc.example.com'], `${KEY_PASSWORD}\n`);
    await ok(['--self-signed', '--days', '400', 'CN=legacy.example.com']);
    await ok(['--no-sign', 'CN=pending.example.com']);
    const work = tempDir();
    const csr = join(work, 'vendor.csr');
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'vendor.key'), '-subj', '/CN=vendor.example.com', '-out', csr]);
    await ok(['--csr', csr, '--server']);
    const example = (cn: string) => ({ C: 'US', O: 'Example', CN: cn });
    expected = [
      { name: 'alice', cn: 'alice', subject: example('alice'), issuer: 'ca', profile: 'client', key: 'ECDSA P-256' },
      { name: 'ca', cn: 'Example CA Intermediate', subject: example('Example CA Intermediate'), issuer: 'root-ca', profile: 'ca', key: 'ECDSA P-384' },
      { name: 'enc.example.com', cn: 'enc.example.com', subject: example('enc.example.com'), issuer: 'ca', profile: 'server+client', key: 'ECDSA P-256' },
      { name: 'legacy.example.com', cn: 'legacy.example.com', subject: example('legacy.example.com'), issuer: 'self-signed', profile: 'self-signed', key: 'ECDSA P-256' },
      { name: 'root-ca', cn: 'Example CA', subject: example('Example CA'), issuer: 'root-ca', profile: 'root', key: 'ECDSA P-384' },
      { name: 'vendor.example.com', cn: 'vendor.example.com', subject: example('vendor.example.com'), issuer: 'ca', profile: 'server', key: 'RSA 2048' },
      { name: 'web.example.com', cn: 'web.example.com', subject: example('web.example.com'), issuer: 'ca', profile: 'server+client', key: 'ECDSA P-256' },
    ];
  });

  it('ls prints one aligned line per certificate, sorted by name, with what OpenSSL reads from each', async () => {
    const result = await run(['ls'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const { cells, starts } = table(result.stdout);
    // Whole serials would make the table 135 columns wide: it shows their first 8 digits to fit 120.
    const rows = expected.map((entry) => {
      const facts = fromOpenssl(db, entry);
      return [facts.name, facts.cn, shortSans(facts.sans), facts.issuer, `${facts.serial.slice(0, 8)}…`, facts.notAfter.slice(0, 10), 'valid'];
    });
    for (const line of result.stdout.trimEnd().split('\n')) assert.ok([...line].length <= 120, line);
    assert.deepEqual(cells, [['NAME', 'CN', 'SANS', 'ISSUER', 'SERIAL', 'EXPIRES', 'STATUS'], ...rows]);
    for (const line of starts) assert.deepEqual(line, starts[0], 'every column starts at the same place');
    assert.equal(rows[0]![2], 'alice@example.com');
    assert.equal(rows[6]![2], 'web.example.com,10.0.0.1');
  });

  it('ls --json is an array of objects matching the certificates; --issuer filters by name or CN', async () => {
    const result = await run(['ls', '--json'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), expected.map((entry) => fromOpenssl(db, entry)));

    const byCa = await run(['ls', '--json', '--issuer', 'ca'], { cwd });
    assert.deepEqual(JSON.parse(byCa.stdout).map((entry: { name: string }) => entry.name), ['alice', 'enc.example.com', 'vendor.example.com', 'web.example.com']);
    const byCn = await run(['ls', '--json', '--issuer', 'Example CA Intermediate'], { cwd });
    assert.equal(byCn.stdout, byCa.stdout);
    const byRoot = await run(['ls', '--issuer', 'Example CA'], { cwd });
    assert.deepEqual(table(byRoot.stdout).cells.slice(1).map((row) => row[0]), ['ca', 'root-ca']);
    const selfSigned = await run(['ls', '--issuer', 'self-signed'], { cwd });
    assert.deepEqual(table(selfSigned.stdout).cells.slice(1).map((row) => row[0]), ['legacy.example.com']);
    const unknown = await run(['ls', '--issuer', 'Nope CA'], { cwd });
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'certified: there is no issuing CA "Nope CA". Give the name or CN of a CA listed by "certified ls".\n');
    // Options after the command name are the command's, --db included.
    const elsewhere = await run(['ls', '--issuer', 'self-signed', '--db', db], { cwd: tempDir() });
    assert.equal(elsewhere.stdout, selfSigned.stdout);
    const before = await run(['--db', db, 'ls', '--issuer', 'self-signed'], { cwd: tempDir() });
    assert.equal(before.stdout, selfSigned.stdout);
  });

  it('ls --expiring DAYS lists what expires within DAYS and exits 1, else exits 0', async () => {
    const soon = await run(['ls', '--expiring', '30'], { cwd });
    assert.equal(soon.code, 1);
    assert.deepEqual(table(soon.stdout).cells.slice(1).map((row) => row[0]), ['alice']);
    // The intermediate's CRL (7 days) is due too; the root's lives a year.
    const caCrlDue = crlNextUpdate(join(db, 'crl/ca.crl')).slice(0, 10);
    assert.deepEqual(soon.stdout.split('\n').filter((line) => line.startsWith('crl/')), [`crl/ca.crl  re-sign by ${caCrlDue}`]);
    assert.equal(
      soon.stderr,
      '1 certificate expires within 30 days (or already expired): renew it.\n1 CRL must be re-signed within 30 days: run "certified crl" (the root\'s with its key: "certified crl --issuer root-ca").\n',
    );
    const json = await run(['ls', '--expiring', '30', '--json'], { cwd });
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), [fromOpenssl(db, expected[0]!), { kind: 'crl', name: 'crl/ca.crl', issuer: 'ca', nextUpdate: crlNextUpdate(join(db, 'crl/ca.crl')) }]);
    const later = await run(['ls', '--expiring', '5'], { cwd });
    assert.equal(later.code, 0);
    assert.equal(later.stdout, '');
    assert.equal(later.stderr, 'No certificate expires within 5 days.\n');
    const year = await run(['ls', '--expiring', '401', '--json'], { cwd });
    assert.equal(year.code, 1);
    assert.deepEqual(JSON.parse(year.stdout).map((entry: { name: string }) => entry.name), ['alice', 'enc.example.com', 'legacy.example.com', 'vendor.example.com', 'web.example.com', 'crl/ca.crl', 'crl/root-ca.crl']);
    const bad = await run(['ls', '--expiring', 'soon'], { cwd });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^certified: --expiring must be a whole number of days/);
  });

  it('ls --all shows revoked and expired records; --expiring counts expired ones, never revoked ones', async () => {
    const copy = join(tempDir(), 'ssl');
    cpSync(db, copy, { recursive: true });
    const recordOf = (name: string) => {
      const path = join(copy, `records/ca/${fromOpenssl(db, expected.find((entry) => entry.name === name)!).serial}.json`);
      return { path, record: JSON.parse(readFileSync(path, 'utf8')) };
    };
    const web = recordOf('web.example.com');
    writeFileSync(web.path, JSON.stringify({ ...web.record, notAfter: '2001-01-01T00:00:00.000Z', status: 'revoked', revocation: { date: '2000-06-01T00:00:00.000Z', reason: 'keyCompromise' } }));
    const enc = recordOf('enc.example.com');
    writeFileSync(enc.path, JSON.stringify({ ...enc.record, notAfter: '2001-01-01T00:00:00.000Z' }));
    // Revoked certificates are listed with --all only.
    const listed = await run(['ls', '--all', '--db', copy], { cwd });
    assert.equal(listed.stderr, '');
    const status = Object.fromEntries(table(listed.stdout).cells.slice(1).map((row) => [row[0], row[6]]));
    assert.equal(status['web.example.com'], 'revoked');
    assert.equal(status['enc.example.com'], 'expired');
    assert.equal(status['alice'], 'valid');
    const expiring = await run(['ls', '--db', copy, '--expiring', '30'], { cwd });
    assert.equal(expiring.code, 1);
    assert.deepEqual(table(expiring.stdout).cells.slice(1).map((row) => [row[0], row[5], row[6]]), [
      ['alice', fromOpenssl(db, expected[0]!).notAfter.slice(0, 10), 'valid'],
      ['enc.example.com', '2001-01-01', 'expired'],
    ]);
  });

  it('ls refuses a directory with no CA and no certificates', async () => {
    const empty = tempDir();
    const result = await run(['ls'], { cwd: empty });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^certified: there is no CA in ".*etc\/ssl"\. Run "certified init CN=\.\.\." first/);
    assert.deepEqual([...snapshot(empty).keys()], []);
  });

  it('yaml prints every certificate and every non-CA key on disk; an encrypted key only with its password', async () => {
    const before = snapshot(cwd);
    const result = await run(['yaml'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'Note: "private/enc.example.com.key" is encrypted and left out: pass --password - (or set CERTIFIED_PASSWORD) to include it.\n');
    assert.match(result.stdout, /^---\n/);
    assert.match(result.stdout, /\nweb\.example\.com\.crt: \|\n  -----BEGIN CERTIFICATE-----\n/);
    const parsed = parse(result.stdout) as Record<string, string>;
    const file = (path: string) => readText(join(db, path));
    assert.deepEqual(parsed, {
      'alice.crt': file('certs/alice.crt'),
      'alice.key': file('private/alice.key'),
      'ca.crt': file('certs/ca.crt'),
      'enc.example.com.crt': file('certs/enc.example.com.crt'),
      'legacy.example.com.crt': file('certs/legacy.example.com.crt'),
      'legacy.example.com.key': file('private/legacy.example.com.key'),
      'pending.example.com.key': file('private/pending.example.com.key'),
      'root-ca.crt': file('certs/root-ca.crt'),
      'vendor.example.com.crt': file('certs/vendor.example.com.crt'),
      'web.example.com.crt': file('certs/web.example.com.crt'),
      'web.example.com.key': file('private/web.example.com.key'),
    });
    assert.equal(Object.keys(parsed).join(' '), Object.keys(parsed).sort().join(' '), 'sorted');

    const withPassword = await run(['yaml', '--password', '-'], { cwd, input: `${KEY_PASSWORD}\n` });
    assert.equal(withPassword.code, 0, withPassword.stderr);
    assert.equal(withPassword.stderr, '');
    const decrypted = (parse(withPassword.stdout) as Record<string, string>)['enc.example.com.key'] ?? '';
    assert.match(decrypted, UNENCRYPTED_KEY);
    const keyFile = join(tempDir(), 'enc.key');
    writeFileSync(keyFile, decrypted);
    assert.equal(
      openssl(['pkey', '-in', keyFile, '-pubout']).stdout,
      openssl(['x509', '-in', join(db, 'certs/enc.example.com.crt'), '-noout', '-pubkey']).stdout,
      'the decrypted key is the certificate key',
    );

    const wrong = await run(['yaml', '--password', 'not the password'], { cwd });
    assert.equal(wrong.code, 0);
    assert.equal(wrong.stdout, result.stdout);
    assert.equal(wrong.stderr, 'Note: "private/enc.example.com.key" is left out: the password given does not open it.\n');
    assert.deepEqual(snapshot(cwd), before, 'yaml changes nothing');

    // A damaged key (its public key is not its private key's) is left out, named, and the rest exported.
    const stored = createPrivateKey({ key: readFileSync(join(db, 'private/enc.example.com.key')), passphrase: KEY_PASSWORD }).export({ format: 'jwk' });
    const other = createPrivateKey(readFileSync(join(db, 'private/web.example.com.key'))).export({ format: 'jwk' });
    const damaged = createPrivateKey({ key: { ...stored, d: other.d }, format: 'jwk' });
    writeFileSync(join(db, 'private/enc.example.com.key'), damaged.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: KEY_PASSWORD }));
    const withDamaged = await run(['yaml', '--password', '-'], { cwd, input: `${KEY_PASSWORD}\n` });
    assert.equal(withDamaged.code, 0, withDamaged.stderr);
    assert.equal(withDamaged.stdout, result.stdout);
    assert.equal(withDamaged.stderr, 'Note: "private/enc.example.com.key" is left out: it is damaged (its public key is not the one its private key gives); restore it from your backup.\n');
  });
});

describe('certified ls in a terminal', () => {
  const SUB_CA = 'platform-engineering-team-intermediate-certificate-authority';
  const LONG = 'payments-gateway.internal.eu-west-1.example.com';
  let cwd: string;
  before(async () => {
    cwd = tempDir();
    await makeCa(cwd);
    const ok = async (args: string[]) => {
      const result = await run(args, { cwd });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    };
    await ok(['--ca', '--issuer', 'ca', 'CN=Platform Engineering Team Intermediate Certificate Authority']);
    await ok(['--issuer', SUB_CA, `CN=${LONG}`, '+api.payments.internal.eu-west-1.example.com', '+admin.payments.internal.eu-west-1.example.com', '+10.20.30.40', '+2001:db8::1234:5678']);
    await ok(['--client', 'CN=Alice Example-Longname', '+alice.example-longname@example.com']);
    await ok(['CN=web.example.com']);
    await ok(['--revoke', 'CN=Alice Example-Longname']);
    await ok(['renew', 'CN=web.example.com']);
  });

  const widthOf = (stdout: string) => Math.max(...stdout.trimEnd().split('\n').map((line) => [...line].length));

  it('fits 120 columns, cutting long cells with "…", and hides revoked and superseded certificates', async () => {
    const json = await run(['ls', '--json'], { cwd });
    const everything = JSON.parse(json.stdout) as { name: string; status: string; serial: string }[];
    assert.equal(everything.length, 7, 'root, intermediate, sub-CA, the long one, alice, web and the web it replaced');

    const result = await run(['ls'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(widthOf(result.stdout) <= 120, result.stdout);
    assert.equal(result.stderr, 'Note: 2 revoked or superseded certificates are not shown; "certified ls --all" lists them too.\n');
    const { cells, starts } = table(result.stdout);
    assert.deepEqual(cells[0], ['NAME', 'CN', 'SANS', 'ISSUER', 'SERIAL', 'EXPIRES', 'STATUS']);
    for (const line of starts) assert.deepEqual(line, starts[0], 'every column starts at the same place');
    const current = everything.filter((entry) => entry.status === 'valid');
    assert.equal(cells.length - 1, current.length);
    cells.slice(1).forEach((row, index) => {
      const entry = current[index]!;
      const name = row[0]!;
      assert.ok(name === entry.name || (name.endsWith('…') && entry.name.startsWith(name.slice(0, -1))), `${name} for ${entry.name}`);
      assert.equal(row[4], `${entry.serial.slice(0, 8)}…`);
      assert.equal(row[6], 'valid');
    });
    const long = cells.find((row) => LONG.startsWith(row[0]!.replace(/…$/, '')))!;
    assert.ok(long[2]!.startsWith('payments-gateway.') && long[2]!.endsWith('…'), 'the SANs are cut, not wrapped');
    assert.ok([...long[0]!].length >= 30, 'the name gives way last');

    const all = await run(['ls', '--all'], { cwd });
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stderr, '');
    assert.ok(widthOf(all.stdout) <= 120, all.stdout);
    const allRows = table(all.stdout).cells.slice(1);
    assert.equal(allRows.length, everything.length);
    assert.deepEqual(allRows.map((row) => row[6]), everything.map((entry) => entry.status));
    const revoked = everything.filter((entry) => entry.status === 'revoked').map((entry) => `${entry.serial.slice(0, 8)}…`);
    assert.deepEqual(allRows.filter((row) => row[6] === 'revoked').map((row) => row[4]), revoked);
    assert.equal(everything.filter((entry) => entry.status === 'revoked').length, 2);

    // --json is not cut and lists every record, revoked ones included; --all changes nothing there.
    assert.equal((await run(['ls', '--json', '--all'], { cwd })).stdout, json.stdout);
    assert.ok(everything.every((entry) => entry.serial.length >= 30));
  });

  it('keeps a small CA whole and --expiring as it was', async () => {
    const expiring = await run(['ls', '--expiring', '4000'], { cwd });
    assert.equal(expiring.code, 1);
    assert.match(expiring.stderr, /^5 certificates expire within 4000 days \(or already expired\): renew them\.\n3 CRLs must be re-signed within 4000 days/);
    assert.ok(widthOf(expiring.stdout) <= 120);
  });
});

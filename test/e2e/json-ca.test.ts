import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, ROOT_PASSWORD, baseEnv, freshCa, openssl, run, tempDir } from '../helpers/cli.js';
import { CERTIFICATE_KEYS, CHANGE_KEYS, CRL_KEYS, certificateOnDisk, crlOnDisk, documentOf, headOf, jsonError, type Crl, type Document } from '../helpers/json.js';

/**
 * `--json` of the commands that make CAs and certificates, sign, renew, revoke and rotate the root
 * (docs/json.md): each document's exact keys, its fields against the files (OpenSSL reads them)
 * and the commit (git reads it), and refusals as one JSON error.
 */

const NEW_ROOT_PASSWORD = 'new root password for tests';
const ROOT = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };

function keysOf(document: object): string[] {
  return Object.keys(document).sort();
}

/** The certificate's keys as `ls --json` shows them, checked against `file` by OpenSSL. */
function assertCertificate(document: Document, file: string, extra: string[] = []): void {
  const keys = ['name', 'cn', 'subject', 'sans', 'issuer', 'serial', 'notBefore', 'notAfter', 'status', 'profile', 'key', 'fingerprint', ...extra];
  for (const key of keys) assert.ok(key in document, `the document has "${key}"`);
  assert.deepEqual(certificateOnDisk(file), { serial: document.serial, fingerprint: document.fingerprint, notBefore: document.notBefore, notAfter: document.notAfter });
}

/** A CRL of the document against its file: number and dates, and the serials it lists. */
function assertCrl(crl: Crl, issuer: string, lists: string[] = []): void {
  assert.deepEqual(keysOf(crl), [...CRL_KEYS].sort());
  assert.equal(crl.issuer, issuer);
  assert.deepEqual(crlOnDisk(crl.file), { number: crl.number, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate });
  const text = openssl(['crl', '-in', crl.file, '-noout', '-text']).stdout;
  for (const serial of lists) assert.match(text, new RegExp(`Serial Number: ${serial.toUpperCase()}`));
}

/** A date as "openssl crl -text" prints it: "Dec  1 22:07:54 2026 GMT". */
function opensslDate(iso: string): string {
  const date = new Date(iso);
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${month} ${String(date.getUTCDate()).padStart(2)} ${date.toISOString().slice(11, 19)} ${date.getUTCFullYear()} GMT`;
}

function fileEnding(document: Document, end: string): string {
  const file = (document.files as string[]).find((path) => path.endsWith(end));
  assert.ok(file, `${end} is among the files`);
  return file;
}

function assertFilesExist(document: Document): void {
  for (const file of document.files as string[]) assert.ok(existsSync(file), `${file} exists`);
}

describe('--json of init', () => {
  let cwd: string;
  let db: string;
  let work: string;
  before(() => {
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    work = tempDir();
  });

  it('names the root and the intermediate, their CRLs, the files and the commit', async () => {
    const document = documentOf(await run(['init', 'C=US', 'O=Example', 'CN=Example CA', '--json'], { cwd, env: ROOT }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, 'certificates', 'crls'].sort());
    assert.equal(document.action, 'init');
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    const [root, intermediate, ...more] = document.certificates as Document[];
    assert.ok(root && intermediate);
    assert.equal(more.length, 0);
    assert.deepEqual(keysOf(root), [...CERTIFICATE_KEYS].sort());
    assert.deepEqual(keysOf(intermediate), [...CERTIFICATE_KEYS].sort());
    assert.deepEqual([root.name, root.profile, root.issuer, root.cn], ['root-ca', 'root', 'root-ca', 'Example CA']);
    assert.deepEqual([intermediate.name, intermediate.profile, intermediate.issuer, intermediate.cn], ['ca', 'ca', 'root-ca', 'Example CA Intermediate']);
    assert.deepEqual(root.subject, { C: 'US', O: 'Example', CN: 'Example CA' });
    assertCertificate(root, fileEnding(document, '/certs/root-ca.crt'));
    assertCertificate(intermediate, fileEnding(document, '/certs/ca.crt'));
    const crls = document.crls as Crl[];
    assert.deepEqual(crls.map((crl) => crl.file), [join(db, 'crl/root-ca.crl'), join(db, 'crl/ca.crl')]);
    assertCrl(crls[0]!, 'root-ca');
    assertCrl(crls[1]!, 'ca');
    // The root key's advice is what stderr would have warned; stdout holds the document alone.
    assert.deepEqual(document.warnings, [
      `the root key "${join(db, 'private/root-ca.key')}" is encrypted and git-ignored: move it somewhere safe and offline. It is needed only to replace or revoke the intermediate.`,
    ]);
  });

  it('names a sub-CA at the top level with its first CRL', async () => {
    const document = documentOf(await run(['init', '--issuer', 'ca', 'CN=Team CA', '--json'], { cwd }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, ...CERTIFICATE_KEYS, 'crls'].sort());
    assert.deepEqual([document.action, document.name, document.issuer, document.profile, document.status], ['init', 'team-ca', 'ca', 'ca', 'valid']);
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    assertCertificate(document, fileEnding(document, '/certs/team-ca.crt'));
    const crls = document.crls as Crl[];
    assert.equal(crls.length, 1);
    assert.equal(crls[0]!.file, join(db, 'crl/team-ca.crl'));
    assertCrl(crls[0]!, 'team-ca');
    assert.deepEqual(document.warnings, []);
  });

  it('names an external CA at the top level, marked external, with no CRL of its own', async () => {
    const csr = join(work, 'engine.csr');
    const made = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'engine.key'), '-subj', '/CN=Engine CA', '-out', csr]);
    assert.equal(made.status, 0, made.stderr);
    const document = documentOf(await run(['init', '--csr', csr, '--issuer', 'ca', '--name', 'vault', '--json'], { cwd }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, ...CERTIFICATE_KEYS, 'external', 'crls'].sort());
    assert.deepEqual([document.action, document.name, document.issuer, document.external], ['init', 'vault', 'ca', true]);
    assert.deepEqual(document.crls, []);
    assert.equal(document.commit, headOf(db));
    assertCertificate(document, fileEnding(document, '/certs/vault.crt'));
    // Nothing limits the names it may issue for: stderr warns, and so does the document.
    assert.equal((document.warnings as string[]).length, 1);
    assert.match((document.warnings as string[])[0]!, /^neither this CA nor the flags constrain names/);
  });

  it('names the revoked intermediate and the root CRL that lists it (revoke --ca)', async () => {
    const document = documentOf(await run(['revoke', '--ca', '--reason', 'keyCompromise', '--json'], { cwd, env: ROOT }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, ...CERTIFICATE_KEYS, 'revocation', 'crls'].sort());
    assert.deepEqual([document.action, document.name, document.status], ['revoke', 'ca', 'revoked']);
    assert.equal((document.revocation as { reason: string }).reason, 'keyCompromise');
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    const moved = fileEnding(document, `/revoked/ca-${document.serial as string}/ca.crt`);
    assertCertificate(document, moved);
    const crls = document.crls as Crl[];
    assert.equal(crls.length, 1);
    assertCrl(crls[0]!, 'root-ca', [document.serial as string]);
  });

  it('names a new intermediate at the top level after the old one was revoked', async () => {
    const document = documentOf(await run(['init', '--json'], { cwd, env: ROOT }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, ...CERTIFICATE_KEYS, 'crls'].sort());
    assert.deepEqual([document.action, document.name, document.issuer, document.profile], ['init', 'ca', 'root-ca', 'ca']);
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    assertCertificate(document, fileEnding(document, '/certs/ca.crt'));
    const crls = document.crls as Crl[];
    assert.equal(crls.length, 1);
    assertCrl(crls[0]!, 'ca');
  });

  it('refuses as a JSON error', async () => {
    const error = jsonError(await run(['init', 'CN=Again', '--json'], { cwd, env: ROOT }), 'CA_EXISTS');
    assert.match(error.message, /a CA already exists/);
    jsonError(await run(['init', '--issuer', 'ca', '--permit-dns', 'example.com', 'CN=X', '--json'], { cwd }), 'USAGE', 2);
    // --dry-run --json: the planned change, nothing written.
    const planned = documentOf(await run(['init', '--issuer', 'ca', 'CN=Planned CA', '--dry-run', '--json'], { cwd }));
    assert.deepEqual([planned.action, planned.dryRun, planned.commit], ['init', true, null]);
    for (const file of planned.files as string[]) assert.equal(existsSync(file), false, `${file} was not written`);
  });
});

describe('--json of certificates: self-signed, request, sign, renew, revoke', () => {
  let cwd: string;
  let db: string;
  let work: string;
  before(async () => {
    ({ cwd, db } = await freshCa());
    work = tempDir();
  });

  it('self-signed: the certificate at the top level', async () => {
    const alone = tempDir();
    const document = documentOf(await run(['self-signed', 'CN=dev.local', '+localhost', '+127.0.0.1', '--json'], { cwd: alone }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, ...CERTIFICATE_KEYS].sort());
    assert.deepEqual([document.action, document.name, document.issuer, document.profile], ['self-signed', 'dev.local', 'self-signed', 'self-signed']);
    assert.deepEqual(document.sans, ['DNS:dev.local', 'DNS:localhost', 'IP Address:127.0.0.1']);
    assert.equal(document.commit, headOf(join(alone, 'etc/ssl')));
    assertFilesExist(document);
    assertCertificate(document, fileEnding(document, '/certs/dev.local.crt'));
    jsonError(await run(['self-signed', 'CN=dev.local', '--json'], { cwd: alone }), 'NAME_TAKEN');
  });

  it('request: the CSR\'s subject and names, the files, no certificate', async () => {
    const document = documentOf(await run(['request', 'O=Vendor', 'CN=vendor.example.com', '+www.vendor.example.com', '--json'], { cwd }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, 'name', 'cn', 'subject', 'sans', 'key'].sort());
    assert.deepEqual([document.action, document.name, document.cn, document.key], ['request', 'vendor.example.com', 'vendor.example.com', 'ECDSA P-256']);
    assert.deepEqual(document.sans, ['DNS:vendor.example.com', 'DNS:www.vendor.example.com']);
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    const csr = fileEnding(document, '/csr/vendor.example.com.csr');
    fileEnding(document, '/private/vendor.example.com.key');
    const out = openssl(['req', '-in', csr, '-noout', '-subject', '-text', '-nameopt', 'sep_comma_plus_space']).stdout;
    // The CA's defaults fill what was not given, as in the CSR.
    const subject = document.subject as Record<string, string>;
    assert.equal(/subject=(.*)/.exec(out)?.[1], Object.entries(subject).map(([key, value]) => `${key}=${value}`).join(', '));
    assert.equal(subject.O, 'Vendor');
    assert.match(out, /DNS:vendor\.example\.com, DNS:www\.vendor\.example\.com/);
    jsonError(await run(['request', 'CN=vendor.example.com', '--json'], { cwd }), 'NAME_TAKEN');
  });

  it('sign: the certificate of the CSR at the top level', async () => {
    const csr = join(work, 'partner.csr');
    const made = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'partner.key'), '-subj', '/CN=partner.example.com', '-out', csr]);
    assert.equal(made.status, 0, made.stderr);
    const document = documentOf(await run(['sign', csr, '--server', '--days', '30', '--json'], { cwd }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, ...CERTIFICATE_KEYS].sort());
    assert.deepEqual([document.action, document.name, document.issuer, document.profile], ['sign', 'partner.example.com', 'ca', 'server']);
    assert.deepEqual(document.sans, ['DNS:partner.example.com']);
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    assertCertificate(document, fileEnding(document, '/certs/partner.example.com.crt'));
    assert.equal((document.files as string[]).some((file) => file.endsWith('.key')), false, 'no key: it stays with whoever made the CSR');

    const garbage = join(work, 'garbage.csr');
    writeFileSync(garbage, 'not a request\n');
    jsonError(await run(['sign', garbage, '--json'], { cwd }), 'BAD_CSR');
  });

  it('renew: the new certificate at the top level, the one it replaced and the CRL that lists that one', async () => {
    const issued = documentOf(await run(['issue', 'CN=web.example.com', '--json'], { cwd }));
    const document = documentOf(await run(['renew', '--name', 'web.example.com', '--json'], { cwd }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, ...CERTIFICATE_KEYS, 'replaced', 'crls'].sort());
    assert.deepEqual([document.action, document.name, document.issuer, document.status], ['renew', 'web.example.com', 'ca', 'valid']);
    assert.notEqual(document.serial, issued.serial);
    assert.deepEqual(document.replaced, { serial: issued.serial, notAfter: issued.notAfter, issuer: 'ca' });
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    assertCertificate(document, fileEnding(document, '/certs/web.example.com.crt'));
    const crls = document.crls as Crl[];
    assert.equal(crls.length, 1);
    assertCrl(crls[0]!, 'ca', [issued.serial as string]);

    jsonError(await run(['renew', '--name', 'ca', '--json'], { cwd }), 'NOT_RENEWABLE');
  });

  it('revoke: the revoked certificate with its revocation, and the CRL it republished', async () => {
    const issued = documentOf(await run(['issue', 'CN=old.example.com', '--json'], { cwd }));
    const planned = documentOf(await run(['revoke', '--name', 'old.example.com', '--dry-run', '--json'], { cwd }));
    assert.deepEqual([planned.action, planned.dryRun, planned.commit], ['revoke', true, null]);
    assert.equal(existsSync(join(db, 'certs/old.example.com.crt')), true, 'the dry run moved nothing');

    const document = documentOf(await run(['revoke', '--name', 'old.example.com', '--reason', 'superseded', '--json'], { cwd }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, ...CERTIFICATE_KEYS, 'revocation', 'crls'].sort());
    assert.deepEqual([document.action, document.name, document.serial, document.status], ['revoke', 'old.example.com', issued.serial, 'revoked']);
    const revocation = document.revocation as { date: string; reason: string };
    assert.deepEqual(keysOf(revocation), ['date', 'reason']);
    assert.equal(revocation.reason, 'superseded');
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    assertCertificate(document, fileEnding(document, `/revoked/old.example.com-${issued.serial as string}/old.example.com.crt`));
    const crls = document.crls as Crl[];
    assert.equal(crls.length, 1);
    assert.equal(crls[0]!.file, join(db, 'crl/ca.crl'));
    assertCrl(crls[0]!, 'ca', [issued.serial as string]);
    const listed = openssl(['crl', '-in', crls[0]!.file, '-noout', '-text']).stdout;
    assert.match(listed, new RegExp(`Serial Number: ${(issued.serial as string).toUpperCase()}\\s+Revocation Date: ${opensslDate(revocation.date)}\n`));

    // On a terminal, revoke asks first: on stderr, so that stdout still holds the document alone.
    documentOf(await run(['issue', 'CN=asked.example.com', '--json'], { cwd }));
    const out = join(work, 'asked.json');
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} revoke --name asked.example.com --json > ${JSON.stringify(out)}`;
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd, env: baseEnv({ TERM: 'dumb' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let answered = false;
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      if (!answered && screen.includes('Revoke asked.example.com')) {
        answered = true;
        child.stdin.write('y\r');
      }
    });
    // Asked where the terminal does not show it, the question would wait forever.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    assert.ok(answered, `the terminal was asked:\n${screen}\nstdout: ${existsSync(out) ? readFileSync(out, 'utf8') : ''}`);
    assert.equal(code, 0, screen);
    const asked = JSON.parse(readFileSync(out, 'utf8')) as Document;
    assert.deepEqual([asked.action, asked.name, asked.status], ['revoke', 'asked.example.com', 'revoked']);

    const again = jsonError(await run(['revoke', '--name', 'old.example.com', '--json'], { cwd }), 'ALREADY_REVOKED');
    assert.ok(again.hint);
    jsonError(await run(['revoke', '--name', 'web.example.com', '--reason', 'stolen', '--json'], { cwd }), 'USAGE', 2);
  });
});

describe('--json of rotate-root', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa()));

  it('names the new root, the cross-certificate, the intermediate under the new root and both roots\' CRLs', async () => {
    const document = documentOf(await run(['rotate-root', 'CN=Example Root 2027', '--json'], { cwd, env: { ...ROOT, CERTIFIED_NEW_ROOT_PASSWORD: NEW_ROOT_PASSWORD } }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, 'certificates', 'crls'].sort());
    assert.equal(document.action, 'rotate-root');
    assert.equal(document.commit, headOf(db));
    assertFilesExist(document);
    const certificates = document.certificates as Document[];
    assert.deepEqual(
      certificates.map((certificate) => [certificate.name, certificate.issuer, certificate.profile]),
      [
        ['root-ca', 'root-ca', 'root'],
        ['root-ca.cross', 'root-ca.old', 'ca'],
        ['ca', 'root-ca', 'ca'],
      ],
    );
    for (const certificate of certificates) {
      assert.deepEqual(keysOf(certificate), [...CERTIFICATE_KEYS].sort());
      assertCertificate(certificate, fileEnding(document, `/certs/${certificate.name as string}.crt`));
    }
    assert.equal(certificates[0]!.cn, 'Example Root 2027');
    const crls = document.crls as Crl[];
    assert.deepEqual(crls.map((crl) => crl.file), [join(db, 'crl/root-ca.crl'), join(db, 'crl/root-ca.2.crl')]);
    assertCrl(crls[0]!, 'root-ca.old');
    assertCrl(crls[1]!, 'root-ca');
    assert.deepEqual(document.warnings, []);
  });

  it('refuses a second rotation as a JSON error', async () => {
    jsonError(await run(['rotate-root', '--json'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: NEW_ROOT_PASSWORD, CERTIFIED_NEW_ROOT_PASSWORD: NEW_ROOT_PASSWORD } }), 'ROTATION_UNDER_WAY');
  });

  it('--finish names the chain files it rewrote and what still chains to the old root', async () => {
    const document = documentOf(await run(['rotate-root', '--finish', '--json'], { cwd }));
    assert.deepEqual(keysOf(document), [...CHANGE_KEYS, 'chains', 'underOldRoot'].sort());
    assert.equal(document.action, 'rotate-root');
    assert.deepEqual(document.chains, [join(db, 'certs/ca.chain.crt')]);
    assert.deepEqual(document.underOldRoot, []);
    assert.equal(document.commit, headOf(db));
    assert.ok((document.files as string[]).includes(join(db, 'certs/roots.crt')));
    assert.equal(readFileSync(join(db, 'certs/roots.crt'), 'utf8').match(/BEGIN CERTIFICATE/g)?.length, 1);
    assert.deepEqual(document.warnings, []);
    jsonError(await run(['rotate-root', '--finish', '--json'], { cwd }), 'NO_ROTATION');
  });
});

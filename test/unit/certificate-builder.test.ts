import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initCa } from '../../src/ca/authorities/init-ca.js';
import { createSubCa } from '../../src/ca/authorities/create-sub-ca.js';
import { createExternalCa } from '../../src/ca/authorities/create-external-ca.js';
import { loadConfig } from '../../src/ca/ca-files.js';
import { noPassword, type AskPassword } from '../../src/ca/passwords.js';
import { buildCertificate } from '../../src/ca/certificate-builder.js';
import { loadIssuer } from '../../src/ca/load-issuer.js';
import { issueCertificate, prepareIssue } from '../../src/ca/issuing/issue-certificate.js';
import { selfSignCertificate } from '../../src/ca/issuing/self-signed.js';
import { signCsr } from '../../src/ca/issuing/sign-csr.js';
import { generateKeyPair } from '../../src/pki/keys.js';
import { CaStore } from '../../src/store/ca-store.js';

const ROOT_PASSWORD = 'root password for unit tests';
/** Opens the root key; no other key here is encrypted. */
const rootPassword: AskPassword = async (request) => (request.role === 'root' ? ROOT_PASSWORD : undefined);
const KEY = { type: 'ecdsa', curve: 'P-256' } as const;
const ROOT_REFUSAL = { code: 'ROOT_SIGNS_ONLY_CAS', message: 'the root signs only CAs', hint: 'Nothing was written. Issue it from the intermediate "ca" (the default issuer) or from a sub-CA.' };

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => !file.startsWith('.git') && statSync(join(dir, file)).isFile())
    .map((file) => relative(dir, join(dir, file)))
    .sort();
}

function commits(dir: string): string {
  return spawnSync('git', ['-C', dir, 'rev-list', 'HEAD'], { encoding: 'utf8' }).stdout;
}

function x509Text(pem: string): string {
  const result = spawnSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

describe('who may sign what, at every entry point of ca/', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certified-builder-'));
  const store = CaStore.open(dir, { lockTimeoutMs: 10_000 });
  const common = { commandLine: 'certified (unit test)', askPassword: rootPassword };
  let csrPem = '';
  let snapshot: { files: string[]; commits: string };

  before(async () => {
    await initCa(store, { subject: { O: 'Example', CN: 'Unit CA' }, key: KEY, days: 3650, rootPassword: ROOT_PASSWORD, ...common });
    await createSubCa(store, { name: 'team-ca', subject: { CN: 'Team CA' }, issuer: 'ca', key: KEY, days: 3650, ...common });
    const csr = spawnSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(tmpdir(), `csr-${process.pid}.key`), '-subj', '/CN=csr.example.com'], { encoding: 'utf8' });
    assert.equal(csr.status, 0, csr.stderr);
    csrPem = csr.stdout;
    writeFileSync(join(tmpdir(), `csr-${process.pid}.csr`), csrPem);
    snapshot = { files: files(dir), commits: commits(dir) };
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tmpdir(), `csr-${process.pid}.key`), { force: true });
    rmSync(join(tmpdir(), `csr-${process.pid}.csr`), { force: true });
  });

  const assertUnchanged = () => {
    assert.deepEqual(files(dir), snapshot.files, 'nothing written');
    assert.equal(commits(dir), snapshot.commits, 'no commit');
  };

  it('issueCertificate refuses a leaf from the root', async () => {
    const params = { name: 'leaf.example.com', subject: { CN: 'leaf.example.com' }, sans: [{ type: 'dns' as const, value: 'leaf.example.com' }], profile: 'server' as const, key: KEY, days: 90 };
    await assert.rejects(issueCertificate(store, { ...params, issuer: 'root-ca', ...common }), ROOT_REFUSAL);
    assertUnchanged();
  });

  it('signCsr refuses to have the root sign a CSR', async () => {
    const input = new TextEncoder().encode(csrPem);
    await assert.rejects(signCsr(store, { input, source: 'req.csr', profile: 'server+client', days: 90, issuer: 'root-ca', ...common }), ROOT_REFUSAL);
    assertUnchanged();
  });

  it("prepareIssue (apply's path) and buildCertificate itself refuse a leaf from the root", async () => {
    const config = await loadConfig(store);
    const root = await loadIssuer(store, 'root-ca', rootPassword);
    const params = { name: 'x.example.com', subject: { CN: 'x.example.com' }, sans: [{ type: 'dns' as const, value: 'x.example.com' }], profile: 'server' as const, key: KEY, days: 90 };
    await assert.rejects(prepareIssue(store, config, root, params), ROOT_REFUSAL);
    const keys = await generateKeyPair(KEY);
    const leaf = { kind: 'leaf' as const, subject: { CN: 'x' }, publicKey: keys.publicKey, key: KEY, profile: 'client' as const, sans: [], issuer: root, policy: config, days: 1, now: new Date() };
    await assert.rejects(buildCertificate(leaf), ROOT_REFUSAL);
    // The root does sign CAs.
    const { certificate } = await buildCertificate({ kind: 'sub-ca', subject: { CN: 'Y CA' }, publicKey: keys.publicKey, issuer: root, policy: config, days: 1, now: new Date() });
    assert.equal(certificate.isCa, true);
    assert.equal(certificate.pathLength, 0);
    assertUnchanged();
  });

  it('a pathlen-0 CA signs no CA, through createSubCa or buildCertificate', async () => {
    await assert.rejects(createSubCa(store, { name: 'deeper-ca', subject: { CN: 'Deeper CA' }, issuer: 'team-ca', key: KEY, days: 365, ...common }), {
      code: 'PATH_LENGTH',
      message: 'the CA "team-ca" may not sign CAs (pathlen 0)',
    });
    const config = await loadConfig(store);
    const team = await loadIssuer(store, 'team-ca', noPassword);
    const keys = await generateKeyPair(KEY);
    await assert.rejects(buildCertificate({ kind: 'sub-ca', subject: { CN: 'Z CA' }, publicKey: keys.publicKey, issuer: team, policy: config, days: 1, now: new Date() }), { code: 'PATH_LENGTH' });
    assertUnchanged();
  });

  it('gives a CA at most its issuer\'s path length less one, through createExternalCa or buildCertificate', async () => {
    const input = new TextEncoder().encode(csrPem);
    const external = { input, source: 'engine.csr', days: 365, ...common };
    await assert.rejects(createExternalCa(store, { ...external, issuer: 'ca', pathLength: 1 }), {
      code: 'PATH_LENGTH',
      message: 'the CA "ca" (pathlen 1) cannot sign a CA with the path length 1',
    });
    await assert.rejects(createExternalCa(store, { ...external, issuer: 'team-ca' }), { code: 'PATH_LENGTH', message: 'the CA "team-ca" may not sign CAs (pathlen 0)' });
    const config = await loadConfig(store);
    const intermediate = await loadIssuer(store, 'ca', noPassword);
    const keys = await generateKeyPair(KEY);
    const request = { kind: 'sub-ca' as const, subject: { CN: 'Z CA' }, publicKey: keys.publicKey, issuer: intermediate, policy: config, days: 1, now: new Date() };
    await assert.rejects(buildCertificate({ ...request, pathLength: 1 }), { code: 'PATH_LENGTH' });
    assertUnchanged();
    // The root has no limit; the intermediate gives 0.
    const root = await loadIssuer(store, 'root-ca', rootPassword);
    assert.equal((await buildCertificate({ ...request, issuer: root, pathLength: 3 })).certificate.pathLength, 3);
    assert.equal((await buildCertificate(request)).certificate.pathLength, 0);
    // Name constraints narrower than the CA's own, never wider, whoever asks the builder.
    const policy = { ...config, nameConstraints: { dns: ['example.com'], ip: [], email: [] } };
    await assert.rejects(buildCertificate({ ...request, policy, nameConstraints: { dns: ['example.org'], ip: [], email: [] } }), {
      code: 'INVALID_INPUT',
      message: 'the permitted DNS domain "example.org" is outside the name constraints of "certified.json" (permitted: example.com)',
    });
    const narrowed = await buildCertificate({ ...request, policy, nameConstraints: { dns: ['.svc.example.com'], ip: [], email: [] } });
    assert.match(x509Text(narrowed.certificate.pem), /Permitted:\n\s+DNS:\.svc\.example\.com\n/);
  });

  it('cuts a leaf to its issuer and says so, backdated by a minute', async () => {
    const config = await loadConfig(store);
    const team = await loadIssuer(store, 'team-ca', noPassword);
    const keys = await generateKeyPair(KEY);
    const now = new Date();
    const built = await buildCertificate({
      kind: 'leaf',
      subject: { CN: 'long.example.com' },
      publicKey: keys.publicKey,
      key: KEY,
      profile: 'client',
      sans: [],
      issuer: team,
      policy: config,
      days: 36_500,
      now,
    });
    assert.equal(built.certificate.notAfter.getTime(), team.certificate.notAfter.getTime());
    assert.deepEqual(built.warnings, [`the certificate is cut to end with its issuer on ${team.certificate.notAfter.toISOString().slice(0, 10)}.`]);
    assert.equal(built.certificate.notBefore.getTime(), Math.floor((now.getTime() - 60_000) / 1000) * 1000);
  });

  it('cuts a leaf asked to end within a day after its issuer without a word (equal lifetimes, a moment apart)', async () => {
    const config = await loadConfig(store);
    const team = await loadIssuer(store, 'team-ca', noPassword);
    const keys = await generateKeyPair(KEY);
    const now = new Date();
    const days = Math.floor((team.certificate.notAfter.getTime() - now.getTime()) / 86_400_000) + 1; // past its end by less than a day
    const built = await buildCertificate({ kind: 'leaf', subject: { CN: 'same.example.com' }, publicKey: keys.publicKey, key: KEY, profile: 'client', sans: [], issuer: team, policy: config, days, now });
    assert.equal(built.certificate.notAfter.getTime(), team.certificate.notAfter.getTime());
    assert.deepEqual(built.warnings, []);
  });
});

describe('emailProtection for an e-mail address on a client certificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certified-email-'));
  const store = CaStore.open(dir, { lockTimeoutMs: 10_000 });
  const common = { commandLine: 'certified (unit test)', key: KEY, days: 90, askPassword: noPassword };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is added with clientAuth and an e-mail SAN, and only then (openssl judges)', async () => {
    await initCa(store, { subject: { CN: 'Mail CA' }, key: KEY, days: 3650, rootPassword: ROOT_PASSWORD, commandLine: 'certified (unit test)' });
    const email = { type: 'email' as const, value: 'alice@example.com' };
    const alice = await issueCertificate(store, { ...common, name: 'alice', subject: { CN: 'alice' }, sans: [email], profile: 'client' });
    assert.match(x509Text(alice.certificate.pem), /X509v3 Extended Key Usage: \n\s*TLS Web Client Authentication, E-mail Protection\n/);
    assert.deepEqual(alice.certificate.extendedKeyUsage, ['clientAuth', 'emailProtection']);
    const caFile = join(dir, 'certs/root-ca.crt');
    const chain = join(dir, 'certs/ca.crt');
    const verify = spawnSync('openssl', ['verify', '-purpose', 'smimesign', '-CAfile', caFile, '-untrusted', chain, join(dir, 'certs/alice.crt')], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);

    const both = await issueCertificate(store, { ...common, name: 'bob', subject: { CN: 'bob.example.com' }, sans: [{ type: 'dns', value: 'bob.example.com' }, { ...email, value: 'bob@example.com' }], profile: 'server+client' });
    assert.match(x509Text(both.certificate.pem), /TLS Web Server Authentication, TLS Web Client Authentication, E-mail Protection\n/);
    const server = await issueCertificate(store, { ...common, name: 'srv', subject: { CN: 'srv.example.com' }, sans: [{ type: 'dns', value: 'srv.example.com' }, { ...email, value: 'srv@example.com' }], profile: 'server' });
    assert.doesNotMatch(x509Text(server.certificate.pem), /E-mail Protection/);
    const plain = await issueCertificate(store, { ...common, name: 'carol', subject: { CN: 'carol' }, sans: [], profile: 'client' });
    assert.doesNotMatch(x509Text(plain.certificate.pem), /E-mail Protection/);
    const self = await selfSignCertificate(store, { ...common, name: 'dave', subject: { CN: 'dave' }, sans: [{ ...email, value: 'dave@example.com' }], profile: 'client' });
    assert.match(x509Text(self.certificate.pem), /TLS Web Client Authentication, E-mail Protection\n/);
    assert.ok(readFileSync(join(dir, 'certs/alice.crt'), 'utf8').includes(alice.certificate.pem.trim()));
  });
});

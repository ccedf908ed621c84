import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { acmeServerCertificate } from '../../src/ca/acme/policy.js';
import { loadConfig } from '../../src/ca/ca-files.js';
import { openCaDirectory, type CaStore } from '../../src/ca/ca-directory.js';
import { commitMessage } from '../../src/ca/commit-message.js';
import { prepareIssue } from '../../src/ca/issuing/issue-certificate.js';
import { readCsr } from '../../src/ca/issuing/sign-csr.js';
import { loadIssuer } from '../../src/ca/load-issuer.js';
import { subjectAltNames } from '../../src/ca/names.js';
import { certPath, chainPath, recordPath } from '../../src/store/layout.js';
import { serializeRecord, type CertificateRecord } from '../../src/store/records.js';
import { commitCount, git, makeCa, openssl, readText, run, snapshot, tempDir } from '../helpers/cli.js';
import { verifyChain } from '../helpers/judge.js';
import { commitAcmePolicy } from '../helpers/acme.js';

const ACCOUNT = 'V7ZsAp3Zdr0iIJlVn8S8Ur5FQuJkrCqA3b3SFQ3zX2M';
const ask = async () => undefined;

/**
 * Issues a certificate the way the ACME server does: the CSR's key (made by OpenSSL; the key
 * stays with the client), signed by the intermediate through prepareIssue, written as
 * certs/acme-<serial>.crt and .chain.crt with a record that carries the account and the order, no
 * key file and no CSR file, in one commit.
 */
async function issueAsAcme(store: CaStore, work: string, dnsName: string, order: string): Promise<string> {
  const csrFile = join(work, `${order}.csr`);
  const made = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, `${order}.key`), '-subj', '/', '-addext', `subjectAltName=DNS:${dnsName}`, '-out', csrFile]);
  assert.equal(made.status, 0, made.stderr);
  const csr = await readCsr(readFileSync(csrFile), csrFile);
  return store.locked(async () => {
    const config = await loadConfig(store);
    const issuer = await loadIssuer(store, 'ca', ask, 'leaf');
    const prepared = await prepareIssue(store, config, issuer, {
      name: `acme-${order}`,
      subject: { CN: dnsName },
      sans: subjectAltNames(undefined, csr.sans.map((san) => `DNS:${san.value}`)),
      profile: 'server',
      key: csr.key,
      days: 30,
      existingKey: { publicKey: csr.publicKey, csrPem: csr.pem },
    });
    const name = `acme-${prepared.record.serial}`;
    const record: CertificateRecord = { ...prepared.record, name, acme: { account: ACCOUNT, order } };
    const message = commitMessage({ summary: `Issue ${name} over ACME`, commandLine: 'certified serve --acme-listen', details: prepared.details, trailers: { 'Certified-Action': 'acme-issue', 'Certified-Name': name } });
    await store.apply({
      message,
      writes: [
        { path: certPath(name), content: prepared.result.certificate.pem, commit: true },
        { path: chainPath(name), content: prepared.result.chainPem, commit: true },
        { path: recordPath(record.issuer, record.serial), content: serializeRecord(record), commit: true },
      ],
    });
    return name;
  });
}

describe('certificates issued over ACME in the CA', () => {
  let cwd: string;
  let db: string;
  let names: string[];

  before(async () => {
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    const work = tempDir();
    await makeCa(cwd);
    const store = openCaDirectory(db, { lockTimeoutMs: 10_000 });
    // Two valid certificates for one DNS name: their names differ, as clients renew before expiry.
    names = [await issueAsAcme(store, work, 'app.example.test', 'order-1'), await issueAsAcme(store, work, 'app.example.test', 'order-2')];
    await acmeServerCertificate(store, { name: 'acme.example.test', askPassword: ask, now: new Date(), commandLine: 'certified serve --acme-listen acme.example.test:14000' });
    commitAcmePolicy(db, 'acme:\n  allow: [.example.test]\n', 'Add the ACME policy');
  });

  it('has files of the acme-<serial> shape: no key, no CSR, a chain that verifies', () => {
    for (const name of names) {
      assert.match(name, /^acme-[0-9a-f]+$/);
      assert.equal(existsSync(join(db, `private/${name}.key`)), false);
      assert.equal(existsSync(join(db, `csr/${name}.csr`)), false);
      const verified = verifyChain(db, join(db, `certs/${name}.chain.crt`), 'sslserver');
      assert.equal(verified.status, 0, verified.stderr);
    }
  });

  it('ls shows them as ACME certificates, and --json carries the account and the order', async () => {
    const table = await run(['ls'], { cwd });
    assert.equal(table.code, 0, table.stderr);
    for (const name of names) assert.match(table.stdout, new RegExp(`^${name} +app\\.example\\.test +app\\.example\\.test +ca +\\S+ +\\S+ +valid \\(acme\\)$`, 'm'));
    assert.match(table.stdout, /^acme-server +acme\.example\.te\S* +acme\.example\.test +ca +\S+ +\S+ +valid$/m);
    const json = await run(['ls', '--json'], { cwd });
    assert.equal(json.code, 0, json.stderr);
    const listings = JSON.parse(json.stdout) as { name: string; profile: string; status: string; acme?: { account: string; order: string }; managed?: boolean }[];
    const acme = listings.filter((listing) => listing.acme);
    assert.deepEqual(
      acme.map(({ name, profile, status, acme: issued, managed }) => ({ name, profile, status, acme: issued, managed })),
      names.map((name, index) => ({ name, profile: 'server', status: 'valid', acme: { account: ACCOUNT, order: `order-${index + 1}` }, managed: undefined })).sort((a, b) => a.name.localeCompare(b.name)),
    );
    assert.equal(listings.find((listing) => listing.name === 'acme-server')?.acme, undefined);
  });

  it('check accepts them (and the ACME server\'s own certificate)', async () => {
    const checked = await run(['check'], { cwd });
    assert.equal(checked.stdout, '');
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stderr, /passes every check \(5 certificate\(s\), 5 record\(s\), 2 CRL\(s\)\)/);
  });

  it('check still expects their chain file, as for any leaf', async () => {
    const chain = join(db, `certs/${names[0]}.chain.crt`);
    const saved = readText(chain);
    try {
      rmSync(chain);
      const checked = await run(['check', '--json'], { cwd });
      assert.equal(checked.code, 1);
      const { findings } = JSON.parse(checked.stdout) as { findings: { path: string; code: string }[] };
      assert.deepEqual(findings.map(({ path, code }) => [path, code]), [[`certs/${names[0]}.chain.crt`, 'missing-chain']]);
    } finally {
      writeFileSync(chain, saved);
    }
  });

  it('plan and apply leave them alone: an acme:-only manifest has nothing to do', async () => {
    const before = snapshot(db);
    const plan = await run(['plan'], { cwd });
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(plan.stdout, '');
    assert.match(plan.stderr, /Nothing to do: the CA matches certificates\.yaml \(0 certificates\)\./);
    const applied = await run(['apply', '--yes', '--allow-revoke'], { cwd });
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(snapshot(db), before);
  });

  it('plan and apply manage their own entries beside them, and never revoke them', async () => {
    writeFileSync(join(db, 'certificates.yaml'), 'acme:\n  allow: [.example.test]\ncertificates:\n  web: { cn: web.example.test, profile: server }\n');
    git(db, ['commit', '-q', '-am', 'Manage web']);
    const plan = await run(['plan', '--json'], { cwd });
    assert.equal(plan.code, 2, plan.stderr);
    const actions = (JSON.parse(plan.stdout) as { actions: { action: string; name: string }[] }).actions;
    assert.deepEqual(actions.map(({ action, name }) => [action, name]), [['issue', 'web']]);
    const commits = commitCount(db);
    const applied = await run(['apply', '--yes', '--allow-revoke'], { cwd });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(commitCount(db), commits + 1);
    assert.deepEqual(git(db, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n').filter((path) => path.includes('acme-')), []);
    for (const name of names) assert.equal(existsSync(join(db, `certs/${name}.crt`)), true);
    const after = await run(['plan'], { cwd });
    assert.match(after.stderr, /Nothing to do: the CA matches certificates\.yaml \(1 certificate\)\./);
    const checked = await run(['check'], { cwd });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });
});

/**
 * The ACME server's view of the CA: the committed policy and the account records are read once
 * per change of the CA. Its own commits keep what they did not write; anyone else's commit (a
 * merged policy change, an account deactivated by hand) is seen at the next request.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { saveAccount, type AcmeAccount } from '../../src/ca/acme/accounts.js';
import { loadAcmeSigner } from '../../src/ca/acme/issue.js';
import { AcmeView } from '../../src/ca/acme/view.js';
import { initCa } from '../../src/ca/authorities/init-ca.js';
import { openCaDirectory, type CaStore } from '../../src/ca/ca-directory.js';

const ID = 'A'.repeat(43);
const account = (status: AcmeAccount['status']): AcmeAccount => ({ id: ID, jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }, contact: [], status, createdAt: '2026-01-01T00:00:00.000Z' });

describe('the ACME server’s view of the CA', () => {
  let dir: string;
  let db: string;
  let store: CaStore;
  const git = (...args: string[]) => execFileSync('git', ['-C', db, '-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { encoding: 'utf8' }).trim();
  const commitPolicy = (text: string) => {
    writeFileSync(join(db, 'certificates.yaml'), text);
    git('add', 'certificates.yaml');
    git('commit', '-q', '-m', 'ACME policy');
  };
  /** Past the time the view trusts its last look at HEAD. */
  const later = () => sleep(10);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certified-acme-view-'));
    db = join(dir, 'etc/ssl');
    store = openCaDirectory(db, { lockTimeoutMs: 10_000 });
    await initCa(store, { subject: { CN: 'View CA' }, key: { type: 'ecdsa', curve: 'P-256' }, days: 400, rootPassword: 'root password', commandLine: 'certified init' });
    commitPolicy('acme:\n  allow: [.example.test]\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('follows the committed policy, not the working tree', async () => {
    const view = new AcmeView(store);
    assert.deepEqual((await view.policy()).allow, ['.example.test']);
    writeFileSync(join(db, 'certificates.yaml'), 'acme:\n  allow: [.everything.test]\n');
    await later();
    assert.deepEqual((await view.policy()).allow, ['.example.test'], 'an edit not committed is not the policy');
    commitPolicy('acme:\n  allow: [.other.test]\n');
    await later();
    assert.deepEqual((await view.policy()).allow, ['.other.test'], 'a commit is the policy at the next request');
  });

  it('keeps an account across its own commits, and reads it again after anyone else’s', async () => {
    const view = new AcmeView(store);
    await saveAccount(store, account('valid'), 'create', 'certified serve');
    assert.equal((await view.account(ID))?.status, 'valid');
    // The server's own commit that changes the account: read again.
    await saveAccount(store, account('deactivated'), 'deactivate', 'certified serve');
    assert.equal((await view.account(ID))?.status, 'deactivated');
    await saveAccount(store, account('valid'), 'update', 'certified serve');
    assert.equal((await view.account(ID))?.status, 'valid');
    // Changed in the working tree without a commit: the kept record stands.
    writeFileSync(join(db, `acme/accounts/${ID}.json`), `${JSON.stringify(account('revoked'))}\n`);
    await later();
    assert.equal((await view.account(ID))?.status, 'valid');
    // Committed by someone else (an operator revoking it by hand): seen at the next request.
    git('commit', '-q', '-m', 'Revoke an ACME account by hand', '--', `acme/accounts/${ID}.json`);
    await later();
    assert.equal((await view.account(ID))?.status, 'revoked');
  });

  /** Runs `during` after the store's next change has written its files and before it commits. */
  function betweenWriteAndCommit(during: () => Promise<void> | void): () => void {
    const change = (store as unknown as { change: { writeFilesAndObjects: (...args: unknown[]) => Promise<void> } }).change;
    const original = change.writeFilesAndObjects.bind(change);
    change.writeFilesAndObjects = async (...args: unknown[]) => {
      await original(...args);
      await during();
    };
    return () => (change.writeFilesAndObjects = original);
  }

  it('sees a commit that lands while its own change is being written', async () => {
    commitPolicy('acme:\n  allow: [.example.test]\n');
    const view = new AcmeView(store);
    assert.deepEqual((await view.policy()).allow, ['.example.test']);
    await later();
    const restore = betweenWriteAndCommit(() => commitPolicy('acme:\n  allow: [.narrower.test]\n'));
    try {
      await saveAccount(store, account('valid'), 'update', 'certified serve');
    } finally {
      restore();
    }
    await later();
    assert.deepEqual((await view.policy()).allow, ['.narrower.test'], 'the policy as committed, not as the view last saw it');
  });

  it('forgets what a change that was rolled back wrote, even if a request read it meanwhile', async () => {
    await saveAccount(store, { ...account('valid'), contact: ['mailto:ops@example.test'] }, 'update', 'certified serve');
    const view = new AcmeView(store);
    assert.equal((await view.account(ID))?.status, 'valid');
    await later();
    const restore = betweenWriteAndCommit(async () => {
      // Another request reads the record while it is written and not committed (first evicted, as a long-running server may have)...
      (view as unknown as { accounts: Map<string, unknown> }).accounts.clear();
      assert.equal((await view.account(ID))?.status, 'deactivated');
      // ...and the commit fails.
      throw new Error('git commit failed');
    });
    try {
      await assert.rejects(saveAccount(store, account('deactivated'), 'deactivate', 'certified serve'));
    } finally {
      restore();
    }
    await later();
    assert.equal((await view.account(ID))?.status, 'valid');
  });

  it('keeps the signer loaded under the lock across its own ACME commits, and loads it again after any other commit', async () => {
    const view = new AcmeView(store);
    let loads = 0;
    const load = async () => ({ ...(await loadAcmeSigner(store, async () => undefined)), basis: `load ${++loads}` });
    // Without the lock another command may be halfway through a change: what is loaded then is
    // shared by those signing ahead of a commit, never used under the lock.
    const [first, second] = await Promise.all([view.signer(load), view.signer(load)]);
    assert.deepEqual([first.basis, second.basis], ['load 1', 'load 1']);
    assert.equal((await view.signer(load, { underLock: true })).basis, 'load 2');
    await later();
    assert.equal((await view.signer(load)).basis, 'load 2', 'the CA did not change');
    // The server's own commit of an ACME certificate, its chain and record: the signer stands.
    const serial = 'ab'.repeat(8);
    await store.apply({
      message: 'Issue acme-abab over ACME',
      writes: [`certs/acme-${serial}.crt`, `certs/acme-${serial}.chain.crt`, `records/ca/${serial}.json`].map((path) => ({ path, content: 'x\n', commit: true })),
    });
    await later();
    assert.equal((await view.signer(load, { underLock: true })).basis, 'load 2');
    // Its own commit of anything the signer is read from: loaded again.
    await store.apply({ message: 'Settings', writes: [{ path: 'certified.json', content: readFileSync(join(db, 'certified.json'), 'utf8'), commit: true }, { path: 'notes.txt', content: 'n\n', commit: true }] });
    assert.equal((await view.signer(load, { underLock: true })).basis, 'load 3');
    // Someone else's commit, whatever it touched: loaded again.
    writeFileSync(join(db, 'notes.txt'), 'other\n');
    git('commit', '-q', '-m', 'Notes by hand', '--', 'notes.txt');
    assert.equal((await view.signer(load, { underLock: true })).basis, 'load 4');
    // A load that fails is not kept.
    git('commit', '-q', '--allow-empty', '-m', 'Another');
    await assert.rejects(view.signer(async () => Promise.reject(new Error('no key')), { underLock: true }), /no key/);
    assert.equal((await view.signer(load, { underLock: true })).basis, 'load 5');
  });
});

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT_PASSWORD, git, makeCa, openssl, run, tempDir, tool } from '../helpers/cli.js';

const ROOT = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };

interface Entry {
  serial: string;
  date: string;
  reason: string;
}

/** The CRL's entries as OpenSSL reads them: serial (lower-case hex), revocation time (ISO, seconds), reason. */
/** The entries of `issuer`'s CRL; after a root rotation the old root keeps crl/root-ca.crl, where its certificates point. */
function crlEntries(db: string, issuer: string, file = issuer): Entry[] {
  const text = openssl(['crl', '-in', join(db, `crl/${file}.crl`), '-noout', '-text']).stdout;
  const blocks = text.split('Serial Number: ').slice(1);
  return blocks
    .map((block) => {
      const serial = (block.match(/^(\w+)/)?.[1] ?? '').toLowerCase();
      const date = new Date(Date.parse(block.match(/Revocation Date: (.+)\n/)?.[1] ?? '')).toISOString();
      const reason = block.match(/CRL Reason Code: \n\s*(.+)\n/)?.[1]?.trim() ?? 'Unspecified';
      return { serial, date, reason };
    })
    .sort((a, b) => (a.serial < b.serial ? -1 : 1));
}

const OPENSSL_REASONS: Record<string, string> = {
  unspecified: 'Unspecified',
  keyCompromise: 'Key Compromise',
  superseded: 'Superseded',
  cessationOfOperation: 'Cessation Of Operation',
  affiliationChanged: 'Affiliation Changed',
};

interface RecordFile {
  name: string;
  serial: string;
  status: string;
  profile: string;
  revocation?: { date: string; reason: string };
}

function records(db: string, issuer: string): RecordFile[] {
  const dir = join(db, 'records', issuer);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as RecordFile);
}

/** What every record of `issuer` says its CRL must list: each revoked record (not a CA's own), at its date (to the second) and reason. */
function expectedEntries(db: string, issuer: string): Entry[] {
  return records(db, issuer)
    .filter((record) => record.status === 'revoked' && record.revocation)
    .map((record) => ({
      serial: record.serial,
      date: new Date(Math.floor(Date.parse(record.revocation!.date) / 1000) * 1000).toISOString(),
      reason: OPENSSL_REASONS[record.revocation!.reason] ?? record.revocation!.reason,
    }))
    .sort((a, b) => (a.serial < b.serial ? -1 : 1));
}

function indexOf(db: string, issuer: string): string[] {
  const dir = join(db, 'revoked-index', issuer);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

const revokedSerials = (db: string, issuer: string): string[] =>
  records(db, issuer)
    .filter((record) => record.status === 'revoked')
    .map((record) => record.serial)
    .sort();

async function ok(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await run(args, { cwd, env });
  assert.equal(result.code, 0, `certified ${args.join(' ')}: ${result.stderr}`);
  return result.stdout + result.stderr;
}

async function checkFindings(cwd: string): Promise<string> {
  const result = await run(['check'], { cwd });
  return result.code === 0 ? '' : result.stdout + result.stderr;
}

function serialOfName(db: string, name: string): string {
  return openssl(['x509', '-in', join(db, `certs/${name}.crt`), '-noout', '-serial']).stdout.trim().replace(/^serial=/, '').toLowerCase();
}

async function caWithRevocations(): Promise<{ cwd: string; db: string }> {
  const cwd = tempDir();
  const db = join(cwd, 'etc/ssl');
  await makeCa(cwd);
  for (const cn of ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com']) await ok(cwd, [`CN=${cn}`]);
  await ok(cwd, ['--revoke', '--reason', 'keyCompromise', 'CN=a.example.com']);
  await ok(cwd, ['revoke', '--yes', '--name', 'b.example.com']);
  return { cwd, db };
}

describe('the index of revoked certificates', () => {
  it('revoke, renew and a revoked sub-CA keep it; each CRL lists exactly the revoked records, and check passes', async () => {
    const { cwd, db } = await caWithRevocations();
    assert.ok(existsSync(join(db, 'revoked-index/.complete')), 'a new CA keeps the index from the start');
    await ok(cwd, ['renew', '--name', 'c.example.com']);
    await ok(cwd, ['init', '--issuer', 'ca', 'CN=Team CA']);
    await ok(cwd, ['issue', '--issuer', 'team-ca', 'CN=t1.example.com']);
    await ok(cwd, ['issue', '--issuer', 'team-ca', 'CN=t2.example.com']);
    await ok(cwd, ['revoke', '--yes', '--reason', 'cessationOfOperation', '--name', 't1.example.com']);
    assert.deepEqual(crlEntries(db, 'team-ca'), expectedEntries(db, 'team-ca'));
    await ok(cwd, ['revoke', '--yes', '--reason', 'affiliationChanged', '--name', 'team-ca']);
    // Below a revoked CA: the record and the index change, no CRL.
    await ok(cwd, ['revoke', '--yes', '--name', 't2.example.com']);

    // apply revokes what left the manifest.
    writeFileSync(join(db, 'certificates.yaml'), 'certificates:\n  m1.example.com: { cn: m1.example.com }\n  m2.example.com: { cn: m2.example.com }\n');
    await ok(cwd, ['apply', '--yes']);
    writeFileSync(join(db, 'certificates.yaml'), 'certificates:\n  m1.example.com: { cn: m1.example.com }\n');
    await ok(cwd, ['apply', '--yes', '--allow-revoke']);

    for (const issuer of ['ca', 'team-ca']) assert.deepEqual(indexOf(db, issuer), revokedSerials(db, issuer), issuer);
    assert.equal(indexOf(db, 'ca').length, 5, 'a, b, the renewed c, team-ca and m2');
    assert.equal(indexOf(db, 'team-ca').length, 2);
    assert.deepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'));
    await ok(cwd, ['crl'], ROOT);
    assert.deepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'));
    assert.equal(await checkFindings(cwd), '');
  });

  it('a CA made before the index reads every record once and gets the whole index with that CRL', async () => {
    const { cwd, db } = await caWithRevocations();
    git(db, ['rm', '-q', '-r', 'revoked-index']);
    git(db, ['commit', '-q', '-m', 'A CA from before the index']);
    // Revoked as an older certified or a script would: the record alone, the CRL not re-signed.
    const serial = serialOfName(db, 'c.example.com');
    const path = join(db, `records/ca/${serial}.json`);
    const record = JSON.parse(readFileSync(path, 'utf8')) as RecordFile;
    writeFileSync(path, `${JSON.stringify({ ...record, status: 'revoked', revocation: { date: '2026-01-02T03:04:05.000Z', reason: 'superseded' } }, null, 2)}\n`);
    git(db, ['commit', '-q', '-a', '-m', 'Revoke c by its record']);
    assert.doesNotMatch(await checkFindings(cwd), /revoked-index/, 'without the index, nothing to say about it');

    await ok(cwd, ['--revoke', 'CN=d.example.com']);
    assert.ok(existsSync(join(db, 'revoked-index/.complete')));
    assert.deepEqual(indexOf(db, 'ca'), revokedSerials(db, 'ca'));
    assert.equal(indexOf(db, 'ca').length, 4);
    assert.deepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'));
    assert.ok(crlEntries(db, 'ca').some((entry) => entry.serial === serial && entry.date === '2026-01-02T03:04:05.000Z' && entry.reason === 'Superseded'));
    assert.equal(git(db, ['status', '--porcelain']), '');
  });

  it('check finds a missing or an extra entry, and its fix rebuilds the index; a CRL never drops a serial it listed', async () => {
    const { cwd, db } = await caWithRevocations();
    const [first, second] = indexOf(db, 'ca');
    assert.ok(first && second);
    git(db, ['rm', '-q', `revoked-index/ca/${first}`]);
    writeFileSync(join(db, 'revoked-index/ca/0badc0de'), '');
    git(db, ['add', 'revoked-index/ca/0badc0de']);
    git(db, ['commit', '-q', '-m', 'Tamper with the index']);

    const findings = await checkFindings(cwd);
    assert.match(findings, new RegExp(`revoked-index/ca/${first}: missing: the revoked record records/ca/${first}\\.json is not in the index.*\\[revoked-index\\]`));
    assert.match(findings, /revoked-index\/ca\/0badc0de: lists serial 0badc0de, which has no revoked record in records\/ca\/.*\[revoked-index\]/);
    assert.match(findings, /git rm -q revoked-index\/\.complete", then "certified crl"/);

    // A revocation the index does not list (as one merged in from a certified without the index)
    // stays on the CRL, since the current CRL lists it; its entry is written back.
    await ok(cwd, ['crl'], ROOT);
    assert.deepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'));
    assert.ok(indexOf(db, 'ca').includes(first));

    git(db, ['rm', '-q', 'revoked-index/.complete']);
    git(db, ['commit', '-q', '-m', 'Rebuild the index']);
    await ok(cwd, ['crl'], ROOT);
    assert.deepEqual(indexOf(db, 'ca'), revokedSerials(db, 'ca'));
    assert.deepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'));
    assert.equal(await checkFindings(cwd), '');
  });

  it('two branches that each revoked one merge; "certified crl" resolves the CRL conflict and lists both', async () => {
    const { cwd, db } = await caWithRevocations();
    git(db, ['config', 'user.name', 'Tester']);
    git(db, ['config', 'user.email', 'tester@example.com']);
    await ok(cwd, ['CN=e.example.com']);
    const main = git(db, ['rev-parse', '--abbrev-ref', 'HEAD']).trim();
    git(db, ['checkout', '-q', '-b', 'other']);
    await ok(cwd, ['--revoke', 'CN=c.example.com']);
    git(db, ['checkout', '-q', main]);
    await ok(cwd, ['--revoke', '--reason', 'superseded', 'CN=d.example.com']);
    const head = git(db, ['rev-parse', 'HEAD']).trim();
    // Without the merge driver (a driver that fails): a conflict on the CRL, which "certified crl" resolves.
    const merge = tool('git', ['-C', db, '-c', 'merge.certified-crl.driver=false', 'merge', '--no-edit', 'other']);
    assert.notEqual(merge.status, 0);
    assert.equal(git(db, ['diff', '--name-only', '--diff-filter=U']).trim(), 'crl/ca.crl');
    await ok(cwd, ['crl'], ROOT);
    git(db, ['commit', '-q', '--no-edit']);
    assert.equal(indexOf(db, 'ca').length, 4);
    assert.deepEqual(indexOf(db, 'ca'), revokedSerials(db, 'ca'));
    assert.deepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'));
    assert.equal(await checkFindings(cwd), '');

    // With the driver, which keeps one side's CRL: the next "certified crl" lists both from the merged index.
    git(db, ['reset', '-q', '--hard', head]);
    const driven = tool('git', ['-C', db, '-c', 'merge.certified-crl.driver=true', 'merge', '--no-edit', 'other']);
    assert.equal(driven.status, 0, driven.stdout + driven.stderr);
    assert.notDeepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'), 'one side\'s CRL lacks the other\'s revocation');
    await ok(cwd, ['crl'], ROOT);
    assert.deepEqual(indexOf(db, 'ca'), revokedSerials(db, 'ca'));
    assert.deepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'));
    assert.equal(await checkFindings(cwd), '');

    // The other branch revoked as a certified without the index does (no entry), and the driver
    // kept this side's CRL: "certified crl" still finds that revocation (its files in revoked/).
    git(db, ['reset', '-q', '--hard', head]);
    git(db, ['checkout', '-q', 'other']);
    const serial = serialOfName(db, 'e.example.com');
    await ok(cwd, ['--revoke', 'CN=e.example.com']);
    git(db, ['rm', '-q', `revoked-index/ca/${serial}`]);
    git(db, ['commit', '-q', '--amend', '--no-edit']);
    git(db, ['checkout', '-q', main]);
    const older = tool('git', ['-C', db, '-c', 'merge.certified-crl.driver=true', 'merge', '--no-edit', 'other']);
    assert.equal(older.status, 0, older.stdout + older.stderr);
    assert.ok(!crlEntries(db, 'ca').some((entry) => entry.serial === serial));
    await ok(cwd, ['crl'], ROOT);
    assert.deepEqual(crlEntries(db, 'ca'), expectedEntries(db, 'ca'));
    assert.ok(indexOf(db, 'ca').includes(serial), 'its entry is written');
    assert.equal(await checkFindings(cwd), '');
  });

  it('rotate-root moves the old root\'s entries with its records to root-ca.old', async () => {
    const cwd = tempDir();
    const db = join(cwd, 'etc/ssl');
    await makeCa(cwd);
    await ok(cwd, ['init', '--issuer', 'root-ca', 'CN=Other CA'], ROOT);
    await ok(cwd, ['revoke', '--yes', '--name', 'other-ca'], ROOT);
    assert.deepEqual(indexOf(db, 'root-ca'), revokedSerials(db, 'root-ca'));
    assert.equal(indexOf(db, 'root-ca').length, 1);
    await ok(cwd, ['rotate-root'], { ...ROOT, CERTIFIED_NEW_ROOT_PASSWORD: 'new root password' });
    assert.deepEqual(indexOf(db, 'root-ca'), []);
    assert.deepEqual(indexOf(db, 'root-ca.old'), revokedSerials(db, 'root-ca.old'));
    assert.equal(indexOf(db, 'root-ca.old').length, 1);
    assert.deepEqual(crlEntries(db, 'root-ca.old', 'root-ca'), expectedEntries(db, 'root-ca.old'));
    assert.equal(await checkFindings(cwd), '');
  });
});

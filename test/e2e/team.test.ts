import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { BIN, baseEnv, commitCount, git, makeCa, openssl, run, tempDir, tool } from '../helpers/cli.js';
import { crlNumber, crlText, serialOf, verifyWithCrls } from '../helpers/lifecycle.js';

/** A clone of the CA repository at `origin`, as a teammate makes it. */
function cloneCa(origin: string, into: string, name = 'company-ca'): string {
  git(into, ['clone', '-q', origin, name]);
  const dir = join(into, name);
  git(dir, ['config', 'user.name', 'Teammate']);
  git(dir, ['config', 'user.email', 'teammate@example.com']);
  return dir;
}

describe('a clone of the CA is found the way git finds a repository', () => {
  let clone: string;
  before(async () => {
    const cwd = tempDir();
    await makeCa(cwd, ['--intermediate-password', 'intermediate password']);
    clone = cloneCa(join(cwd, 'etc/ssl'), tempDir());
  });

  it('works from the root of a clone and from any folder inside it, with no etc/ssl made', async () => {
    for (const cwd of [clone, join(clone, 'certs'), join(clone, 'records', 'root-ca')]) {
      const result = await run(['ls', '--json'], { cwd });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).some((row: { name: string }) => row.name === 'ca'), true);
      assert.equal(existsSync(join(cwd, 'etc')), false);
    }
  });

  it('issues into the clone it stands in, and git-setup needs no --db', async () => {
    const before = commitCount(clone);
    const issued = await run(['CN=from-a-clone.example.com'], { cwd: join(clone, 'certs'), env: { CERTIFIED_CA_PASSWORD: 'intermediate password' } });
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal(existsSync(join(clone, 'certs/from-a-clone.example.com.crt')), true);
    assert.equal(commitCount(clone), before + 1);
    const setup = await run(['git-setup'], { cwd: clone });
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(git(clone, ['config', 'diff.certified.textconv']), /certified-textconv['"]?\n/);
  });

  it('refuses to make a second CA inside the one it found, naming it', async () => {
    const before = commitCount(clone);
    const result = await run(['--ca', 'CN=Second CA'], { cwd: join(clone, 'certs'), env: { CERTIFIED_ROOT_PASSWORD: 'root password for tests' } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`a CA already exists in "${clone.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    assert.equal(commitCount(clone), before);
    assert.equal(existsSync(join(clone, 'certs/etc')), false);
  });

  it('still makes a new CA in etc/ssl where no CA is found, and --db still wins', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    assert.equal(existsSync(join(cwd, 'etc/ssl/certified.json')), true);
    const elsewhere = await run(['ls', '--db', join(cwd, 'etc/ssl'), '--json'], { cwd: clone });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.equal(JSON.parse(elsewhere.stdout).some((row: { name: string }) => row.name === 'from-a-clone.example.com'), false);
  });
});

const CA_PASSWORD = 'intermediate password';
// The intermediate key and leaf keys are encrypted, so they are committed and every clone can issue and revoke.
const TEAM_ENV = { CERTIFIED_CA_PASSWORD: CA_PASSWORD, CERTIFIED_PASSWORD: 'leaf key password' };

/** A team: the CA pushed to a bare repository, and clones of it. */
async function makeTeam(): Promise<{ remote: string; clone: (name: string) => string }> {
  const cwd = tempDir();
  await makeCa(cwd, ['--intermediate-password', CA_PASSWORD]);
  const remote = join(tempDir(), 'ca.git');
  git(cwd, ['clone', '-q', '--bare', join(cwd, 'etc/ssl'), remote]);
  const home = tempDir();
  return { remote, clone: (name) => cloneCa(remote, home, name) };
}

async function certified(dir: string, args: string[]): Promise<string> {
  const result = await run(args, { cwd: dir, env: TEAM_ENV });
  assert.equal(result.code, 0, `certified ${args.join(' ')}: ${result.stderr}`);
  return result.stderr;
}

/** As `certified`, with no password in the environment: keys stay unencrypted. */
async function certifiedPlain(dir: string, args: string[]): Promise<string> {
  const result = await run(args, { cwd: dir });
  assert.equal(result.code, 0, `certified ${args.join(' ')}: ${result.stderr}`);
  return result.stderr;
}

/** check passes, and OpenSSL agrees with every record's status under -crl_check_all. */
async function assertConsistent(dir: string, revoked: string[], valid: string[]): Promise<void> {
  const check = await run(['check'], { cwd: dir });
  assert.equal(check.code, 0, `check: ${check.stdout}${check.stderr}`);
  for (const name of valid) {
    const verdict = verifyWithCrls(dir, join(dir, 'certs/ca.crt'), join(dir, `certs/${name}.crt`));
    assert.equal(verdict.ok, true, `${name} should verify: ${verdict.output}`);
  }
  for (const file of revoked) {
    const verdict = verifyWithCrls(dir, join(dir, 'certs/ca.crt'), file);
    assert.equal(verdict.ok, false, `${file} should be refused as revoked`);
    assert.match(verdict.output, /certificate revoked/);
  }
}

/** The revoked copy of `name` (its files move to revoked/NAME-SERIAL/). */
function revokedCopy(dir: string, name: string, serial: string): string {
  return join(dir, 'revoked', `${name}-${serial}`, `${name}.crt`);
}

/** Alice issues one, two and three and pushes; Bob clones after her: the serials of one and two. */
async function aliceAndBob(): Promise<{ alice: string; bob: string; serials: Record<string, string> }> {
  const team = await makeTeam();
  const alice = team.clone('alice');
  for (const name of ['one', 'two', 'three']) await certified(alice, [`CN=${name}.example.com`]);
  git(alice, ['push', '-q', 'origin', 'HEAD']);
  const bob = team.clone('bob');
  const serials = Object.fromEntries(['one', 'two'].map((name) => [name, serialOf(join(alice, `certs/${name}.example.com.crt`))]));
  return { alice, bob, serials };
}

describe('branches that revoke merge into CRLs that list every revocation, numbered past both sides', () => {
  it('a conflicting merge without git-setup: "certified crl" resolves the CRL conflict, "git commit" finishes', async () => {
    const { alice, bob, serials } = await aliceAndBob();

    git(bob, ['checkout', '-q', '-b', 'revoke-two']);
    await certified(bob, ['--revoke', 'CN=two.example.com']);
    const bobNumber = crlNumber(join(bob, 'crl/ca.crl'));
    await certified(alice, ['--revoke', '--reason', 'keyCompromise', 'CN=one.example.com']);
    const aliceNumber = crlNumber(join(alice, 'crl/ca.crl'));
    git(alice, ['push', '-q', 'origin', 'HEAD']);

    git(bob, ['fetch', '-q', 'origin']);
    const merge = tool('git', ['-C', bob, 'merge', '--no-edit', 'origin/HEAD']);
    assert.notEqual(merge.status, 0, 'both branches rewrote crl/ca.crl: git cannot merge it alone');
    assert.deepEqual(git(bob, ['diff', '--name-only', '--diff-filter=U']).trim().split('\n'), ['crl/ca.crl']);

    const refused = await run(['CN=during-merge.example.com'], { cwd: bob, env: TEAM_ENV });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^certified: a git merge is under way in the repository of ".+", so nothing was changed\. Finish the merge first/m);

    // A "certified crl" killed after staging is rolled back to the conflict, not to our side of it.
    for (const step of ['after-writes', 'after-commit-before-journal-clear']) {
      const killed = await run(['crl'], { cwd: bob, env: { ...TEAM_ENV, CERTIFIED_TEST_CRASH_AT: step } });
      assert.notEqual(killed.code, 0);
      const recovered = await run(['crl', '--dry-run'], { cwd: bob, env: TEAM_ENV });
      assert.equal(recovered.code, 0, recovered.stderr);
      assert.match(recovered.stderr, /it has been rolled back/);
      assert.deepEqual(git(bob, ['diff', '--name-only', '--diff-filter=U']).trim().split('\n'), ['crl/ca.crl'], `in conflict again after a crash ${step}`);
    }

    const resolved = await certified(bob, ['crl']);
    assert.match(resolved, /staged for the merge under way: finish it with "git commit"/);
    assert.equal(git(bob, ['diff', '--name-only', '--diff-filter=U']).trim(), '');
    git(bob, ['commit', '-q', '--no-edit']);
    assert.ok(crlNumber(join(bob, 'crl/ca.crl')) > Math.max(aliceNumber, bobNumber));
    await assertConsistent(
      bob,
      [revokedCopy(bob, 'one.example.com', serials.one!), revokedCopy(bob, 'two.example.com', serials.two!)],
      ['three.example.com'],
    );
  });

  it('a "git pull --rebase" without git-setup stops on the CRL: "certified crl" resolves it, "git rebase --continue" finishes', async () => {
    const { alice, bob, serials } = await aliceAndBob();
    await certified(bob, ['--revoke', 'CN=two.example.com']);
    await certified(alice, ['--revoke', 'CN=one.example.com']);
    const aliceNumber = crlNumber(join(alice, 'crl/ca.crl'));
    git(alice, ['push', '-q', 'origin', 'HEAD']);

    const pull = tool('git', ['-C', bob, 'pull', '--rebase', 'origin', 'HEAD']);
    assert.notEqual(pull.status, 0, 'both sides rewrote crl/ca.crl: the rebase stops on it');
    assert.deepEqual(git(bob, ['diff', '--name-only', '--diff-filter=U']).trim().split('\n'), ['crl/ca.crl']);
    const resolved = await certified(bob, ['crl']);
    assert.match(resolved, /staged for the rebase under way: finish it with "git rebase --continue"/);
    assert.equal(git(bob, ['diff', '--name-only', '--diff-filter=U']).trim(), '');
    const done = tool('git', ['-C', bob, '-c', 'core.editor=true', 'rebase', '--continue']);
    assert.equal(done.status, 0, done.stdout + done.stderr);
    assert.ok(crlNumber(join(bob, 'crl/ca.crl')) > aliceNumber);
    await assertConsistent(
      bob,
      [revokedCopy(bob, 'one.example.com', serials.one!), revokedCopy(bob, 'two.example.com', serials.two!)],
      ['three.example.com'],
    );
  });

  it('a "git merge --squash" stopped on the CRL: "certified crl" stages the CRL for the squash commit and commits nothing', async () => {
    const { alice, bob, serials } = await aliceAndBob();
    await certified(bob, ['--revoke', 'CN=two.example.com']);
    await certified(alice, ['--revoke', 'CN=one.example.com']);
    git(alice, ['push', '-q', 'origin', 'HEAD']);
    git(bob, ['fetch', '-q', 'origin']);

    const squash = tool('git', ['-C', bob, 'merge', '--squash', 'FETCH_HEAD']);
    assert.notEqual(squash.status, 0, 'both sides rewrote crl/ca.crl: the squash stops on it');
    const head = git(bob, ['rev-parse', 'HEAD']);
    const resolved = await certified(bob, ['crl']);
    assert.match(resolved, /staged for the merge --squash under way: finish it with "git commit"/);
    assert.equal(git(bob, ['rev-parse', 'HEAD']), head, 'nothing is committed before the squash commit');
    assert.equal(git(bob, ['diff', '--name-only', '--diff-filter=U']).trim(), '');
    const refused = await run(['CN=four.example.com'], { cwd: bob, env: TEAM_ENV });
    assert.equal(refused.code, 1, 'no other change goes into the squash commit');
    assert.match(refused.stderr, /a git merge --squash is under way.*"git commit".*No squash under way\? Then git left \.git\/SQUASH_MSG behind/s);
    git(bob, ['commit', '-q', '-m', 'Squash alice\'s revocation']);
    await assertConsistent(
      bob,
      [revokedCopy(bob, 'one.example.com', serials.one!), revokedCopy(bob, 'two.example.com', serials.two!)],
      ['three.example.com'],
    );
  });

  it('a "git revert" of a revocation stopped on the CRL: "certified crl" refuses to drop the revoked serial', async () => {
    const { bob, serials } = await aliceAndBob();
    await certified(bob, ['--revoke', 'CN=one.example.com']);
    const revocation = git(bob, ['rev-parse', 'HEAD']).trim();
    await certified(bob, ['crl']);
    const reverted = tool('git', ['-C', bob, 'revert', '--no-edit', revocation]);
    assert.notEqual(reverted.status, 0, 'the CRL changed since the revocation: the revert stops on it');
    assert.deepEqual(git(bob, ['diff', '--name-only', '--diff-filter=U']).trim().split('\n'), ['crl/ca.crl']);
    const head = git(bob, ['rev-parse', 'HEAD']);
    const refused = await run(['crl'], { cwd: bob, env: TEAM_ENV });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`^certified: the revert makes a certificate of "ca" valid again that a side's CRL lists as revoked \\(serial ${serials.one!}\\): a revocation cannot be undone\\. Keep its record revoked`));
    assert.equal(git(bob, ['rev-parse', 'HEAD']), head);
    assert.deepEqual(git(bob, ['diff', '--name-only', '--diff-filter=U']).trim().split('\n'), ['crl/ca.crl'], 'still in conflict, as git left it');
  });

  it('a merge with the CRL merge driver of git-setup completes; one "certified crl" then lists both sides', async () => {
    const team = await makeTeam();
    const alice = team.clone('alice');
    for (const name of ['one', 'two']) await certified(alice, [`CN=${name}.example.com`]);
    git(alice, ['push', '-q', 'origin', 'HEAD']);
    const bob = team.clone('bob');
    await certified(bob, ['git-setup']);
    const serials = Object.fromEntries(['one', 'two'].map((name) => [name, serialOf(join(alice, `certs/${name}.example.com.crt`))]));

    git(bob, ['checkout', '-q', '-b', 'revoke-two']);
    await certified(bob, ['--revoke', 'CN=two.example.com']);
    const bobNumber = crlNumber(join(bob, 'crl/ca.crl'));
    // Alice's side ends with the higher number (revoked, then re-signed once more).
    await certified(alice, ['--revoke', 'CN=one.example.com']);
    await certified(alice, ['crl']);
    const aliceNumber = crlNumber(join(alice, 'crl/ca.crl'));
    assert.ok(aliceNumber > bobNumber);
    git(alice, ['push', '-q', 'origin', 'HEAD']);
    git(bob, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'HEAD']);
    assert.equal(crlNumber(join(bob, 'crl/ca.crl')), aliceNumber, 'the merge driver kept the higher-numbered side');

    await certified(bob, ['crl']);
    assert.ok(crlNumber(join(bob, 'crl/ca.crl')) > Math.max(aliceNumber, bobNumber));
    await assertConsistent(bob, [revokedCopy(bob, 'one.example.com', serials.one!), revokedCopy(bob, 'two.example.com', serials.two!)], []);
  });
});

describe('a team of three clones, merging in every way', () => {
  it('fast-forward, merge commit and conflict: after each, at most "certified crl", then check and OpenSSL agree', async () => {
    const team = await makeTeam();
    const alice = team.clone('alice');
    await certified(alice, ['git-setup']);
    for (const name of ['a', 'b', 'c']) await certified(alice, [`CN=${name}.example.com`]);
    git(alice, ['push', '-q', 'origin', 'HEAD']);
    const bob = team.clone('bob');
    await certified(bob, ['git-setup']);
    const carol = team.clone('carol'); // no git-setup
    const serial = (dir: string, name: string) => serialOf(join(dir, `certs/${name}.example.com.crt`));
    const published: number[] = [];
    const publish = (dir: string) => published.push(crlNumber(join(dir, 'crl/ca.crl')));
    const assertPastPublished = (dir: string) => assert.ok(crlNumber(join(dir, 'crl/ca.crl')) > Math.max(...published), 'numbered past every CRL published before');

    // Bob renews a on a branch; Carol revokes b on main.
    const oldA = serial(alice, 'a');
    const oldB = serial(alice, 'b');
    git(bob, ['checkout', '-q', '-b', 'renew-a']);
    await certified(bob, ['renew', 'CN=a.example.com']);
    publish(bob);
    git(bob, ['push', '-q', 'origin', 'renew-a']);
    await certified(carol, ['revoke', 'CN=b.example.com']);
    publish(carol);
    git(carol, ['push', '-q', 'origin', 'HEAD']);

    // Alice fast-forwards to main: nothing to run.
    git(alice, ['pull', '-q', '--ff-only', 'origin', 'HEAD']);
    await assertConsistent(alice, [revokedCopy(alice, 'b.example.com', oldB)], ['a.example.com', 'c.example.com']);

    // Alice merges Bob's branch (a merge commit; the driver keeps the newer CRL), then one "certified crl".
    git(alice, ['fetch', '-q', 'origin']);
    git(alice, ['merge', '-q', '--no-edit', 'origin/renew-a']);
    await certified(alice, ['crl']);
    assertPastPublished(alice);
    publish(alice);
    await assertConsistent(alice, [revokedCopy(alice, 'a.example.com', oldA), revokedCopy(alice, 'b.example.com', oldB)], ['a.example.com', 'c.example.com']);
    git(alice, ['push', '-q', 'origin', 'HEAD']);

    // Carol, without git-setup, revokes c and merges: a conflict on the CRL that "certified crl" resolves.
    await certified(carol, ['revoke', 'CN=c.example.com']);
    publish(carol);
    const oldC = serial(alice, 'c');
    git(carol, ['fetch', '-q', 'origin']);
    assert.notEqual(tool('git', ['-C', carol, 'merge', '--no-edit', 'origin/HEAD']).status, 0);
    await certified(carol, ['crl']);
    git(carol, ['commit', '-q', '--no-edit']);
    assertPastPublished(carol);
    await assertConsistent(
      carol,
      [revokedCopy(carol, 'a.example.com', oldA), revokedCopy(carol, 'b.example.com', oldB), revokedCopy(carol, 'c.example.com', oldC)],
      ['a.example.com'],
    );
  });
});

describe('a branch that revokes the last certificate of csr/ merges with one that issues', () => {
  it('the new request stays in csr/: git does not take the revocation for a renamed folder', async () => {
    const team = await makeTeam();
    const alice = team.clone('alice');
    await certified(alice, ['CN=first.example.com']);
    git(alice, ['push', '-q', 'origin', 'HEAD']);
    const bob = team.clone('bob');
    git(bob, ['checkout', '-q', '-b', 'second']);
    await certified(bob, ['CN=second.example.com']);
    await certified(alice, ['revoke', '--yes', 'CN=first.example.com']);
    git(alice, ['push', '-q', 'origin', 'HEAD']);
    git(bob, ['fetch', '-q', 'origin']);
    const merge = tool('git', ['-C', bob, 'merge', '--no-edit', 'origin/HEAD']);
    assert.equal(merge.status, 0, merge.stdout + merge.stderr);
    assert.equal(existsSync(join(bob, 'csr/second.example.com.csr')), true);
    await certified(bob, ['crl']);
    assert.equal((await run(['check'], { cwd: bob })).code, 0);
  });
});

describe('check finds what branches leave behind', () => {
  it('reports two valid records for one name, left by merging two branches that issued it, naming both serials', async () => {
    const team = await makeTeam();
    const alice = team.clone('alice');
    const bob = team.clone('bob');
    git(bob, ['checkout', '-q', '-b', 'web']);
    await certified(bob, ['CN=web.example.com']);
    await certified(alice, ['CN=web.example.com']);
    git(alice, ['push', '-q', 'origin', 'HEAD']);
    const kept = serialOf(join(alice, 'certs/web.example.com.crt'));
    const spare = serialOf(join(bob, 'certs/web.example.com.crt'));
    git(bob, ['fetch', '-q', 'origin']);
    assert.notEqual(tool('git', ['-C', bob, 'merge', '--no-edit', 'origin/HEAD']).status, 0);
    git(bob, ['checkout', '--theirs', '--', 'certs', 'private', 'csr']);
    git(bob, ['add', 'certs', 'private', 'csr']);
    git(bob, ['commit', '-q', '--no-edit']);

    const check = await run(['check'], { cwd: bob });
    assert.equal(check.code, 1);
    const lines = check.stdout.trim().split('\n');
    assert.deepEqual(lines, [
      `certs/web.example.com.crt: 2 valid records name "web.example.com" (serials ${[`${kept} (in certs/)`, spare].sort((a, b) => (a < b ? -1 : 1)).join(', ')}), as after a merge of two branches that issued it: revoke the one not in use with "certified revoke --serial ${spare}" [duplicate-name]`,
    ]);

    const before = commitCount(bob);
    const revoked = await run(['revoke', '--serial', spare], { cwd: bob, env: TEAM_ENV });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stderr, /Only its record changed: "certs\/web\.example\.com\.crt" is another certificate, which stays/);
    assert.equal(commitCount(bob), before + 1);
    assert.equal(serialOf(join(bob, 'certs/web.example.com.crt')), kept);
    assert.match(crlText(join(bob, 'crl/ca.crl')), new RegExp(`Serial Number: ${spare.toUpperCase()}`));
    await assertConsistent(bob, [], ['web.example.com']);
    const again = await run(['revoke', '--serial', spare], { cwd: bob, env: TEAM_ENV });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /was already revoked/);
    const bad = await run(['revoke', '--serial', '../../etc'], { cwd: bob, env: TEAM_ENV });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^certified: --serial must be hexadecimal/);
  });

  it('reports an unencrypted key that no certificate of this branch uses, and one that is not its certificate\'s', async () => {
    const team = await makeTeam();
    const alice = team.clone('alice');
    git(alice, ['checkout', '-q', '-b', 'feature']);
    const unencrypted = await run(['CN=left.example.com'], { cwd: alice, env: { CERTIFIED_CA_PASSWORD: CA_PASSWORD } });
    assert.equal(unencrypted.code, 0, unencrypted.stderr);
    git(alice, ['checkout', '-q', '-']);
    assert.equal(existsSync(join(alice, 'private/left.example.com.key')), true, 'git ignores the key, so it stays');
    const orphan = await run(['check'], { cwd: alice });
    assert.equal(orphan.code, 1);
    assert.match(orphan.stdout, /^private\/left\.example\.com\.key: no certificate of this branch uses this key \(there is no "certs\/left\.example\.com\.crt"\); .* \[orphan-key\]$/m);
    const over = await run(['CN=left.example.com'], { cwd: alice, env: { CERTIFIED_CA_PASSWORD: CA_PASSWORD } });
    assert.equal(over.code, 1);
    assert.match(over.stderr, /^certified: "private\/left\.example\.com\.key" is a key that no certificate or request of this branch uses \(git ignores it, so it stays when you switch branches\)\. Nothing was changed\. If it belongs to another branch, switch to that branch/);

    const other = await run(['CN=other.example.com'], { cwd: alice, env: { CERTIFIED_CA_PASSWORD: CA_PASSWORD } });
    assert.equal(other.code, 0, other.stderr);
    renameSync(join(alice, 'private/left.example.com.key'), join(alice, 'private/other.example.com.key'));
    const mismatch = await run(['check'], { cwd: alice });
    assert.equal(mismatch.code, 1);
    assert.deepEqual(mismatch.stdout.trim().split('\n').map((line) => line.replace(/:.*\[/, ' [')), ['private/other.example.com.key [key-mismatch]']);
  });
});

describe('revoking a CA marks what it issued', () => {
  it('a revoked sub-CA: its leaves are issuer-revoked in ls, and check reports each once with the fix', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    await certifiedPlain(cwd, ['--ca', '--issuer', 'ca', 'CN=Team CA']);
    for (const name of ['a', 'b']) await certifiedPlain(cwd, ['--issuer', 'team-ca', `CN=${name}.example.com`]);
    await certifiedPlain(cwd, ['CN=other.example.com']);
    await certifiedPlain(cwd, ['--revoke', '--reason', 'keyCompromise', '--name', 'team-ca']);

    const ls = await run(['ls', '--json'], { cwd });
    assert.equal(ls.code, 0, ls.stderr);
    const status = Object.fromEntries((JSON.parse(ls.stdout) as { name: string; status: string }[]).map((row) => [row.name, row.status]));
    assert.deepEqual([status['a.example.com'], status['b.example.com'], status['other.example.com'], status['team-ca']], ['issuer-revoked', 'issuer-revoked', 'valid', 'revoked']);

    const check = await run(['check'], { cwd });
    assert.equal(check.code, 1);
    assert.deepEqual(check.stdout.trim().split('\n'), ['a', 'b'].map((name) =>
      `certs/${name}.example.com.crt: the CA "team-ca" above it (serial ${serialOf(join(db, `revoked/${readdirSync(join(db, 'revoked'))[0]}/team-ca.crt`))}) was revoked on ${new Date().toISOString().slice(0, 10)}, so it is no longer trusted: move it to another CA with "certified renew --issuer ca --name ${name}.example.com", or revoke it [issuer-revoked]`));

    // Move one leaf to the intermediate, revoke the other: check passes again.
    const renewed = await run(['renew', '--issuer', 'ca', '--name', 'a.example.com'], { cwd });
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.match(renewed.stderr, /Renewed "a\.example\.com" under "ca"/);
    assert.match(openssl(['verify', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/ca.crt'), join(db, 'certs/a.example.com.crt')]).stdout, /OK/);
    const crlBefore = readFileSync(join(db, 'crl/team-ca.crl'), 'utf8');
    const revoked = await run(['revoke', '--name', 'b.example.com'], { cwd });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stderr, /Its CA "team-ca" was revoked itself, so no CRL changed/);
    assert.equal(readFileSync(join(db, 'crl/team-ca.crl'), 'utf8'), crlBefore, 'the revoked CA signs nothing more');
    const healthy = await run(['check'], { cwd });
    assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
  });

  it('apply --allow-revoke retires a managed certificate below a revoked CA, and a self-signed one is revoked without a CRL', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    await certifiedPlain(cwd, ['init', '--issuer', 'ca', 'CN=Sub CA']);
    writeFileSync(join(db, 'certificates.yaml'), 'certificates:\n  l.example.com: { cn: l.example.com, issuer: sub-ca }\n');
    await certifiedPlain(cwd, ['apply', '--yes']);
    await certifiedPlain(cwd, ['revoke', '--yes', '--name', 'sub-ca']);
    writeFileSync(join(db, 'certificates.yaml'), 'certificates: {}\n');
    const applied = await run(['apply', '--yes', '--allow-revoke'], { cwd });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(JSON.parse((await run(['ls', '--json'], { cwd })).stdout).find((row: { name: string }) => row.name === 'l.example.com').status, 'revoked');

    await certifiedPlain(cwd, ['self-signed', 'CN=s.example.com']);
    const selfSigned = await run(['revoke', '--yes', 'CN=s.example.com'], { cwd });
    assert.equal(selfSigned.code, 0, selfSigned.stderr);
    assert.match(selfSigned.stderr, /It is self-signed, so no CRL lists it/);
  });

  it('a replaced intermediate: the old one\'s leaves are issuer-revoked, not bad-signature; the new one\'s are valid', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    await certifiedPlain(cwd, ['CN=old.example.com']);
    const env = { CERTIFIED_ROOT_PASSWORD: 'root password for tests' };
    const db = join(cwd, 'etc/ssl');
    const oldSerial = serialOf(join(db, 'certs/ca.crt'));
    assert.equal((await run(['--ca', '--revoke'], { cwd, env })).code, 0);
    assert.equal((await run(['--ca'], { cwd, env })).code, 0);
    // The old intermediate's last CRL stays published beside the new one's, signed by the old key.
    const retired = join(db, `crl/ca-${oldSerial}.crl`);
    assert.match(openssl(['crl', '-in', retired, '-CAfile', join(db, `revoked/ca-${oldSerial}/ca.crt`), '-noout']).stderr, /verify OK/);
    assert.match(openssl(['crl', '-in', join(db, 'crl/ca.crl'), '-CAfile', join(db, 'certs/ca.crt'), '-noout']).stderr, /verify OK/);
    await certifiedPlain(cwd, ['CN=new.example.com']);
    const rows = JSON.parse((await run(['ls', '--json'], { cwd })).stdout) as { name: string; status: string }[];
    assert.deepEqual(rows.filter((row) => row.name.endsWith('.example.com')).map((row) => `${row.name} ${row.status}`), ['new.example.com valid', 'old.example.com issuer-revoked']);
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 1);
    assert.deepEqual(check.stdout.trim().split('\n').map((line) => line.replace(/:.*\[/, ' [')), ['certs/old.example.com.crt [issuer-revoked]']);
    // The README's way: renew it, and the new intermediate of the same name signs it.
    await certifiedPlain(cwd, ['renew', 'CN=old.example.com']);
    assert.equal((await run(['check'], { cwd })).code, 0);
  });
});

describe('CRL lifetimes an offline root can live with', () => {
  const daysAhead = (file: string): number => {
    const out = openssl(['crl', '-in', file, '-noout', '-nextupdate']);
    return (Date.parse(out.stdout.trim().replace('nextUpdate=', '')) - Date.now()) / 86_400_000;
  };

  it('the root CRL lives a year (or --root-crl-days), the others a week; check warns before either runs out', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    assert.ok(Math.abs(daysAhead(join(db, 'crl/root-ca.crl')) - 365) < 0.1);
    assert.ok(Math.abs(daysAhead(join(db, 'crl/ca.crl')) - 7) < 0.1);
    assert.equal(JSON.parse(readFileSync(join(db, 'certified.json'), 'utf8')).rootCrlDays, 365);
    assert.equal((await run(['check'], { cwd })).code, 0);

    const other = tempDir();
    await makeCa(other, ['--root-crl-days', '90']);
    assert.ok(Math.abs(daysAhead(join(other, 'etc/ssl/crl/root-ca.crl')) - 90) < 0.1);

    const soon = await run(['crl', '--crl-days', '1', '--root-crl-days', '20', '--root-password', '-'], { cwd, input: 'root password for tests\n' });
    assert.equal(soon.code, 0, soon.stderr);
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 1);
    assert.deepEqual(check.stdout.trim().split('\n').map((line) => line.replace(/: expires at \S+, within/, ': expires at T, within')), [
      'crl/ca.crl: expires at T, within 2 days, after which clients that check CRLs refuse its certificates: run "certified crl" [crl-expiring]',
      'crl/root-ca.crl: expires at T, within 30 days, after which clients that check CRLs refuse its certificates: run "certified crl --issuer root-ca" with the root key [crl-expiring]',
    ]);
  });
});

describe('revocation is deliberate on a terminal', () => {
  /** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `keys` once the prompt is up. */
  function onTerminal(cwd: string, args: string[], keys: string): { code: number; output: string } {
    const command = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
    const result = spawnSync('sh', ['-c', `(sleep 2; printf '${keys}') | script -qec "${command.replace(/"/g, '\\"')}" /dev/null`], {
      cwd,
      env: baseEnv({ CERTIFIED_ROOT_PASSWORD: 'root password for tests' }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: result.status ?? 1, output: result.stdout + result.stderr };
  }

  it('revoke shows the change and asks; "no" changes nothing, --yes does not ask', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    await certifiedPlain(cwd, ['CN=a.example.com']);
    const commits = commitCount(db);
    const declined = onTerminal(cwd, ['revoke', 'CN=a.example.com'], 'n\\r');
    assert.equal(declined.code, 1, declined.output);
    assert.match(declined.output, /Revoke a\.example\.com \(serial [0-9a-f]+, unspecified\)\?/);
    assert.match(declined.output, /certified: cancelled; nothing was changed\./);
    assert.equal(commitCount(db), commits);
    assert.equal(existsSync(join(db, 'certs/a.example.com.crt')), true);

    const yes = onTerminal(cwd, ['revoke', '--yes', 'CN=a.example.com'], '');
    assert.equal(yes.code, 0, yes.output);
    assert.doesNotMatch(yes.output, /\(y\/N\)/);
    assert.equal(commitCount(db), commits + 1);
  });
});

describe('a clone of a CA whose intermediate key is not encrypted', () => {
  it('has no intermediate key (git ignores it): issue says where to get it', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const clone = cloneCa(join(cwd, 'etc/ssl'), tempDir());
    const result = await run(['CN=web.example.com'], { cwd: clone });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^certified: the key of "ca" is not at "private\/ca\.key"\. git ignores unencrypted keys, so a clone has none: copy it from the clone that made the CA/);
  });
});

describe('a record left with conflict markers after a merge', () => {
  it('crl and revoke name the record and say to resolve the conflict, in one line, changing nothing', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    await certifiedPlain(cwd, ['CN=a.example.com']);
    await certifiedPlain(cwd, ['CN=b.example.com']);
    await certifiedPlain(cwd, ['revoke', '--yes', 'CN=a.example.com']);
    const serial = readdirSync(join(db, 'revoked-index/ca'))[0]!;
    const path = `records/ca/${serial}.json`;
    // Both sides revoked it with another reason; the conflict was "git add"ed and committed as it was.
    const text = readFileSync(join(db, path), 'utf8');
    writeFileSync(join(db, path), text.replace(/( *"reason": .*\n)/, '<<<<<<< HEAD\n$1=======\n    "reason": "keyCompromise"\n>>>>>>> theirs\n'));
    git(db, ['commit', '-q', '-am', 'Merge, half resolved']);
    const commits = commitCount(db);
    for (const args of [['crl'], ['revoke', '--yes', 'CN=b.example.com']]) {
      const result = await run(args, { cwd });
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^certified: the record "${path}" holds git conflict markers \\(<<<<<<<\\)`), result.stderr);
      assert.equal(commitCount(db), commits);
    }
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, ROOT_PASSWORD, baseEnv, commitCount, freshCa, git, makeCa, run, tempDir } from '../helpers/cli.js';
import { assertAllOrNothing, assertCaSound, start } from '../helpers/ca-state.js';

const INTERRUPTED = /Warning: an earlier command was interrupted \("Issue ([^ ]+) [^"]*"\): it has been (finished|rolled back)\./;

/** Runs the next command after a crash and checks it recovered `name` the way the CA now shows. */
async function nextCommandRecovers(cwd: string, db: string, name: string, next: string, commitsBefore: number): Promise<'issued' | 'absent'> {
  const result = await run([`CN=${next}`], { cwd });
  assert.equal(result.code, 0, result.stderr);
  const state = assertAllOrNothing(db, name);
  const said = INTERRUPTED.exec(result.stderr);
  if (said) {
    assert.equal(said[1], name);
    assert.equal(said[2], state === 'issued' ? 'finished' : 'rolled back');
  }
  assert.equal(commitCount(db), commitsBefore + (state === 'issued' ? 2 : 1), 'one commit per finished command');
  assert.equal(assertAllOrNothing(db, next), 'issued');
  assertCaSound(db);
  return state;
}

describe('crash safety: a killed command leaves the CA as before or as after', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa()));

  // CERTIFIED_TEST_CRASH_AT makes the store SIGKILL itself at a named step (src/cli/context.ts).
  for (const [step, outcome] of [
    ['after-journal', 'absent'],
    ['after-writes', 'absent'],
    ['after-commit-before-journal-clear', 'issued'],
  ] as const) {
    it(`recovers a crash ${step}: the next command says it was ${outcome === 'issued' ? 'finished' : 'rolled back'}`, async () => {
      const commits = commitCount(db);
      const name = `hook-${step}`;
      const crashed = await start([`CN=${name}`], cwd, { CERTIFIED_TEST_CRASH_AT: step }).done;
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
      assert.ok(existsSync(join(db, '.certified.journal')), 'the crash left its journal');
      const result = await run([`CN=next-${step}`], { cwd });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, INTERRUPTED);
      assert.equal(INTERRUPTED.exec(result.stderr)?.[2], outcome === 'issued' ? 'finished' : 'rolled back');
      assert.equal(assertAllOrNothing(db, name), outcome);
      assert.equal(commitCount(db), commits + (outcome === 'issued' ? 2 : 1));
      assertCaSound(db);
    });
  }

  it('recovers a crashed "certified --ca" (the first commit of a new repository) either way', async () => {
    for (const [step, outcome] of [
      ['after-writes', 'rolled back'],
      ['after-commit-before-journal-clear', 'finished'],
    ] as const) {
      const dir = tempDir();
      const crashed = await start(['--ca', 'CN=Crash CA'], dir, { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD, CERTIFIED_TEST_CRASH_AT: step }).done;
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
      const again = await run(['--ca', 'CN=Crash CA'], { cwd: dir, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
      assert.match(again.stderr, new RegExp(`interrupted \\("Create CA "Crash CA" [^\\n]*: it has been ${outcome}\\.`));
      // Rolled back: the second --ca makes the CA. Finished: the CA exists, so it is refused.
      assert.equal(again.code, outcome === 'finished' ? 1 : 0, again.stderr);
      const db = join(dir, 'etc/ssl');
      assert.equal(commitCount(db), 1);
      const issued = await run(['CN=after-crash.example.com'], { cwd: dir });
      assert.equal(issued.code, 0, issued.stderr);
      assertCaSound(db);
    }
  });

  it('survives SIGKILL at 15 moments spread over a whole run', async () => {
    // Calibrate on this machine: how long one uninterrupted run takes (not asserted).
    const t0 = Date.now();
    const probe = await run(['CN=probe'], { cwd });
    assert.equal(probe.code, 0, probe.stderr);
    const span = Math.max(600, Date.now() - t0);
    const outcomes = { issued: 0, absent: 0 };
    for (let i = 0; i < 15; i++) {
      const delay = Math.round(20 + ((span - 20) * i) / 14);
      const commits = commitCount(db);
      const victim = start([`CN=kill-${i}`], cwd);
      const timer = setTimeout(() => victim.child.kill('SIGKILL'), delay);
      await victim.done;
      clearTimeout(timer);
      outcomes[await nextCommandRecovers(cwd, db, `kill-${i}`, `next-${i}`, commits)]++;
    }
    // Both outcomes must have been exercised for the loop to mean anything.
    assert.ok(outcomes.absent > 0, JSON.stringify(outcomes));
  });

  it('check reports the change an apply killed at several moments left (exit 1, the journal and the fix), and a writing command recovers', async () => {
    const dir = tempDir();
    await makeCa(dir);
    const ca = join(dir, 'etc/ssl');
    const count = 100;
    const lines = ['certificates:', ...Array.from({ length: count }, (_, i) => `  bulk-${i}: { cn: bulk-${i}.example.com, profile: server }`)];
    writeFileSync(join(ca, 'certificates.yaml'), `${lines.join('\n')}\n`);
    git(ca, ['add', 'certificates.yaml']);
    git(ca, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'Edit certificates.yaml']);
    const journal = join(ca, '.certified.journal');
    let pending = 0;
    // Killed this long after the journal appeared: while writing, packing, staging, committing.
    for (const offset of [0, 60, 200]) {
      const commits = commitCount(ca);
      const child = spawn(process.execPath, [BIN, 'apply', '--yes'], { cwd: dir, env: baseEnv(), stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      while (child.exitCode === null && !existsSync(journal)) await new Promise((resolve) => setTimeout(resolve, 2));
      await new Promise((resolve) => setTimeout(resolve, offset));
      child.kill('SIGKILL');
      await exited;
      if (!existsSync(journal)) {
        // It got to the end first: applied and committed; take it back for the next round.
        assert.equal(commitCount(ca), commits + 1);
        git(ca, ['reset', '-q', '--hard', 'HEAD~1']);
        git(ca, ['clean', '-q', '-fdx', '--', 'certs', 'csr', 'records', 'private/bulk-*']);
        continue;
      }
      pending++;
      const check = await run(['check'], { cwd: dir });
      assert.equal(check.code, 1, check.stderr);
      assert.match(check.stdout, new RegExp(`^\\.certified\\.journal: an interrupted change \\("Apply certificates\\.yaml: ${count} issued"\\) was neither committed nor rolled back, so its files are half-made: run any command that changes the CA \\(e\\.g\\. "certified crl"\\) to finish or roll it back \\[pending-change\\]$`, 'm'));
      assert.doesNotMatch(check.stderr, /passes every check/);
      const ls = await run(['ls'], { cwd: dir });
      assert.match(ls.stderr, /Warning: an interrupted change \("Apply certificates\.yaml: \d+ issued"\) is neither committed nor rolled back/);
      const crl = await run(['crl'], { cwd: dir });
      assert.equal(crl.code, 0, crl.stderr);
      assert.match(crl.stderr, /an earlier command was interrupted \("Apply certificates\.yaml: \d+ issued"\): it has been (rolled back|finished)\./);
      const after = await run(['check'], { cwd: dir });
      assert.equal(after.code, 0, after.stdout + after.stderr);
      assert.equal(git(ca, ['status', '--porcelain', '--untracked-files=all']), '');
      if (commitCount(ca) > commits + 1) {
        // It was finished (the kill came after its commit): take it back for the next round.
        git(ca, ['reset', '-q', '--hard', 'HEAD~2']);
        git(ca, ['clean', '-q', '-fdx', '--', 'certs', 'csr', 'records', 'private/bulk-*']);
      }
    }
    assert.ok(pending > 0, 'at least one kill left a pending change');
  });
});

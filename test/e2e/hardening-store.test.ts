import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, commitCount, freshCa, git, run, tempDir, tool } from '../helpers/cli.js';
import { start } from '../helpers/ca-state.js';
import { gitBlobId } from '../../src/store/git-held.js';
import { journalProblem } from '../../src/store/journal.js';

const JOURNAL = '.certified.journal';
const LOCK = '.certified.lock';

describe('store hardening: rollback, journal, lock, folders, fsync', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa()));

  /** The CA passes check and git has nothing uncommitted (the user's hand commits aside). */
  async function assertHealthy(): Promise<void> {
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(git(db, ['status', '--porcelain', '--untracked-files=all']), '');
    assert.ok(!existsSync(join(db, JOURNAL)));
  }

  it('a command whose commit fails (a pre-commit hook refuses) removes what it wrote at once; a hand commit then commits nothing', async () => {
    const hook = join(db, '.git/hooks/pre-commit');
    writeFileSync(hook, '#!/bin/sh\necho "policy: no commits today" >&2\nexit 1\n', { mode: 0o755 });
    const commits = commitCount(db);
    try {
      const failed = await run(['CN=refused.example.com'], { cwd });
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /^certified: failed to commit the change in ".*": .*\. Nothing was committed; fix the cause and run the command again\.\n$/);
    } finally {
      rmSync(hook);
    }
    assert.ok(!existsSync(join(db, JOURNAL)), 'no journal is left');
    for (const path of ['certs/refused.example.com.crt', 'certs/refused.example.com.chain.crt', 'csr/refused.example.com.csr', 'private/refused.example.com.key']) {
      assert.ok(!existsSync(join(db, path)), `${path} was removed`);
    }
    assert.equal(git(db, ['status', '--porcelain', '--untracked-files=all']), '');
    assert.equal(commitCount(db), commits);
    const next = await run(['CN=after-refused.example.com'], { cwd });
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /interrupted/);
    await assertHealthy();
  });

  it('a command run without git on PATH stops before writing anything', async () => {
    const noGit = tempDir();
    symlinkSync(process.execPath, join(noGit, 'node'));
    const commits = commitCount(db);
    const failed = await run(['CN=nogit.example.com'], { cwd, env: { PATH: noGit } });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^certified: git is not installed or not on PATH\..*Nothing was changed\.\n$/);
    assert.ok(!existsSync(join(db, JOURNAL)), 'no journal is left');
    assert.ok(!existsSync(join(db, 'certs/nogit.example.com.crt')));
    assert.equal(git(db, ['status', '--porcelain', '--untracked-files=all']), '');
    assert.equal(commitCount(db), commits);
  });

  it('a rollback keeps the files of a killed change that the user committed by hand, and its key (the only copy)', async () => {
    const name = 'handmade.example.com';
    const crashed = await start([`CN=${name}`], cwd, { CERTIFIED_TEST_CRASH_AT: 'after-writes' }).done;
    assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
    const key = readFileSync(join(db, `private/${name}.key`), 'utf8');
    const cert = readFileSync(join(db, `certs/${name}.crt`), 'utf8');
    git(db, ['add', '-A']);
    git(db, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'x']);

    const next = await run(['CN=after-hand.example.com'], { cwd });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /it has been rolled back, except that 4 file\(s\) were kept because git holds them \(committed or added by hand\): "certs\/handmade\.example\.com\.crt", /);
    assert.match(next.stderr, new RegExp(`1 file\\(s\\) were kept because git holds the rest of that change, and git ignores them: they may be the only copy: "private/${name.replaceAll('.', '\\.')}\\.key"`));
    assert.equal(readFileSync(join(db, `private/${name}.key`), 'utf8'), key);
    assert.equal(readFileSync(join(db, `certs/${name}.crt`), 'utf8'), cert);
    await assertHealthy();
  });

  it('a rollback keeps a file that changed after the killed change wrote it, and says so', async () => {
    const name = 'edited.example.com';
    const crashed = await start([`CN=${name}`], cwd, { CERTIFIED_TEST_CRASH_AT: 'after-writes' }).done;
    assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
    writeFileSync(join(db, `csr/${name}.csr`), 'not what certified wrote\n');

    const next = await run(['CN=after-edit.example.com'], { cwd });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /it has been rolled back, except that 1 file\(s\) were kept because they changed after it wrote them: "csr\/edited\.example\.com\.csr"\./);
    assert.equal(readFileSync(join(db, `csr/${name}.csr`), 'utf8'), 'not what certified wrote\n');
    for (const path of [`certs/${name}.crt`, `private/${name}.key`]) assert.ok(!existsSync(join(db, path)), `${path} was rolled back`);
    rmSync(join(db, `csr/${name}.csr`));
    await assertHealthy();
  });

  it('a journal of the wrong shape is a one-line error naming it and the fix, and nothing is written', async () => {
    for (const content of ['{"summary":"x","created":1}\n', 'garbage\n', '{"summary":"x","startedAt":"t","created":["../../outside"],"changed":[],"moves":[]}\n']) {
      writeFileSync(join(db, JOURNAL), content);
      const commits = commitCount(db);
      const result = await run(['CN=journal.example.com'], { cwd });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^certified: the journal "${join(db, JOURNAL).replaceAll('.', '\\.')}" is unreadable \\(.+\\), so certified cannot tell what an interrupted change left in .+\\. Look at "git status" there .+, then delete ".+" and run the command again\\.\\n$`));
      assert.doesNotMatch(result.stderr, /TypeError|not iterable/);
      assert.equal(commitCount(db), commits);
      assert.ok(!existsSync(join(db, 'certs/journal.example.com.crt')));
    }
    rmSync(join(db, JOURNAL));
  });

  it('a file where the CA needs a folder is refused before anything is written, with no journal left', async () => {
    writeFileSync(join(db, 'revoked'), 'in the way\n');
    const commits = commitCount(db);
    const result = await run(['revoke', '--yes', '--name', 'after-hand.example.com'], { cwd });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stderr,
      `certified: "revoked" in "${db}" is not a folder, but certified keeps files in it. Nothing was written. Move that file away (e.g. "mv revoked revoked.bak" in the CA directory) and run the command again.\n`,
    );
    assert.ok(!existsSync(join(db, JOURNAL)));
    assert.equal(commitCount(db), commits);
    rmSync(join(db, 'revoked'));
    await assertHealthy();
  });

  it('a stale lock (garbage, or a pid that now belongs to another program) is taken over; another host\'s is not, and the error says how to clear it', async () => {
    const lock = join(db, LOCK);
    const old = new Date(Date.now() - 60_000);
    for (const [label, content] of [
      ['garbage', 'garbage\n'],
      ['pid 1, not certified', `${JSON.stringify({ pid: 1, host: hostname(), since: old.toISOString(), token: 'x' })}\n`],
      ['a reused pid', `${JSON.stringify({ pid: process.pid, host: hostname(), since: old.toISOString(), token: 'y', started: '1' })}\n`],
    ] as const) {
      writeFileSync(lock, content);
      utimesSync(lock, old, old);
      const result = await run(['ls', '--lock-timeout', '2'], { cwd });
      // ls takes no lock: a command that writes does.
      assert.equal(result.code, 0, result.stderr);
      const crl = await run(['crl', '--lock-timeout', '2'], { cwd });
      assert.equal(crl.code, 0, `${label}: ${crl.stderr}`);
      assert.ok(!existsSync(lock), `${label}: the lock was released`);
    }
    writeFileSync(lock, `${JSON.stringify({ pid: 4242, host: 'gone.example.net', since: old.toISOString(), token: 'z' })}\n`);
    const commits = commitCount(db);
    const blocked = await run(['crl', '--lock-timeout', '1'], { cwd });
    assert.equal(blocked.code, 1);
    assert.equal(
      blocked.stderr,
      `certified: another certified process (pid 4242 on gone.example.net) holds the lock on ${db}; gave up after 1 s. Run the command again when it has finished, or wait longer with --lock-timeout SECONDS. If gone.example.net is gone or runs no certified (pid 4242), remove "${lock}" and run the command again.\n`,
    );
    assert.equal(commitCount(db), commits);
    assert.ok(existsSync(lock), 'another host\'s lock is never taken over');
    rmSync(lock);
  });

  it('fsyncs the directory of each file it renames into place (strace, when installed)', async (t) => {
    if (tool('strace', ['-V']).status !== 0) return t.skip('strace is not installed');
    const trace = join(tempDir(), 'trace');
    const result = tool('strace', ['-f', '-y', '-e', 'trace=fsync', '-o', trace, process.execPath, BIN, 'CN=fsync.example.com'], { cwd });
    if (result.status !== 0 && /ptrace|not permitted/i.test(result.stderr)) return t.skip('strace may not trace here');
    assert.equal(result.status, 0, result.stderr);
    const synced = new Set([...readFileSync(trace, 'utf8').matchAll(/fsync\(\d+<([^>]+)>/g)].map((match) => match[1]));
    for (const folder of ['certs', 'private', 'csr', 'records/ca', '']) assert.ok(synced.has(join(db, folder)), `fsync of "${folder || '.'}"`);
  });

  it('16 commands at once where there is no CA each say so in one line, and leave nothing behind', async () => {
    const empty = tempDir();
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => run(i % 2 ? ['crl'] : [`CN=race-${i}.example.com`], { cwd: empty })));
    const noCa = `certified: there is no CA in "${join(empty, 'etc/ssl')}". Run "certified init CN=..." first, or point --db (or CERTIFIED_DB) at your CA directory.\n`;
    for (const result of results) {
      assert.equal(result.code, 1);
      assert.equal(result.stderr, noCa);
    }
    assert.deepEqual(readdirSync(empty), []);
  });

  it('journalProblem accepts what certified writes and names what is wrong otherwise; gitBlobId matches git', () => {
    const good = { summary: 's', startedAt: 't', created: ['certs/a.crt'], changed: [], moves: [{ from: 'certs/b.crt', to: 'revoked/b-1/b.crt' }], written: { 'certs/a.crt': 'a'.repeat(64) }, uncommitted: ['private/a.key'] };
    assert.equal(journalProblem(good), undefined);
    for (const [bad, problem] of [
      [[], 'not a JSON object'],
      [{ ...good, created: 1 }, '"created" is not a list'],
      [{ ...good, changed: ['/etc/passwd'] }, '"changed" holds a path outside the CA directory'],
      [{ ...good, created: ['certs/../../x'] }, '"created" holds a path outside the CA directory'],
      [{ ...good, moves: [{ from: 'a' }] }, '"moves" is not a list of moves inside the CA directory'],
      [{ ...good, written: { 'certs/a.crt': 'nothex' } }, '"written" is not a map of paths to SHA-256 hashes'],
      [{ ...good, summary: undefined }, '"summary" is not a string'],
    ] as const) {
      assert.equal(journalProblem(bad), problem);
    }
    const content = Buffer.from('certificate\n');
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), content);
    const id = tool('git', ['hash-object', join(dir, 'f')]).stdout.trim();
    assert.equal(gitBlobId(content, id), id);
  });
});

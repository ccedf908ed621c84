import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ROOT_PASSWORD, commitCount, git, makeCa, run, snapshot, tempDir, tool } from '../helpers/cli.js';
import { JOURNAL_FILE } from '../../src/store/layout.js';
import { assertAllOrNothing, assertCaSound } from '../helpers/ca-state.js';

/** No git identity from anywhere: an empty HOME, no XDG config, no GIT_* identity variables. */
function noIdentityEnv(home: string | undefined): Record<string, string | undefined> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: undefined,
    GIT_AUTHOR_NAME: undefined,
    GIT_AUTHOR_EMAIL: undefined,
    GIT_COMMITTER_NAME: undefined,
    GIT_COMMITTER_EMAIL: undefined,
    EMAIL: undefined,
  };
}

/** A small tmpfs, unmounted when the test ends, or the reason it cannot be mounted here (not root, no CAP_SYS_ADMIN). */
function mountTmpfs(t: TestContext, size: string): { dir: string } | { skip: string } {
  const dir = tempDir('certified-mnt-');
  const result = tool('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  if (result.status !== 0) return { skip: `cannot mount a tmpfs here (${(result.stderr || 'mount failed').trim()}); needs root or CAP_SYS_ADMIN` };
  t.after(() => void tool('umount', ['-l', dir]));
  return { dir };
}

describe('environment: odd machines give a clear outcome, never a corrupted CA', () => {
  it('no git identity configured: commits as certified <certified@localhost>', async () => {
    const cwd = tempDir();
    const home = tempDir();
    // useConfigOnly stops git from guessing an identity from the host name, on any machine.
    writeFileSync(join(home, '.gitconfig'), '[user]\n\tuseConfigOnly = true\n');
    await makeCa(cwd, [], noIdentityEnv(home) as Record<string, string>);
    const result = await run(['CN=anon.example.com'], { cwd, env: noIdentityEnv(home) });
    assert.equal(result.code, 0, result.stderr);
    const db = join(cwd, 'etc/ssl');
    const who = 'certified <certified@localhost>';
    assert.deepEqual(git(db, ['log', '--format=%an <%ae>|%cn <%ce>']).trim().split('\n'), [`${who}|${who}`, `${who}|${who}`]);
    assertCaSound(db);
  });

  it('HOME unset: still works', async () => {
    const cwd = tempDir();
    const env = noIdentityEnv(undefined);
    const ca = await run(['--ca', 'CN=Homeless CA'], { cwd, env: { ...env, CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(ca.code, 0, ca.stderr);
    const result = await run(['CN=homeless.example.com'], { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    assertCaSound(join(cwd, 'etc/ssl'));
  });

  it('the CA directory read-only: one clear line, nothing changed', async (t) => {
    // Tests run as root, for whom chmod a-w does not stop writes: a read-only mount does.
    const mount = mountTmpfs(t, '4m');
    if ('skip' in mount) return t.skip(mount.skip);
    await makeCa(mount.dir);
    const db = join(mount.dir, 'etc/ssl');
    const remount = tool('mount', ['-o', 'remount,ro', mount.dir]);
    if (remount.status !== 0) return t.skip(`cannot remount read-only: ${remount.stderr.trim()}`);
    const before = snapshot(mount.dir);
    const commits = commitCount(db);
    const result = await run(['CN=ro.example.com'], { cwd: mount.dir });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^certified: failed to [^\n]*: the file system is read-only\. Nothing was committed[^\n]*\n$/);
    assert.equal(result.stdout, '');
    assert.deepEqual(snapshot(mount.dir), before);
    assert.equal(commitCount(db), commits);
    assert.equal(tool('mount', ['-o', 'remount,rw', mount.dir]).status, 0);
    assertCaSound(db);
  });

  it('plan on a read-only CA directory: the plan, without the lock; refused while an interrupted change waits', async (t) => {
    const mount = mountTmpfs(t, '4m');
    if ('skip' in mount) return t.skip(mount.skip);
    await makeCa(mount.dir);
    const db = join(mount.dir, 'etc/ssl');
    writeFileSync(join(db, 'certificates.yaml'), 'certificates:\n  web: { cn: web.example.com, profile: server }\n');
    assert.equal(tool('mount', ['-o', 'remount,ro', mount.dir]).status, 0);
    const before = snapshot(mount.dir);
    const plan = await run(['plan'], { cwd: mount.dir });
    assert.equal(plan.code, 2, plan.stderr);
    assert.match(plan.stdout, /^\+ issue web \(server, /m);
    assert.deepEqual(snapshot(mount.dir), before);

    // A change a killed command left must be finished or undone first, which needs write access.
    assert.equal(tool('mount', ['-o', 'remount,rw', mount.dir]).status, 0);
    writeFileSync(join(db, JOURNAL_FILE), JSON.stringify({ summary: 'Issue x', startedAt: new Date().toISOString(), created: [], changed: [], moves: [] }));
    assert.equal(tool('mount', ['-o', 'remount,ro', mount.dir]).status, 0);
    const pending = await run(['plan'], { cwd: mount.dir });
    assert.equal(pending.code, 1);
    assert.match(pending.stderr, /^certified: an interrupted change \("Issue x"\) must be finished or undone first, and "[^"]+" cannot be written\. Run any certified command where the CA directory can be written/);
    assert.equal(tool('mount', ['-o', 'remount,rw', mount.dir]).status, 0);
  });

  it('the disk full at many points of a command: a clean error or a whole certificate, never a broken CA', async (t) => {
    const mount = mountTmpfs(t, '2m');
    if ('skip' in mount) return t.skip(mount.skip);
    const cwd = mount.dir;
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    const filler = join(cwd, 'filler');
    let refused = 0;
    for (const [i, free] of [0, 4096, 8192, 16384, 24576, 40960, 65536].entries()) {
      const stats = statfsSync(cwd);
      writeFileSync(filler, Buffer.alloc(Math.max(0, stats.bavail * stats.bsize - free)));
      const commits = commitCount(db);
      const result = await run([`CN=full-${i}`], { cwd });
      rmSync(filler);
      let nextCommits = 0;
      if (existsSync(join(db, '.certified.journal'))) {
        // The undo itself could not run on the full disk: the next command finishes it.
        const next = await run([`CN=after-full-${i}`], { cwd });
        assert.equal(next.code, 0, next.stderr);
        assert.match(next.stderr, /an earlier command was interrupted .*rolled back/);
        nextCommits = 1;
      }
      const state = assertAllOrNothing(db, `full-${i}`);
      if (result.code === 0) {
        assert.equal(state, 'issued');
        assert.equal(commitCount(db), commits + 1 + nextCommits);
      } else {
        refused++;
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /^certified: [^\n]*(the disk is full|No space left)[^\n]*\n$/, `free ${free}`);
        assert.equal(state, 'absent');
        assert.equal(commitCount(db), commits + nextCommits);
      }
      assertCaSound(db);
    }
    assert.ok(refused > 0, 'a full disk refused at least once');
    const again = await run(['CN=after-space.example.com'], { cwd });
    assert.equal(again.code, 0, again.stderr);
  });

  it("a dirty work tree: the user's staged, unstaged and untracked changes are never committed or touched", async () => {
    // The CA lives inside the user's own repository.
    const cwd = tempDir();
    git(cwd, ['init', '-q']);
    git(cwd, ['config', 'user.name', 'User']);
    git(cwd, ['config', 'user.email', 'user@example.com']);
    writeFileSync(join(cwd, 'README.md'), 'readme\n');
    writeFileSync(join(cwd, 'notes.txt'), 'notes\n');
    git(cwd, ['add', '.']);
    git(cwd, ['commit', '-qm', 'user files']);
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    writeFileSync(join(cwd, 'README.md'), 'readme, staged change\n');
    git(cwd, ['add', 'README.md']);
    writeFileSync(join(cwd, 'notes.txt'), 'notes, unstaged change\n');
    writeFileSync(join(cwd, 'untracked.txt'), 'untracked\n');
    mkdirSync(join(db, 'mine'));
    writeFileSync(join(db, 'mine/staged-in-ca.txt'), 'user file inside the CA\n');
    git(cwd, ['add', 'etc/ssl/mine/staged-in-ca.txt']);
    const status = git(cwd, ['status', '--porcelain']);

    const result = await run(['CN=dirty.example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const committed = git(cwd, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n');
    assert.ok(committed.every((path) => path.startsWith('etc/ssl/') && !path.startsWith('etc/ssl/mine/')), committed.join(', '));
    assert.equal(git(cwd, ['status', '--porcelain']), status, 'the user changes are as they were');

    // A crash between writes and commit, then recovery, leaves them alone too.
    const crashed = await run(['CN=crash.example.com'], { cwd, env: { CERTIFIED_TEST_CRASH_AT: 'after-writes' } });
    assert.notEqual(crashed.code, 0);
    const next = await run(['CN=next.example.com'], { cwd });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /rolled back/);
    assert.equal(assertAllOrNothing(db, 'crash.example.com'), 'absent');
    assert.equal(git(cwd, ['status', '--porcelain']), status);
    assert.equal(git(cwd, ['diff', '--cached', 'README.md']).includes('+readme, staged change'), true);
  });
});

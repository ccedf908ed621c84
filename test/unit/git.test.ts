import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commitFile, git, removedAfter, repo } from '../helpers/git-repo.js';
import { GitUnknownRefError, SkipWorktreeError } from '../../src/store/errors.js';
import { gitOperationUnderWay } from '../../src/store/git-merge.js';
import { PLUMBING_MIN_INDEX_BYTES, gitCommitPaths, gitPlumbingCommit, stripSpace, type PlumbingCommit } from '../../src/store/git-commit.js';
import { gitChangedPaths, gitHead, gitParentOf, gitTreeOf, gitIndexMatchesHead, gitRefuseSkipWorktree, gitRestorePaths } from '../../src/store/git.js';

describe('gitParentOf', () => {
  it('gives the first parent as git does, from a loose commit, a packed one and a root commit', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    const first = git(dir, ['rev-parse', 'HEAD']);
    commitFile(dir, 'b.txt', 'b');
    const second = git(dir, ['rev-parse', 'HEAD']);
    git(dir, ['checkout', '-q', '-b', 'side', first]);
    commitFile(dir, 'c.txt', 'c');
    git(dir, ['checkout', '-q', '-']);
    git(dir, ['merge', '-q', '--no-edit', 'side']);
    const merge = git(dir, ['rev-parse', 'HEAD']);
    assert.equal(await gitParentOf(dir, merge), second);
    assert.equal(await gitParentOf(dir, second), first);
    assert.equal(await gitParentOf(dir, first), undefined);
    git(dir, ['gc', '-q']);
    assert.equal(await gitParentOf(dir, merge), second);
    assert.equal(await gitParentOf(dir, first), undefined);
  });
});

describe('gitTreeOf', () => {
  it('gives the tree of a loose and of a packed commit, as git does', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    const commit = git(dir, ['rev-parse', 'HEAD']);
    const tree = git(dir, ['rev-parse', 'HEAD^{tree}']);
    assert.equal(await gitTreeOf(dir, commit), tree);
    git(dir, ['gc', '-q']);
    assert.ok(!existsSync(join(dir, '.git/objects', commit.slice(0, 2), commit.slice(2))), 'packed');
    assert.equal(await gitTreeOf(dir, commit), tree);
  });
});

describe('gitHead reads HEAD as git rev-parse does', () => {
  it('is undefined before the first commit', async () => {
    assert.equal(await gitHead(repo()), undefined);
  });

  it('follows a loose branch ref, packed refs, a detached HEAD and a subdirectory', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    assert.equal(await gitHead(dir), git(dir, ['rev-parse', 'HEAD']));
    git(dir, ['pack-refs', '--all']);
    commitFile(dir, 'b.txt', 'b');
    git(dir, ['pack-refs', '--all']);
    assert.equal(await gitHead(dir), git(dir, ['rev-parse', 'HEAD']));
    git(dir, ['checkout', '-q', '--detach', 'HEAD~1']);
    assert.equal(await gitHead(dir), git(dir, ['rev-parse', 'HEAD']));
    mkdirSync(join(dir, 'etc/ssl'), { recursive: true });
    assert.equal(await gitHead(join(dir, 'etc/ssl')), git(dir, ['rev-parse', 'HEAD']));
  });

  it('works in a linked work tree, whose .git is a file', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    const linked = join(dir, '..', `${dir.split('/').pop()}-linked`);
    removedAfter(linked);
    git(dir, ['worktree', 'add', '-q', '-b', 'other', linked]);
    commitFile(linked, 'b.txt', 'b');
    assert.equal(await gitHead(linked), git(linked, ['rev-parse', 'HEAD']));
    assert.notEqual(await gitHead(linked), await gitHead(dir));
  });
});

/** Index entries alone (no files): enough paths for an index past the plumbing threshold. */
function makeIndexLarge(dir: string): void {
  const blob = git(dir, ['hash-object', '-w', '--stdin']);
  const entries = Array.from({ length: Math.ceil(PLUMBING_MIN_INDEX_BYTES / 60) }, (_, i) => `100644 ${blob}\tbulk/${String(i).padStart(6, '0')}.txt\0`);
  spawnSync('git', ['update-index', '-z', '--index-info'], { cwd: dir, input: entries.join('') });
}

/** How gitPlumbingCommit would have a change in `dir` commit, its index made large first. */
async function plumbingOf(dir: string): Promise<PlumbingCommit> {
  makeIndexLarge(dir);
  const plumbing = await gitPlumbingCommit(dir);
  assert.ok(plumbing, 'a large index, no hook');
  return plumbing;
}

describe('gitCommitPaths', () => {
  it('commits exactly the paths given, returns the full commit id, and leaves other staged changes staged', async () => {
    const dir = repo();
    commitFile(dir, 'user.txt', 'v1');
    writeFileSync(join(dir, 'user.txt'), 'v2');
    git(dir, ['add', 'user.txt']);
    writeFileSync(join(dir, 'untracked.txt'), 'mine');
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs/a.crt'), 'cert');
    const id = await gitCommitPaths(dir, ['certs/a.crt'], 'Issue a\n\ndetails');
    assert.equal(id, git(dir, ['rev-parse', 'HEAD']));
    assert.equal(git(dir, ['show', '--name-only', '--format=', 'HEAD']), 'certs/a.crt');
    assert.equal(git(dir, ['log', '-1', '--format=%B']), 'Issue a\n\ndetails');
    assert.equal(git(dir, ['diff', '--cached', '--name-only']), 'user.txt');
    assert.match(git(dir, ['status', '--porcelain']), /\?\? untracked\.txt/);
  });

  it('commits the same way with a plain commit when the index matched HEAD, removals included', async () => {
    const dir = repo();
    mkdirSync(join(dir, 'certs'));
    commitFile(dir, 'certs/old.crt', 'old');
    writeFileSync(join(dir, 'unstaged.txt'), 'mine');
    assert.equal(await gitIndexMatchesHead(dir), true);
    rmSync(join(dir, 'certs/old.crt'));
    writeFileSync(join(dir, 'certs/b.crt'), 'cert');
    const id = await gitCommitPaths(dir, ['certs/b.crt', 'certs/old.crt'], 'Replace old', { indexMatchedHead: true });
    assert.equal(id, git(dir, ['rev-parse', 'HEAD']));
    assert.equal(git(dir, ['show', '--name-status', '--format=', 'HEAD']), 'A\tcerts/b.crt\nD\tcerts/old.crt');
    assert.match(git(dir, ['status', '--porcelain']), /^\?\? unstaged\.txt$/);
  });

  it('commits the index with plumbing as git commit would: tree, parent, message, identity, reflog; with and without a git identity', async () => {
    const message = '\n\nIssue b   \n\n\n\nDNS:b.example.com\t\nCertified-Action: issue\n\n';
    const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, EMAIL: process.env.EMAIL };
    try {
      // A HOME with no .gitconfig: no identity (certified's own is used) unless git can make one up.
      for (const withoutIdentity of [false, true]) {
        if (withoutIdentity) {
          process.env.HOME = process.env.XDG_CONFIG_HOME = repo('certified-home-');
          delete process.env.EMAIL;
        }
        const made: Record<string, string>[] = [];
        for (const plumbing of [undefined, { maintenance: 'detach' } as const]) {
          const dir = repo();
          mkdirSync(join(dir, 'certs'));
          commitFile(dir, 'certs/a.crt', 'a');
          rmSync(join(dir, '.git/COMMIT_EDITMSG'));
          const parent = git(dir, ['rev-parse', 'HEAD']);
          writeFileSync(join(dir, 'certs/b.crt'), 'b');
          const id = await gitCommitPaths(dir, ['certs/b.crt'], message, { indexMatchedHead: true, ...(plumbing ? { plumbing } : {}), parent });
          assert.equal(id, git(dir, ['rev-parse', 'HEAD']));
          assert.equal(git(dir, ['diff', '--cached', '--name-only']), '', 'the index is the new commit');
          assert.equal(existsSync(join(dir, '.git/COMMIT_EDITMSG')), !plumbing, plumbing ? 'made without git commit' : 'made by git commit');
          made.push({
            commit: git(dir, ['log', '-1', '--format=%T%n%an <%ae>%n%cn <%ce>%n%B']),
            onParent: String(git(dir, ['rev-parse', 'HEAD^']) === parent && git(dir, ['rev-list', '--count', 'HEAD']) === '2'),
            headReflog: git(dir, ['reflog', '-1', '--format=%gs %gn <%ge>', 'HEAD']),
            branchReflog: git(dir, ['reflog', '-1', '--format=%gs %gn <%ge>', git(dir, ['symbolic-ref', '--short', 'HEAD'])]),
          });
        }
        assert.deepEqual(made[1], made[0]);
        assert.match(made[1]?.headReflog ?? '', /^commit: Issue b /);
        assert.equal(made[1]?.onParent, 'true');
        // Where git cannot make an identity up either, both commits are certified's.
        const gitIdentity = spawnSync('git', ['var', 'GIT_COMMITTER_IDENT'], { cwd: repo(), env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).status === 0;
        if (withoutIdentity && !gitIdentity) assert.match(made[1]?.commit ?? '', /^certified <certified@localhost>$/m);
      }
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('cleans a message as git commit does with -F (git stripspace)', () => {
    for (const message of ['', '\n\n', 'a', 'a\n', ' a \n\n\n b\t\r\n\n', '\n\nx\n \n\t\ny  \n\n', '# not a comment here\n\n\nz\f\v\n']) {
      const dir = repo();
      const expected = spawnSync('git', ['stripspace'], { cwd: dir, input: message, encoding: 'utf8' }).stdout;
      assert.equal(stripSpace(message), expected, JSON.stringify(message));
    }
  });

  it('runs the automatic maintenance after a plumbing commit, as git commit does, unless maintenance.auto is off', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    // gc.auto=1: git packs once objects/17/ (its sample of the loose objects) holds two.
    for (let n = 0, found = 0; found < 2; n += 1) {
      if (!createHash('sha1').update(`blob ${String(n).length}\0${n}`).digest('hex').startsWith('17')) continue;
      writeFileSync(join(dir, 'blob'), String(n));
      git(dir, ['hash-object', '-w', 'blob']);
      found += 1;
    }
    rmSync(join(dir, 'blob'));
    git(dir, ['config', 'gc.auto', '1']);
    git(dir, ['config', 'gc.autoDetach', 'false']);
    git(dir, ['config', 'maintenance.auto', 'false']);
    const plumbing = await plumbingOf(dir);
    assert.deepEqual(plumbing, { maintenance: 'none' });
    writeFileSync(join(dir, 'b.txt'), 'b');
    await gitCommitPaths(dir, ['b.txt'], 'Add b', { indexMatchedHead: true, plumbing, parent: git(dir, ['rev-parse', 'HEAD']) });
    assert.match(git(dir, ['count-objects', '-v']), /^packs: 0$/m, 'maintenance.auto=false: nothing packed');
    git(dir, ['config', '--unset', 'maintenance.auto']);
    const detached = await plumbingOf(dir);
    assert.deepEqual(detached, { maintenance: 'no-detach' }, 'gc.autoDetach=false');
    writeFileSync(join(dir, 'c.txt'), 'c');
    await gitCommitPaths(dir, ['c.txt'], 'Add c', { indexMatchedHead: true, plumbing: detached, parent: git(dir, ['rev-parse', 'HEAD']) });
    assert.match(git(dir, ['count-objects', '-v']), /^packs: 1$/m, 'the automatic maintenance packed the repository');
  });

  it('moves HEAD only from the parent it was given, and makes no empty commit', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    const first = git(dir, ['rev-parse', 'HEAD']);
    commitFile(dir, 'b.txt', 'b');
    const second = git(dir, ['rev-parse', 'HEAD']);
    writeFileSync(join(dir, 'c.txt'), 'c');
    await assert.rejects(gitCommitPaths(dir, ['c.txt'], 'Add c', { indexMatchedHead: true, plumbing: { maintenance: 'detach' }, parent: first }), /expected|cannot lock/);
    assert.equal(git(dir, ['rev-parse', 'HEAD']), second);
    git(dir, ['reset', '-q', 'c.txt']);
    await assert.rejects(gitCommitPaths(dir, ['b.txt'], 'Nothing', { indexMatchedHead: true, plumbing: { maintenance: 'detach' }, parent: second }), /nothing to commit/);
    assert.equal(git(dir, ['rev-parse', 'HEAD']), second);
  });

  it('takes the plumbing only for a large index, and when git commit would run no hook, sign nothing and clean the message by default', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    assert.equal(await gitPlumbingCommit(dir), undefined, 'a small index');
    makeIndexLarge(dir);
    const plumbs = async (at = dir) => (await gitPlumbingCommit(at)) !== undefined;
    assert.equal(await plumbs(), true, "git init's sample hooks only");
    for (const hook of ['pre-commit', 'prepare-commit-msg', 'commit-msg', 'post-commit']) {
      writeFileSync(join(dir, '.git/hooks', hook), '#!/bin/sh\n');
      assert.equal(await plumbs(), false, hook);
      rmSync(join(dir, '.git/hooks', hook));
    }
    mkdirSync(join(dir, 'team-hooks'));
    writeFileSync(join(dir, 'team-hooks/commit-msg'), '#!/bin/sh\n');
    git(dir, ['config', 'core.hooksPath', 'team-hooks']);
    assert.equal(await plumbs(join(dir, 'team-hooks')), false, 'core.hooksPath, relative to the work tree');
    git(dir, ['config', 'core.hooksPath', '/dev/null']);
    assert.equal(await plumbs(), true, 'hooks turned off');
    const settings = [
      ['commit.gpgSign', 'true', false],
      ['commit.gpgSign', 'false', true],
      ['commit.cleanup', 'strip', false],
      ['commit.cleanup', 'default', true],
      ['hook.scan.event', 'pre-commit', false], // hooks defined in the configuration (newer gits)
      ['maintenance.auto', 'false', true], // then no maintenance, as git commit
      ['maintenance.repo', '/elsewhere', true], // what `git maintenance register` writes
      ['gc.auto', '0', true],
    ] as const;
    for (const [key, value, plumbing] of settings) {
      git(dir, ['config', key, value]);
      assert.equal(await plumbs(), plumbing, `${key}=${value}`);
      git(dir, ['config', '--unset', key]);
    }
  });

  it('says the index does not match HEAD when something is staged, before the first commit, or during a merge', async () => {
    const dir = repo();
    assert.equal(await gitIndexMatchesHead(dir), false, 'no commit yet');
    commitFile(dir, 'a.txt', 'a');
    writeFileSync(join(dir, 'a.txt'), 'staged');
    git(dir, ['add', 'a.txt']);
    assert.equal(await gitIndexMatchesHead(dir), false, 'a staged change');
    git(dir, ['commit', '-q', '-m', 'a2']);
    assert.equal(await gitIndexMatchesHead(dir), true);
    writeFileSync(join(dir, '.git/MERGE_HEAD'), `${git(dir, ['rev-parse', 'HEAD'])}\n`);
    assert.equal(await gitIndexMatchesHead(dir), false, 'a merge under way');
  });

  it('sees a change staged outside the CA directory, even with diff.relative, and in an ignored submodule', async () => {
    const dir = repo();
    mkdirSync(join(dir, 'etc/ssl'), { recursive: true });
    commitFile(dir, 'etc/ssl/ca.crt', 'ca');
    commitFile(dir, 'app.txt', 'v1');
    git(dir, ['config', 'diff.relative', 'true']);
    writeFileSync(join(dir, 'app.txt'), 'v2');
    git(dir, ['add', 'app.txt']);
    assert.equal(await gitIndexMatchesHead(join(dir, 'etc/ssl')), false, 'staged outside, diff.relative=true');
    git(dir, ['commit', '-q', '-m', 'app v2']);
    assert.equal(await gitIndexMatchesHead(join(dir, 'etc/ssl')), true);

    const module = repo();
    commitFile(module, 'lib.txt', 'v1');
    git(dir, ['-c', 'protocol.file.allow=always', 'submodule', '-q', 'add', module, 'lib']);
    git(dir, ['config', '-f', '.gitmodules', 'submodule.lib.ignore', 'all']);
    git(dir, ['add', '.gitmodules']);
    git(dir, ['commit', '-q', '-m', 'submodule']);
    commitFile(join(dir, 'lib'), 'lib.txt', 'v2');
    git(dir, ['add', 'lib']);
    assert.equal(await gitIndexMatchesHead(join(dir, 'etc/ssl')), false, 'staged submodule change, ignore=all');
  });

  it("runs the repository's hooks with git's usual pathspec rules (no literal-pathspec mode leaks into them)", async () => {
    const dir = repo();
    commitFile(dir, 'README', 'readme');
    const log = join(dir, 'hook.log');
    // A guard hook of the kind teams write: it looks at what is staged with a glob pathspec.
    writeFileSync(join(dir, '.git/hooks/pre-commit'), `#!/bin/sh\necho "literal=$GIT_LITERAL_PATHSPECS staged=$(git diff --cached --name-only -- '*.crt' | tr '\\n' ' ')" >> "${log}"\n`);
    chmodSync(join(dir, '.git/hooks/pre-commit'), 0o755);
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs/a.crt'), 'a');
    await gitCommitPaths(dir, ['certs/a.crt'], 'Issue a', { indexMatchedHead: true });
    writeFileSync(join(dir, 'certs/b.crt'), 'b');
    await gitCommitPaths(dir, ['certs/b.crt'], 'Issue b', { indexMatchedHead: false });
    assert.equal(readFileSync(log, 'utf8'), 'literal= staged=certs/a.crt \nliteral= staged=certs/b.crt \n');
  });

  it('takes paths literally: a name with glob characters commits that file only', async () => {
    const dir = repo();
    commitFile(dir, 'README', 'readme');
    writeFileSync(join(dir, 'a[1].crt'), 'bracket');
    writeFileSync(join(dir, 'a1.crt'), 'not mine');
    git(dir, ['add', 'a1.crt']);
    await gitCommitPaths(dir, ['a[1].crt'], 'Issue a[1]', { indexMatchedHead: false });
    assert.equal(git(dir, ['show', '--name-only', '--format=', 'HEAD']), 'a[1].crt');
    assert.equal(git(dir, ['diff', '--cached', '--name-only']), 'a1.crt');
  });

  it('refuses a path marked skip-worktree, as git add does, also in a split index and when also assume-unchanged', async () => {
    for (const setUp of [[], [['config', 'core.splitIndex', 'true'], ['update-index', '--split-index']], [['update-index', '--assume-unchanged', 'certs/s.crt']]]) {
      const dir = repo();
      mkdirSync(join(dir, 'certs'));
      commitFile(dir, 'certs/s.crt', 'v1');
      commitFile(dir, 'certs/other.crt', 'v1');
      git(dir, ['update-index', '--skip-worktree', 'certs/s.crt']);
      for (const args of setUp) git(dir, args);
      const label = setUp.map((args) => args.join(' ')).join('; ') || 'plain index';
      await assert.rejects(gitRefuseSkipWorktree(dir, ['certs/new.crt', 'certs/s.crt']), (error: unknown) => error instanceof SkipWorktreeError && error.path === 'certs/s.crt', label);
      await gitRefuseSkipWorktree(dir, ['certs/new.crt', 'certs/other.crt']);
    }
    // A new repository (no index yet) and a plain one are answered without listing the index.
    await gitRefuseSkipWorktree(repo(), ['certs/a.crt']);
  });

  it('restores any number of paths, more than a command line holds', async () => {
    const dir = repo();
    commitFile(dir, 'kept.txt', 'v1');
    writeFileSync(join(dir, 'kept.txt'), 'half-made change');
    writeFileSync(join(dir, 'new.txt'), 'new');
    git(dir, ['add', 'kept.txt', 'new.txt']);
    // ~2.5 MB of paths: more than Linux's 2 MB for the arguments of one process.
    const many = Array.from({ length: 15_000 }, (_, i) => `records/ca/${'0'.repeat(140)}${i}.json`);
    await gitRestorePaths(dir, [...many, 'kept.txt', 'new.txt']);
    assert.equal(readFileSync(join(dir, 'kept.txt'), 'utf8'), 'v1');
    assert.equal(git(dir, ['status', '--porcelain']), '?? new.txt');
  });
});

describe('gitChangedPaths lists what changed in a folder since the merge base with a revision', () => {
  it('committed on the branch, uncommitted and untracked, relative to the folder, not what the base moved on to', async () => {
    const dir = repo();
    mkdirSync(join(dir, 'ca/sub'), { recursive: true });
    writeFileSync(join(dir, 'ca/.gitignore'), 'ignored.key\n');
    for (const name of ['ca/kept.txt', 'ca/changed.txt', 'ca/deleted.txt', 'ca/edited.txt', 'outside.txt']) commitFile(dir, name, 'v1');
    git(dir, ['add', 'ca/.gitignore']);
    git(dir, ['commit', '-q', '-m', 'ignore']);
    git(dir, ['branch', 'base']);
    commitFile(dir, 'ca/changed.txt', 'v2');
    commitFile(dir, 'ca/sub/added.txt', 'v1');
    commitFile(dir, 'outside.txt', 'v2');
    git(dir, ['rm', '-q', 'ca/deleted.txt']);
    git(dir, ['commit', '-q', '-m', 'delete']);
    writeFileSync(join(dir, 'ca/edited.txt'), 'v2');
    writeFileSync(join(dir, 'ca/untracked.txt'), 'v1');
    writeFileSync(join(dir, 'ca/ignored.key'), 'v1');
    // The base branch moves on after the fork: not a change of this branch.
    git(dir, ['checkout', '-q', 'base']);
    commitFile(dir, 'ca/kept.txt', 'v2');
    git(dir, ['checkout', '-q', '-']);
    const changed = await gitChangedPaths(join(dir, 'ca'), 'base');
    assert.deepEqual(changed.paths, ['changed.txt', 'deleted.txt', 'edited.txt', 'sub/added.txt', 'untracked.txt']);
    assert.deepEqual([...changed.added].sort(), ['sub/added.txt', 'untracked.txt']);
    assert.equal(changed.base, git(dir, ['merge-base', 'base', 'HEAD']));
  });

  it('with two merge bases (branches merged into each other), from the one git merge-base names', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'v1');
    const main = git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']);
    git(dir, ['checkout', '-q', '-b', 'left']);
    commitFile(dir, 'left.txt', 'v1');
    git(dir, ['checkout', '-q', main]);
    commitFile(dir, 'right.txt', 'v1');
    git(dir, ['checkout', '-q', '-b', 'merged-left', 'left']);
    git(dir, ['merge', '-q', '--no-edit', main]);
    git(dir, ['checkout', '-q', main]);
    git(dir, ['merge', '-q', '--no-edit', 'left']);
    commitFile(dir, 'new.txt', 'v1');
    assert.equal(git(dir, ['merge-base', '--all', 'merged-left', 'HEAD']).split('\n').length, 2);
    const changed = await gitChangedPaths(dir, 'merged-left');
    const base = git(dir, ['merge-base', 'merged-left', 'HEAD']);
    assert.equal(changed.base, base);
    assert.deepEqual(changed.paths, git(dir, ['diff', '--name-only', base]).split('\n'));
  });

  it('refuses a revision git does not know, and one with no history in common', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'v1');
    await assert.rejects(gitChangedPaths(dir, 'origin/nothing'), (error) => error instanceof GitUnknownRefError && error.reason === 'unknown');
    await assert.rejects(gitChangedPaths(dir, '--output=x'), (error) => error instanceof GitUnknownRefError && error.reason === 'unknown');
    const first = git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']);
    git(dir, ['checkout', '-q', '--orphan', 'other']);
    commitFile(dir, 'b.txt', 'v1');
    await assert.rejects(gitChangedPaths(dir, first), (error) => error instanceof GitUnknownRefError && error.reason === 'unrelated');
  });
});

describe('gitOperationUnderWay', () => {
  it('tells git am from a rebase, and a stopped sequence of reverts from one of picks', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    const gitDir = join(dir, '.git');
    assert.equal(await gitOperationUnderWay(dir), undefined);
    mkdirSync(join(gitDir, 'rebase-apply'));
    assert.equal(await gitOperationUnderWay(dir), 'rebase');
    writeFileSync(join(gitDir, 'rebase-apply/applying'), '');
    assert.equal(await gitOperationUnderWay(dir), 'am');
    rmSync(join(gitDir, 'rebase-apply'), { recursive: true });
    mkdirSync(join(gitDir, 'sequencer'));
    writeFileSync(join(gitDir, 'sequencer/todo'), 'revert 1234567 Revoke one\n');
    assert.equal(await gitOperationUnderWay(dir), 'revert');
    writeFileSync(join(gitDir, 'sequencer/todo'), '# picks left\npick 1234567 Issue one\n');
    assert.equal(await gitOperationUnderWay(dir), 'cherry-pick');
  });

  it('takes a squash merge for under way while something is staged, and a stale SQUASH_MSG for nothing', async () => {
    const dir = repo();
    commitFile(dir, 'a.txt', 'a');
    git(dir, ['checkout', '-q', '-b', 'side']);
    commitFile(dir, 'b.txt', 'b');
    git(dir, ['checkout', '-q', '-']);
    git(dir, ['merge', '-q', '--squash', 'side']);
    assert.equal(await gitOperationUnderWay(dir), 'squash');
    git(dir, ['reset', '-q', 'HEAD', '--', 'b.txt']);
    assert.equal(existsSync(join(dir, '.git/SQUASH_MSG')), true);
    assert.equal(await gitOperationUnderWay(dir), undefined, 'nothing staged: the message is stale');
  });
});

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaStore, StoreWriteError, type FileWrite } from '../../src/store/ca-store.js';
import { PLUMBING_MIN_INDEX_BYTES } from '../../src/store/git-commit.js';
import { PACK_MIN_OBJECTS } from '../../src/store/git.js';
import { GITIGNORE_CONTENT, JOURNAL_FILE } from '../../src/store/layout.js';
import { git, tempDir } from '../helpers/cli.js';

/** A CA-like repository with one commit, and a change of `count` certificates (a record and a key each). */
function setUp(count: number): { dir: string; writes: FileWrite[] } {
  const dir = tempDir();
  git(dir, ['init', '-q']);
  writeFileSync(join(dir, '.gitignore'), GITIGNORE_CONTENT);
  git(dir, ['add', '.gitignore']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-q', '-m', 'Create CA']);
  const writes: FileWrite[] = [];
  for (let i = 0; i < count; i++) {
    writes.push({ path: `certs/host-${i}.crt`, content: `certificate ${i}\n`, commit: true });
    writes.push({ path: `private/host-${i}.key`, content: `key ${i}, never committed\n`, private: true, commit: false });
  }
  return { dir, writes };
}

function looseObjects(dir: string): number {
  return Number(/^count: (\d+)$/m.exec(git(dir, ['count-objects', '-v']))?.[1]);
}

describe('a change that commits many files', () => {
  it('stores their content as one pack, commits exactly them, and keeps private files private', async () => {
    // The fewest files that take this path, in a repository that asks fast-import to unpack more.
    const count = PACK_MIN_OBJECTS;
    const { dir, writes } = setUp(count);
    git(dir, ['config', 'fastimport.unpackLimit', '1000']);
    const before = looseObjects(dir);
    const store = CaStore.open(dir, { lockTimeoutMs: 5000 });
    const { commit } = await store.locked(() => store.apply({ message: 'Apply certificates.yaml', writes }));

    assert.equal(git(dir, ['rev-parse', 'HEAD']).trim(), commit);
    const committed = git(dir, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n');
    assert.equal(committed.length, count);
    assert.ok(committed.every((path) => path.startsWith('certs/')));
    assert.equal(git(dir, ['show', 'HEAD:certs/host-7.crt']), 'certificate 7\n');
    // The blobs went into the pack: loose are only the commit and its two trees.
    assert.equal(looseObjects(dir) - before, 3);
    assert.equal(readFileSync(join(dir, 'private/host-7.key'), 'utf8'), 'key 7, never committed\n');
    assert.equal(statSync(join(dir, 'private/host-7.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'private')).mode & 0o777, 0o700);
    assert.equal(git(dir, ['status', '--porcelain']), '');
    assert.ok(!existsSync(join(dir, JOURNAL_FILE)));
  });

  describe('when git cannot store the pack', () => {
    const shimDir = tempDir();
    const path = process.env.PATH;
    before(() => {
      const realGit = join(git(shimDir, ['--exec-path']).trim(), 'git');
      mkdirSync(shimDir, { recursive: true });
      writeFileSync(join(shimDir, 'git'), `#!/bin/sh\ncase " $* " in *" fast-import "*) echo "fatal: no space left on device" >&2; exit 128;; esac\nexec "${realGit}" "$@"\n`);
      chmodSync(join(shimDir, 'git'), 0o755);
      process.env.PATH = `${shimDir}:${path ?? ''}`;
    });
    after(() => {
      process.env.PATH = path;
    });

    it('fails with the reason, and leaves no file, no commit and no journal', async () => {
      const { dir, writes } = setUp(PACK_MIN_OBJECTS);
      const head = git(dir, ['rev-parse', 'HEAD']);
      const store = CaStore.open(dir, { lockTimeoutMs: 5000 });
      await assert.rejects(
        store.locked(() => store.apply({ message: 'Apply certificates.yaml', writes })),
        (error: unknown) => error instanceof StoreWriteError && /store the new files in git in .*no space left on device/.test(error.message),
      );
      assert.equal(git(dir, ['rev-parse', 'HEAD']), head);
      assert.ok(!existsSync(join(dir, 'certs')), 'no certificate is left');
      assert.ok(!existsSync(join(dir, 'private/host-0.key')), 'no key is left');
      assert.ok(!existsSync(join(dir, JOURNAL_FILE)));
      assert.equal(git(dir, ['status', '--porcelain']), '');
    });
  });

  describe('in a large repository', () => {
    const shimDir = tempDir();
    const log = join(shimDir, 'git.log');
    const path = process.env.PATH;
    before(() => {
      const realGit = join(git(shimDir, ['--exec-path']).trim(), 'git');
      writeFileSync(join(shimDir, 'git'), `#!/bin/sh\necho "$*" >> "${log}"\nexec "${realGit}" "$@"\n`);
      chmodSync(join(shimDir, 'git'), 0o755);
      process.env.PATH = `${shimDir}:${path ?? ''}`;
    });
    after(() => {
      process.env.PATH = path;
    });

    it('commits with plumbing, as git commit would, and with git commit when a hook would run', async () => {
      // Enough certificates for an index past the threshold (each entry takes ~88 bytes).
      const { dir, writes } = setUp(Math.ceil(PLUMBING_MIN_INDEX_BYTES / 80));
      const store = CaStore.open(dir, { lockTimeoutMs: 5000 });
      await store.locked(() => store.apply({ message: 'Apply certificates.yaml', writes: writes.filter((write) => write.commit) }));
      assert.ok(statSync(join(dir, '.git/index')).size >= PLUMBING_MIN_INDEX_BYTES);
      const gitRuns = async (name: string): Promise<string[]> => {
        writeFileSync(log, '');
        await store.locked(() => store.apply({ message: `Issue ${name}\n\nCertified-Action: issue`, writes: [{ path: `certs/${name}.crt`, content: `${name}\n`, commit: true }] }));
        // Each git command's name: its first word after any "-c name=value".
        return readFileSync(log, 'utf8').split('\n').map((line) => line.replace(/^(-c \S+ )+/, '').split(' ')[0] ?? '');
      };

      const plumbing = await gitRuns('plumbed');
      assert.ok(['write-tree', 'commit-tree', 'update-ref', 'maintenance'].every((command) => plumbing.includes(command)), plumbing.join(' '));
      assert.ok(!plumbing.includes('commit'), plumbing.join(' '));
      assert.equal(git(dir, ['log', '-1', '--format=%s%n%n%b']).trim(), 'Issue plumbed\n\nCertified-Action: issue');
      assert.equal(git(dir, ['reflog', '-1', '--format=%gs']).trim(), 'commit: Issue plumbed');
      assert.equal(git(dir, ['show', '--name-only', '--format=', 'HEAD']).trim(), 'certs/plumbed.crt');
      assert.equal(git(dir, ['status', '--porcelain']), '');

      writeFileSync(join(dir, '.git/hooks/pre-commit'), `#!/bin/sh\ntouch "${join(shimDir, 'hook-ran')}"\n`);
      chmodSync(join(dir, '.git/hooks/pre-commit'), 0o755);
      const porcelain = await gitRuns('hooked');
      assert.ok(porcelain.includes('commit') && !porcelain.includes('commit-tree'), porcelain.join(' '));
      assert.ok(existsSync(join(shimDir, 'hook-ran')), 'the pre-commit hook ran');
      assert.equal(git(dir, ['show', '--name-only', '--format=', 'HEAD']).trim(), 'certs/hooked.crt');
    });
  });
});

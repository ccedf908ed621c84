import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { commitFile, git, repo } from '../helpers/git-repo.js';
import { CaStore, type ChangeNotice } from '../../src/store/ca-store.js';

describe('CaStore.headCommit while the store commits for its listeners', () => {
  it('answers with HEAD as the change found it until the listeners hear of the commit', async () => {
    const dir = repo('certified-head-');
    commitFile(dir, 'first.txt', 'first\n');
    const before = git(dir, ['rev-parse', 'HEAD']);
    // git has moved HEAD when post-commit runs, and its process ends only after the hook.
    const hook = join(dir, '.git/hooks/post-commit');
    writeFileSync(hook, '#!/bin/sh\nsleep 1\n');
    chmodSync(hook, 0o755);

    const store = CaStore.open(dir, { lockTimeoutMs: 10_000 });
    const heard: ChangeNotice[] = [];
    store.onCommit((notice) => heard.push(notice));
    const applied = store.locked(() => store.apply({ message: 'second', writes: [{ path: 'second.txt', content: 'second\n', commit: true }] }));
    const refFile = join(dir, '.git/refs/heads', git(dir, ['symbolic-ref', '--short', 'HEAD']));
    for (let i = 0; i < 200 && readFileSync(refFile, 'utf8').trim() === before; i++) await sleep(10);
    assert.notEqual(readFileSync(refFile, 'utf8').trim(), before, 'git moved HEAD');
    assert.equal(heard.length, 0);
    assert.equal(await store.headCommit(), before);

    const { commit } = await applied;
    assert.deepEqual(heard, [{ parent: before, commit, paths: ['second.txt'] }]);
    assert.equal(await store.headCommit(), commit);
  });
});

describe('CaStore.apply beside a user of the same repository', () => {
  it('keeps out of its commit what someone stages while its files are written', async () => {
    const dir = repo('certified-staged-');
    commitFile(dir, 'first.txt', 'first\n');
    const store = CaStore.open(dir, { lockTimeoutMs: 10_000 });
    // Whether the index holds HEAD is asked while the files are written: the user stages right after.
    const change = (store as unknown as { change: { writeFilesAndObjects: (...args: unknown[]) => Promise<void> } }).change;
    const original = change.writeFilesAndObjects.bind(change);
    change.writeFilesAndObjects = async (...args: unknown[]) => {
      await original(...args);
      await sleep(200);
      writeFileSync(join(dir, 'mine.txt'), 'the user\'s\n');
      git(dir, ['add', 'mine.txt']);
    };
    const { commit } = await store.locked(() => store.apply({ message: 'second', writes: [{ path: 'second.txt', content: 'second\n', commit: true }] }));
    assert.equal(git(dir, ['show', '--name-only', '--format=', commit]), 'second.txt');
    assert.equal(git(dir, ['diff', '--cached', '--name-only']), 'mine.txt', 'still staged, for the user to commit');
  });
});

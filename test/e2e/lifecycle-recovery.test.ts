import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CaStore } from '../../src/store/ca-store.js';
import { GITIGNORE_CONTENT, JOURNAL_FILE } from '../../src/store/layout.js';
import { git, tempDir } from '../helpers/cli.js';

describe('a renewal killed before its commit is rolled back', () => {
  it('puts the moved certificate and key back over the new ones and removes revoked/', async () => {
    const dir = tempDir();
    git(dir, ['init', '-q']);
    mkdirSync(join(dir, 'certs'));
    mkdirSync(join(dir, 'private'), { mode: 0o700 });
    writeFileSync(join(dir, '.gitignore'), GITIGNORE_CONTENT);
    writeFileSync(join(dir, 'certs/web.crt'), 'old certificate\n');
    writeFileSync(join(dir, 'private/web.key'), 'old key, git-ignored\n', { mode: 0o600 });
    git(dir, ['add', '.gitignore', 'certs/web.crt']);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-q', '-m', 'Issue web']);
    const parent = git(dir, ['rev-parse', 'HEAD']).trim();

    // The state a renewal leaves when killed after its moves and writes, before git commit.
    const moves = [
      { from: 'certs/web.crt', to: 'revoked/web-01/web.crt' },
      { from: 'private/web.key', to: 'private/revoked/web-01.key' },
    ];
    writeFileSync(
      join(dir, JOURNAL_FILE),
      JSON.stringify({ summary: 'Renew web', parent, startedAt: new Date().toISOString(), created: moves.map((m) => m.to), changed: moves.map((m) => m.from), moves }),
    );
    for (const move of moves) {
      mkdirSync(join(dir, move.to, '..'), { recursive: true });
      renameSync(join(dir, move.from), join(dir, move.to));
    }
    writeFileSync(join(dir, 'certs/web.crt'), 'new certificate\n');
    writeFileSync(join(dir, 'private/web.key'), 'new key\n');

    const outcomes: string[] = [];
    const store = CaStore.open(dir, { lockTimeoutMs: 5000, onRecovered: (outcome) => outcomes.push(outcome) });
    await store.locked(async () => undefined);
    assert.deepEqual(outcomes, ['rolled back']);
    assert.equal(readFileSync(join(dir, 'certs/web.crt'), 'utf8'), 'old certificate\n');
    assert.equal(readFileSync(join(dir, 'private/web.key'), 'utf8'), 'old key, git-ignored\n');
    assert.ok(!existsSync(join(dir, 'revoked')));
    assert.ok(!existsSync(join(dir, 'private/revoked')));
    assert.ok(!existsSync(join(dir, JOURNAL_FILE)));
    assert.equal(git(dir, ['status', '--porcelain']), '');
  });
});

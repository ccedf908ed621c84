import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { JOURNAL_FILE } from '../../src/store/layout.js';
import { ROOT_PASSWORD, git, makeCa, run, tempDir } from '../helpers/cli.js';

describe('a change to a path marked skip-worktree (outside a sparse checkout)', () => {
  it('is refused before anything is written, with the way out, and the CA keeps working', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    const crlBefore = readFileSync(join(db, 'crl/ca.crl'), 'utf8');
    const head = git(db, ['rev-parse', 'HEAD']);
    git(db, ['update-index', '--skip-worktree', 'crl/ca.crl']);

    const env = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
    const refused = await run(['crl'], { cwd, env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^certified: "crl\/ca\.crl" is marked skip-worktree \(outside your sparse checkout\), so git would not commit it\. Nothing was written\./);
    assert.match(refused.stderr, /git update-index --no-skip-worktree crl\/ca\.crl/);
    assert.equal(readFileSync(join(db, 'crl/ca.crl'), 'utf8'), crlBefore);
    assert.equal(git(db, ['rev-parse', 'HEAD']), head);
    assert.ok(!existsSync(join(db, JOURNAL_FILE)));
    assert.equal(git(db, ['status', '--porcelain']), '');

    const issued = await run(['CN=next.example.com'], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
    git(db, ['update-index', '--no-skip-worktree', 'crl/ca.crl']);
    const crl = await run(['crl'], { cwd, env });
    assert.equal(crl.code, 0, crl.stderr);
  });
});

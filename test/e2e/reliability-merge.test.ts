import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { git, makeCa, openssl, run, tempDir, tool } from '../helpers/cli.js';
import { assertAllOrNothing, assertCaSound } from '../helpers/ca-state.js';

const CA_PASSWORD = 'intermediate password';
// Leaf keys encrypted, so that they are committed and every clone has all four files.
const ENV = { CERTIFIED_CA_PASSWORD: CA_PASSWORD, CERTIFIED_PASSWORD: 'leaf key password' };

function cloneCa(origin: string, into: string): string {
  git(into, ['clone', '-q', origin, 'ca']);
  const dir = join(into, 'ca');
  git(dir, ['config', 'user.name', 'Reviewer']);
  git(dir, ['config', 'user.email', 'reviewer@example.com']);
  return dir;
}

describe('two branches of one CA merge without conflicts', () => {
  let a: string;
  let b: string;
  before(async () => {
    const cwd = tempDir();
    // The intermediate key is encrypted, so it is committed and every clone can issue.
    await makeCa(cwd, ['--intermediate-password', CA_PASSWORD]);
    const origin = join(cwd, 'etc/ssl');
    a = cloneCa(origin, tempDir());
    b = cloneCa(origin, tempDir());
  });

  it('certificates issued on two branches in two clones merge cleanly (one record file each)', async () => {
    git(a, ['checkout', '-q', '-b', 'team-a']);
    git(b, ['checkout', '-q', '-b', 'team-b']);
    for (const [dir, names] of [[a, ['a1.example.com', 'a2.example.com']], [b, ['b1.example.com']]] as const) {
      for (const name of names) {
        const result = await run(['--db', dir, `CN=${name}`], { cwd: dir, env: ENV });
        assert.equal(result.code, 0, result.stderr);
      }
    }
    git(a, ['fetch', '-q', b, 'team-b']);
    const merge = tool('git', ['-C', a, 'merge', '--no-edit', 'FETCH_HEAD']);
    assert.equal(merge.status, 0, merge.stdout + merge.stderr);
    for (const name of ['a1.example.com', 'a2.example.com', 'b1.example.com']) assert.equal(assertAllOrNothing(a, name), 'issued');
    assertCaSound(a);
    // And the merged CA keeps working.
    const after = await run(['--db', a, 'CN=after-merge.example.com'], { cwd: a, env: ENV });
    assert.equal(after.code, 0, after.stderr);
    assertCaSound(a);
  });

  it('.gitattributes routes CRLs to the certified-crl merge driver', () => {
    assert.equal(git(a, ['check-attr', 'merge', '--', 'crl/ca.crl']).trim(), 'crl/ca.crl: merge: certified-crl');
    assert.equal(git(a, ['check-attr', 'merge', '--', 'certs/ca.crt']).trim(), 'certs/ca.crt: merge: unspecified');
  });

  it('CRLs rewritten on both sides merge with the driver, and "certified crl" rebuilds them from the records', async (t) => {
    // b catches up with a, then both revoke on their own side: both rewrite crl/ca.crl.
    git(b, ['fetch', '-q', a, 'team-a']);
    git(b, ['merge', '-q', '--ff-only', 'FETCH_HEAD']);
    const probe = await run(['--db', a, '--revoke', 'CN=a1.example.com'], { cwd: a, env: ENV });
    assert.equal(probe.code, 0, probe.stderr);
    for (const [dir, name] of [[a, 'a2.example.com'], [b, 'b1.example.com']] as const) {
      const result = await run(['--db', dir, '--revoke', `CN=${name}`], { cwd: dir, env: ENV });
      assert.equal(result.code, 0, result.stderr);
    }

    // Without the driver configured, both rewrote crl/ca.crl: a conflict.
    git(a, ['fetch', '-q', b, 'team-b']);
    const conflicting = tool('git', ['-C', a, 'merge', '--no-edit', 'FETCH_HEAD']);
    assert.notEqual(conflicting.status, 0);
    assert.match(conflicting.stdout, /CONFLICT \(content\): Merge conflict in crl\/ca\.crl/);
    git(a, ['merge', '--abort']);

    // With it (what "certified git-setup" sets per clone): no conflict; then rebuild the CRL.
    git(a, ['config', 'merge.certified-crl.name', 'keep one side; "certified crl" rebuilds CRLs from the records']);
    git(a, ['config', 'merge.certified-crl.driver', 'true']);
    const merge = tool('git', ['-C', a, 'merge', '--no-edit', 'FETCH_HEAD']);
    assert.equal(merge.status, 0, merge.stdout + merge.stderr);
    const crl = await run(['--db', a, 'crl'], { cwd: a, env: ENV });
    assert.equal(crl.code, 0, crl.stderr);
    const text = openssl(['crl', '-in', join(a, 'crl/ca.crl'), '-noout', '-text']).stdout;
    assert.equal((text.match(/Serial Number:/g) ?? []).length, 3, text);
    assertCaSound(a);
  });
});

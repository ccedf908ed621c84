import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { commitCount, git, makeCa, run, tempDir } from '../helpers/cli.js';

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
    assert.match(git(clone, ['config', 'diff.certified.textconv']), /certified['"]? show/);
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

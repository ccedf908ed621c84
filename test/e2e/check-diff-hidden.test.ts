/**
 * Every change to the CA is reviewed as a diff: a .gitattributes rule that takes the diff of
 * certificates or CRLs away ("-diff", "binary") would show reviewers "Binary files differ" in
 * git and on a pull request's page. check names each file such a rule hides.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { freshCa, git, makeCa, run, tempDir } from '../helpers/cli.js';

interface Finding {
  path: string;
  code: string;
  message: string;
}

async function findings(cwd: string, args: string[] = []): Promise<{ code: number; found: Finding[] }> {
  const result = await run(['check', '--json', ...args], { cwd });
  return { code: result.code, found: (JSON.parse(result.stdout) as { findings: Finding[] }).findings };
}

describe('check and .gitattributes rules that hide a diff from review', () => {
  let cwd: string;
  let db: string;
  before(async () => {
    ({ cwd, db } = await freshCa());
    assert.equal((await findings(cwd)).code, 0);
    git(db, ['branch', 'base']);
  });

  it('names each certificate and CRL whose diff a committed rule takes away, in a full check and with --since', async () => {
    appendFileSync(join(db, '.gitattributes'), 'certs/ca.crt -diff\n/crl/*.crl binary\n');
    git(db, ['commit', '-q', '-am', 'Quieter diffs']);
    for (const args of [[], ['--since', 'base']]) {
      const { code, found } = await findings(cwd, args);
      assert.equal(code, 1, args.join(' '));
      assert.deepEqual(
        found.filter((item) => item.code === 'diff-hidden').map((item) => item.path),
        ['certs/ca.crt', 'crl/ca.crl', 'crl/root-ca.crl'],
        args.join(' '),
      );
      assert.match(found.find((item) => item.path === 'certs/ca.crt')!.message, /a change to it is hidden from review/);
    }
    git(db, ['checkout', '-q', 'base', '--', '.gitattributes']);
    git(db, ['commit', '-q', '-m', 'Diffs back']);
    assert.deepEqual((await findings(cwd)).found, []);
  });

  it('names a new certificate a rule already in the base hides, in the scope of --since', async () => {
    appendFileSync(join(db, '.gitattributes'), 'certs/quiet-*.crt -diff\n');
    git(db, ['commit', '-q', '-am', 'A rule that hides nothing yet']);
    git(db, ['branch', '-f', 'base']);
    const issued = await run(['CN=quiet-host.example.com'], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
    const { code, found } = await findings(cwd, ['--since', 'base']);
    assert.equal(code, 1);
    assert.deepEqual(
      found.map((item) => `${item.path} ${item.code}`),
      ['certs/quiet-host.example.com.chain.crt diff-hidden', 'certs/quiet-host.example.com.crt diff-hidden'],
    );
  });

  it('names them when the rule is in a .gitattributes above the CA, with --since too', async () => {
    const outer = tempDir();
    git(outer, ['init', '-q']);
    git(outer, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'A repository of several things']);
    await makeCa(outer);
    // A CA whose own .gitattributes says nothing of *.crt (its rule would win over one above it).
    const own = join(outer, 'etc/ssl/.gitattributes');
    writeFileSync(own, readFileSync(own, 'utf8').replace(/^\*\.crt .*\n/m, ''));
    git(outer, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-am', 'An older .gitattributes']);
    assert.equal((await findings(outer)).code, 0);
    git(outer, ['branch', 'base']);
    writeFileSync(join(outer, '.gitattributes'), '*.crt -diff\n');
    git(outer, ['add', '.gitattributes']);
    git(outer, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'Quieter diffs, from the top']);
    for (const args of [[], ['--since', 'base']]) {
      const { code, found } = await findings(outer, args);
      assert.equal(code, 1, args.join(' '));
      assert.deepEqual(found.map((item) => `${item.path} ${item.code}`), ['certs/ca.chain.crt diff-hidden', 'certs/ca.crt diff-hidden', 'certs/root-ca.crt diff-hidden'], args.join(' '));
    }
  });
});

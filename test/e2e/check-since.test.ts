import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { git, makeCa, run, tempDir } from '../helpers/cli.js';

/**
 * `check --since REF` checks what changed since REF and what those changes affect, with the
 * findings a full check gives for those files: each case makes a change, runs both, and compares
 * the scoped findings with the full check's findings about the files the scoped check covered.
 */

const TEAM_PASSWORD = 'team password for tests';

interface CheckJson {
  ok: boolean;
  findings: { path: string; code: string; message: string }[];
  since?: string;
  scope?: { full: boolean; reason?: string; changed: string[]; certificates?: string[]; crls?: string[] };
}

/** The CA every case copies: two leaves under the intermediate, a sub-CA and a leaf under it; branch "base" at its HEAD. */
let home: string;

before(async () => {
  home = tempDir();
  await makeCa(home);
  for (const args of [
    ['CN=web.example.com'],
    ['CN=api.example.com'],
    ['init', '--issuer', 'ca', '--password', TEAM_PASSWORD, 'CN=Team CA'],
    ['issue', '--issuer', 'Team CA', 'CN=build.team.example.com'],
  ]) {
    const result = await run(args, { cwd: home, env: { CERTIFIED_CA_PASSWORD: TEAM_PASSWORD } });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
  }
  git(join(home, 'etc/ssl'), ['branch', 'base']);
});

function copyCa(): { cwd: string; db: string } {
  const cwd = tempDir();
  cpSync(home, cwd, { recursive: true });
  return { cwd, db: join(cwd, 'etc/ssl') };
}

async function check(cwd: string, args: string[] = []): Promise<{ code: number; json: CheckJson; stderr: string }> {
  const result = await run(['check', '--json', ...args], { cwd });
  return { code: result.code, json: JSON.parse(result.stdout) as CheckJson, stderr: result.stderr };
}

/** Every file a scoped check answers for: its certificates' files and records, its CRLs, the changed files. */
function coveredPaths(db: string, scope: NonNullable<CheckJson['scope']>): Set<string> {
  const names = new Set(scope.certificates ?? []);
  const paths = new Set([...scope.changed, ...(scope.crls ?? [])]);
  for (const name of names) for (const path of [`certs/${name}.crt`, `certs/${name}.chain.crt`, `private/${name}.key`, `csr/${name}.csr`]) paths.add(path);
  for (const issuer of readdirSync(join(db, 'records'))) {
    for (const file of readdirSync(join(db, 'records', issuer))) {
      const path = `records/${issuer}/${file}`;
      try {
        if (names.has((JSON.parse(readFileSync(join(db, path), 'utf8')) as { name: string }).name)) paths.add(path);
      } catch {
        // An unreadable record is covered only when it changed.
      }
    }
  }
  return paths;
}

const serialIn = (db: string, name: string): string => {
  const record = git(db, ['grep', '-l', `"name": "${name}"`, '--', 'records']).trim().split('\n')[0]!;
  return record.split('/')[2]!.replace('.json', '');
};

/** Runs the full and the scoped check after `change`, and checks they agree on what the scoped one covers. */
async function compare(change: (db: string, cwd: string) => Promise<void> | void): Promise<{ full: CheckJson; since: CheckJson; stderr: string; db: string }> {
  const { cwd, db } = copyCa();
  await change(db, cwd);
  const full = await check(cwd);
  const since = await check(cwd, ['--since', 'base']);
  assert.equal(since.json.since, 'base');
  assert.ok(since.json.scope, 'the JSON says what was checked');
  assert.equal(since.code, since.json.findings.length ? 1 : 0);
  if (since.json.scope.full) {
    assert.deepEqual(since.json.findings, full.json.findings);
  } else {
    const covered = coveredPaths(db, since.json.scope);
    assert.deepEqual(since.json.findings, full.json.findings.filter((item) => covered.has(item.path)));
  }
  return { full: full.json, since: since.json, stderr: since.stderr, db };
}

const codes = (json: CheckJson) => json.findings.map((item) => `${item.path} ${item.code}`);

describe('check --since', () => {
  it('checks a new leaf and nothing else; a clean change passes', async () => {
    const { since } = await compare(async (_db, cwd) => {
      const issued = await run(['CN=new.example.com'], { cwd });
      assert.equal(issued.code, 0, issued.stderr);
    });
    assert.deepEqual(since.findings, []);
    assert.equal(since.scope?.full, false);
    assert.deepEqual(since.scope?.certificates, ['new.example.com']);
    assert.deepEqual(since.scope?.crls, []);
  });

  it('checks a revoked certificate with its issuer\'s CRL, and finds a CRL that misses it', async () => {
    const { since } = await compare(async (db, cwd) => {
      const revoked = await run(['revoke', '--name', 'web.example.com'], { cwd });
      assert.equal(revoked.code, 0, revoked.stderr);
      // The CRL as it was before: it does not list the serial just revoked (uncommitted).
      git(db, ['checkout', 'base', '--', 'crl/ca.crl']);
    });
    assert.deepEqual(since.scope?.crls, ['crl/ca.crl']);
    assert.deepEqual(codes(since), ['crl/ca.crl crl-entries']);
  });

  it('checks everything below a changed sub-CA', async () => {
    const { since, full } = await compare((db) => {
      // Another CA's certificate where the sub-CA's was: what it issued no longer verifies.
      writeFileSync(join(db, 'certs/team-ca.crt'), readFileSync(join(db, 'certs/ca.crt')));
    });
    assert.ok(since.scope?.certificates?.includes('build.team.example.com'), JSON.stringify(since.scope));
    assert.ok(!since.scope?.certificates?.includes('web.example.com'));
    assert.ok(codes(since).includes('certs/build.team.example.com.crt bad-signature'), codes(since).join('\n'));
    assert.ok(codes(full).includes('certs/build.team.example.com.crt bad-signature'));
  });

  it('finds a tampered record and a deleted chain file (uncommitted)', async () => {
    const { since, db } = await compare((db) => {
      const path = join(db, 'records/ca', `${serialIn(db, 'api.example.com')}.json`);
      writeFileSync(path, readFileSync(path, 'utf8').replace(/"notAfter": "\d{4}/, '"notAfter": "2099'));
      rmSync(join(db, 'certs/web.example.com.chain.crt'));
    });
    assert.deepEqual(codes(since), [
      'certs/web.example.com.chain.crt missing-chain',
      `records/ca/${serialIn(db, 'api.example.com')}.json record-mismatch`,
    ]);
    assert.deepEqual(since.scope?.certificates, ['api.example.com', 'web.example.com']);
  });

  it('checks the whole CA when certified.json changed, and says so', async () => {
    const { since, stderr } = await compare((db) => {
      const path = join(db, 'certified.json');
      const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      writeFileSync(path, `${JSON.stringify({ ...config, crlDays: 8 }, null, 2)}\n`);
      rmSync(join(db, 'certs/api.example.com.chain.crt'));
    });
    assert.equal(since.scope?.full, true);
    assert.match(since.scope?.reason ?? '', /certified\.json/);
    assert.match(stderr, /^Note: checking the whole CA, not only what changed since "base": "certified\.json" changed\.$/m);
    assert.deepEqual(codes(since), ['certs/api.example.com.chain.crt missing-chain']);
  });

  it('finds a file replaced by a symbolic link to a copy outside the CA (what a pull request can commit)', async () => {
    const { since, full } = await compare((db) => {
      const outside = join(tempDir(), 'web.chain.crt');
      writeFileSync(outside, readFileSync(join(db, 'certs/web.example.com.chain.crt')));
      rmSync(join(db, 'certs/web.example.com.chain.crt'));
      symlinkSync(outside, join(db, 'certs/web.example.com.chain.crt'));
      git(db, ['add', 'certs/web.example.com.chain.crt']);
      git(db, ['commit', '-q', '-m', 'A link']);
    });
    assert.deepEqual(codes(since), ['certs/web.example.com.chain.crt symlink']);
    assert.deepEqual(codes(full), ['certs/web.example.com.chain.crt symlink']);
  });

  it('finds a .gitignore that no longer keeps unencrypted keys out of git', async () => {
    const { since, full } = await compare((db) => {
      writeFileSync(join(db, '.gitignore'), '# nothing ignored\n');
      git(db, ['commit', '-q', '-am', 'Ignore less']);
    });
    assert.equal(since.scope?.full, true);
    assert.deepEqual(codes(since), ['.gitignore keys-not-ignored']);
    assert.deepEqual(codes(full), ['.gitignore keys-not-ignored']);
  });

  it('finds a revocation undone by git revert, and the older CRL it put back', async () => {
    const { cwd, db } = copyCa();
    const serial = serialIn(db, 'web.example.com');
    const revoked = await run(['revoke', '--reason', 'keyCompromise', '--name', 'web.example.com'], { cwd });
    assert.equal(revoked.code, 0, revoked.stderr);
    git(db, ['branch', '-f', 'base']);
    git(db, ['revert', '--no-edit', 'HEAD']);
    const reverted = await check(cwd, ['--since', 'base']);
    assert.equal(reverted.code, 1);
    assert.deepEqual(codes(reverted.json), ['crl/ca.crl crl-rollback', `records/ca/${serial}.json unrevoked`]);
    assert.match(reverted.json.findings[1]!.message, /revoked \(keyCompromise\) in "base", and no longer is/);
    // Re-signing the CRL from the records gives it a higher number, but the revocation is still undone.
    const crl = await run(['crl', '--issuer', 'ca'], { cwd });
    assert.equal(crl.code, 0, crl.stderr);
    const resigned = await check(cwd, ['--since', 'base']);
    assert.deepEqual(codes(resigned.json), [`records/ca/${serial}.json unrevoked`]);
  });

  it('finds a revoked record deleted outright', async () => {
    const { cwd, db } = copyCa();
    const serial = serialIn(db, 'web.example.com');
    const revoked = await run(['revoke', '--name', 'web.example.com'], { cwd });
    assert.equal(revoked.code, 0, revoked.stderr);
    git(db, ['branch', '-f', 'base']);
    git(db, ['rm', '-q', `records/ca/${serial}.json`, `revoked-index/ca/${serial}`]);
    const since = await check(cwd, ['--since', 'base']);
    assert.ok(codes(since.json).includes(`records/ca/${serial}.json unrevoked`), codes(since.json).join('\n'));
  });

  it('finds a revoked record moved to another folder and made valid', async () => {
    const { cwd, db } = copyCa();
    const serial = serialIn(db, 'web.example.com');
    const revoked = await run(['revoke', '--name', 'web.example.com'], { cwd });
    assert.equal(revoked.code, 0, revoked.stderr);
    git(db, ['branch', '-f', 'base']);
    const record = JSON.parse(readFileSync(join(db, `records/ca/${serial}.json`), 'utf8')) as { status: string; revocation?: unknown };
    record.status = 'valid';
    delete record.revocation;
    mkdirSync(join(db, 'records/elsewhere'), { recursive: true });
    writeFileSync(join(db, `records/elsewhere/${serial}.json`), `${JSON.stringify(record, null, 2)}\n`);
    git(db, ['rm', '-q', `records/ca/${serial}.json`]);
    git(db, ['add', `records/elsewhere/${serial}.json`]);
    git(db, ['commit', '-q', '-m', 'Move a record']);
    const since = await check(cwd, ['--since', 'base']);
    assert.ok(codes(since.json).includes(`records/ca/${serial}.json unrevoked`), codes(since.json).join('\n'));
  });

  it('in a shallow clone (CI\'s fetch-depth: 1), says the history is missing and how to fetch it', async () => {
    const { cwd, db } = copyCa();
    const issued = await run(['CN=new.example.com'], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
    const ci = join(tempDir(), 'ci');
    git(cwd, ['clone', '-q', '--depth', '1', `file://${db}`, ci]);
    git(ci, ['fetch', '-q', '--depth', '1', 'origin', 'base:refs/remotes/origin/base']);
    const result = await run(['check', '--since', 'origin/base'], { cwd: ci });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, result.stderr);
    assert.match(result.stderr, /^certified: this clone is shallow, so --since cannot find where "origin\/base" and HEAD part\. .*git fetch --unshallow/);
    // CI's usual case: the pull request's base was not fetched at all.
    const unfetched = await run(['check', '--since', 'origin/main'], { cwd: ci });
    assert.equal(unfetched.code, 1);
    assert.match(unfetched.stderr, /^certified: unknown git revision "origin\/main" given to --since\. This clone is shallow: fetch the history and that branch \("git fetch --unshallow origin \+main:refs\/remotes\/origin\/main"/);
  });

  it('finds an issued certificate forgotten by git revert: its record gone, no CRL can list it', async () => {
    const { cwd, db } = copyCa();
    const issued = await run(['CN=new.example.com'], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
    const serial = serialIn(db, 'new.example.com');
    git(db, ['branch', '-f', 'base']);
    git(db, ['revert', '--no-edit', 'HEAD']);
    const since = await check(cwd, ['--since', 'base']);
    assert.equal(since.code, 1);
    // Its key, git-ignored, stayed on disk.
    assert.deepEqual(codes(since.json), ['private/new.example.com.key orphan-key', `records/ca/${serial}.json record-deleted`]);
    assert.match(since.json.findings[1]!.message, /restore the record .* and revoke the certificate instead/);
  });

  it('finds a name that a record from REF and a new one both hold, as after merging two branches that issued it', async () => {
    const { since, db } = await compare(async (db, cwd) => {
      // This branch issues web.example.com again; the record REF holds of it stays valid.
      for (const path of ['certs/web.example.com.crt', 'certs/web.example.com.chain.crt', 'csr/web.example.com.csr', 'private/web.example.com.key']) rmSync(join(db, path), { force: true });
      const issued = await run(['CN=web.example.com'], { cwd });
      assert.equal(issued.code, 0, issued.stderr);
    });
    assert.deepEqual(codes(since), ['certs/web.example.com.crt duplicate-name']);
    assert.equal(git(db, ['grep', '-l', '"name": "web.example.com"', '--', 'records']).trim().split('\n').length, 2);
  });

  it('finds it too when the record REF holds is written by hand (compact, its name escaped)', async () => {
    const { since } = await compare(async (db, cwd) => {
      const path = join(db, 'records/ca', `${serialIn(db, 'web.example.com')}.json`);
      writeFileSync(path, JSON.stringify(JSON.parse(readFileSync(path, 'utf8'))).replace('"name":"web', '"name":"\\u0077eb'));
      git(db, ['commit', '-q', '-am', 'A record written by hand']);
      git(db, ['branch', '-f', 'base']);
      for (const file of ['certs/web.example.com.crt', 'certs/web.example.com.chain.crt', 'csr/web.example.com.csr', 'private/web.example.com.key']) rmSync(join(db, file), { force: true });
      const issued = await run(['CN=web.example.com'], { cwd });
      assert.equal(issued.code, 0, issued.stderr);
    });
    assert.deepEqual(codes(since), ['certs/web.example.com.crt duplicate-name']);
  });

  it('judges a certificate replaced by another one with the record of that other one\'s serial', async () => {
    const { since } = await compare((db) => {
      // api.example.com did not change: its record is found by the serial in the copy.
      writeFileSync(join(db, 'certs/web.example.com.crt'), readFileSync(join(db, 'certs/api.example.com.crt')));
    });
    assert.deepEqual(since.scope?.certificates, ['web.example.com']);
    assert.ok(codes(since).includes('certs/web.example.com.crt record-mismatch'), codes(since).join('\n'));
    assert.match(since.findings.find((item) => item.code === 'record-mismatch')?.message ?? '', /names "api\.example\.com"/);
  });

  it('reports a misplaced record once when a revocation brings every record in', async () => {
    const { since, db } = await compare(async (db, cwd) => {
      // A record whose serial no longer matches its file, read first among the few; then a CRL in scope needs them all.
      const path = join(db, 'records/ca', `${serialIn(db, 'web.example.com')}.json`);
      writeFileSync(path, readFileSync(path, 'utf8').replace(/"serial": "([0-9a-f]+)"/, '"serial": "00$1"'));
      const revoked = await run(['revoke', '--name', 'api.example.com'], { cwd });
      assert.equal(revoked.code, 0, revoked.stderr);
    });
    const misplaced = `records/ca/${serialIn(db, 'web.example.com')}.json record-mismatch`;
    assert.equal(codes(since).filter((code) => code === misplaced).length, 1, codes(since).join('\n'));
  });

  it('compares a CRL in scope with the revoked records REF already had', async () => {
    const { since } = await compare(async (db, cwd) => {
      const first = await run(['revoke', '--name', 'web.example.com'], { cwd });
      assert.equal(first.code, 0, first.stderr);
      git(db, ['branch', '-f', 'base']);
      const second = await run(['revoke', '--name', 'api.example.com'], { cwd });
      assert.equal(second.code, 0, second.stderr);
    });
    assert.deepEqual(since.scope?.crls, ['crl/ca.crl']);
    assert.deepEqual(since.findings, []);
  });

  it('names the fetch that gives a clone of one branch the base it lacks', async () => {
    const { cwd, db } = copyCa();
    git(db, ['branch', '-f', 'main', 'base']);
    git(db, ['checkout', '-q', '-b', 'work']);
    const issued = await run(['CN=new.example.com'], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
    const ci = join(tempDir(), 'ci');
    git(cwd, ['clone', '-q', '--single-branch', '--branch', 'work', `file://${db}`, ci]);
    const refused = await run(['check', '--since', 'origin/main'], { cwd: ci });
    assert.equal(refused.code, 1);
    const fetch = /"(git fetch origin \+main:refs\/remotes\/origin\/main)"/.exec(refused.stderr)?.[1];
    assert.ok(fetch, refused.stderr);
    git(ci, fetch.split(' ').slice(1));
    const since = await check(ci, ['--since', 'origin/main']);
    assert.equal(since.code, 0, JSON.stringify(since.json.findings));
    assert.deepEqual(since.json.scope?.certificates, ['new.example.com']);
  });

  it('refuses an unknown REF in one line naming it', async () => {
    const result = await run(['check', '--since', 'origin/no-such-branch'], { cwd: home });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^certified: unknown git revision "origin\/no-such-branch" given to --since\. Fetch it first \("git fetch origin \+no-such-branch:refs\/remotes\/origin\/no-such-branch"/);
    assert.equal(result.stderr.split('\n').filter(Boolean).length, 1);
  });
});

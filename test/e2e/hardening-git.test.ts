/**
 * git child processes and commits: no CERTIFIED_* variable (passwords) reaches a hook or another
 * program, long messages commit, a merge under way, a detached HEAD and a hook that drops the
 * trailers are told in one line, and a missing git is named as such.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, git, makeCa, run, snapshot, tempDir, tool } from '../helpers/cli.js';
import { GitOperationError } from '../../src/store/errors.js';
import { gitCommitPaths } from '../../src/store/git-commit.js';
import { runInWorkers } from '../../src/ca/worker-pool.js';
import { pathToFileURL } from 'node:url';

const PASSWORDS = {
  CERTIFIED_ROOT_PASSWORD: 'root secret 1f3a9c',
  // One password for the intermediate, however it is named.
  CERTIFIED_CA_PASSWORD: 'ca secret 7b2e4d',
  CERTIFIED_INTERMEDIATE_PASSWORD: 'ca secret 7b2e4d',
  CERTIFIED_PASSWORD: 'leaf secret 5e8f',
  CERTIFIED_JAVA_STOREPASS: 'store secret 2a6b',
  CERTIFIED_SOMETHING_ELSE: 'other value 3c7d',
};

function hook(repo: string, name: string, script: string): void {
  const path = join(repo, '.git/hooks', name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
}

function removeHook(repo: string, name: string): void {
  rmSync(join(repo, '.git/hooks', name), { force: true });
}

/** A repository with one commit, for the CA to live in (etc/ssl) beside other files. */
function repository(): string {
  const repo = tempDir();
  git(repo, ['init', '-q']);
  git(repo, ['config', 'user.name', 'Test']);
  git(repo, ['config', 'user.email', 'test@example.com']);
  writeFileSync(join(repo, 'README'), 'infra\n');
  git(repo, ['add', 'README']);
  git(repo, ['commit', '-q', '-m', 'start']);
  return repo;
}

function assertNoSecrets(dump: string, what: string): void {
  assert.notEqual(dump.trim(), '', `${what}: the dump is empty (did it run?)`);
  assert.doesNotMatch(dump, /CERTIFIED_/i, `${what} saw a CERTIFIED_ variable`);
  for (const value of Object.values(PASSWORDS)) assert.ok(!dump.includes(value), `${what} saw "${value}"`);
}

describe('no CERTIFIED_* variable reaches a child process', () => {
  let repo: string;
  let dump: string;
  before(() => {
    repo = repository();
    dump = join(tempDir('certified-dump-'), 'env.txt');
    for (const name of ['pre-commit', 'commit-msg', 'post-commit']) hook(repo, name, `echo "== ${name}" >> "${dump}"; env >> "${dump}"`);
  });

  it('git and its hooks run without them: --ca, issue, revoke, revoke --ca', async () => {
    await makeCa(repo, [], PASSWORDS);
    for (const args of [['CN=web.example.com'], ['revoke', 'CN=web.example.com'], ['revoke', '--ca']]) {
      const result = await run(args, { cwd: repo, env: PASSWORDS });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    const text = readFileSync(dump, 'utf8');
    assert.equal(text.match(/^== post-commit$/gm)?.length, 4, text.slice(0, 300));
    assertNoSecrets(text, 'a git hook');
  });

  it('the trust-store commands run without them', async () => {
    const bin = tempDir('certified-bin-');
    const certutilDump = join(bin, 'certutil-env.txt');
    const real = tool('sh', ['-c', 'command -v certutil']).stdout.trim();
    assert.ok(real, 'certutil is installed');
    writeFileSync(join(bin, 'certutil'), `#!/bin/sh\nenv >> "${certutilDump}"\nexec "${real}" "$@"\n`);
    chmodSync(join(bin, 'certutil'), 0o755);
    const home = tempDir('certified-home-');
    mkdirSync(join(home, '.pki/nssdb'), { recursive: true });
    assert.equal(tool(real, ['-N', '-d', `sql:${join(home, '.pki/nssdb')}`, '--empty-password']).status, 0);
    const result = await run(['trust', '--nss'], { cwd: repo, env: { ...PASSWORDS, HOME: home, PATH: `${bin}:${process.env.PATH ?? ''}` } });
    assert.equal(result.code, 0, result.stderr);
    assertNoSecrets(readFileSync(certutilDump, 'utf8'), 'certutil');
  });
});

describe('commits in unusual repository states', () => {
  let repo: string;
  let db: string;
  before(async () => {
    repo = repository();
    db = join(repo, 'etc/ssl');
    await makeCa(repo);
  });

  it('a commit on a detached HEAD is made, with a one-line warning on how to keep it', async () => {
    git(repo, ['checkout', '-q', '--detach']);
    try {
      const result = await run(['CN=detached.example.com'], { cwd: repo });
      assert.equal(result.code, 0, result.stderr);
      const head = git(repo, ['rev-parse', 'HEAD']).trim();
      const warnings = result.stderr.split('\n').filter((line) => line.startsWith('Warning:'));
      assert.deepEqual(warnings, [`Warning: the commit ${head.slice(0, 12)} is on no branch (HEAD is detached): keep it on a new branch with "git switch -c NAME".`]);
    } finally {
      git(repo, ['checkout', '-q', '-']);
      // Its key is not committed, so it stayed behind: the commit it belongs to is left aside.
      rmSync(join(db, 'private/detached.example.com.key'), { force: true });
    }
    const onBranch = await run(['CN=branch.example.com'], { cwd: repo });
    assert.equal(onBranch.code, 0, onBranch.stderr);
    assert.doesNotMatch(onBranch.stderr, /Warning:/);
  });

  it('during a conflicting merge: one line saying how to finish or abort it, nothing written', async () => {
    startConflictingMerge(repo);
    try {
      const before = snapshot(repo);
      const commits = commitCount(repo);
      for (const args of [['CN=merge.example.com'], ['revoke', 'CN=branch.example.com']]) {
        const result = await run(args, { cwd: repo });
        assert.equal(result.code, 1, result.stderr);
        assert.equal(
          result.stderr,
          `certified: a git merge is under way in the repository of "${db}", so nothing was changed. Finish the merge first: resolve the conflicts, "git add" them and run "git merge --continue" (or "git merge --abort"). "certified crl" resolves conflicts in CRLs itself.\n`,
        );
      }
      assert.deepEqual(snapshot(repo), before);
      assert.equal(commitCount(repo), commits);
    } finally {
      git(repo, ['merge', '--abort']);
    }
  });

  it('a commit-msg hook that moves or drops the trailers: a warning, and log reads what is left', async () => {
    writeFileSync(join(db, 'NOTES'), 'by hand\n');
    git(repo, ['add', 'etc/ssl/NOTES']);
    git(repo, ['commit', '-q', '-m', 'Notes by hand']);
    const cases = [
      // Text after the trailers: they are no longer the last paragraph, but still in the message.
      { hook: 'printf "\\nReviewed by the hook.\\n" >> "$1"', name: 'moved.example.com', action: 'issue' },
      // The Certified-* lines removed.
      { hook: 'sed -i "/^Certified-/d" "$1"', name: undefined, action: 'unknown' },
    ];
    for (const [index, item] of cases.entries()) {
      hook(repo, 'commit-msg', item.hook);
      const cn = item.name ?? `dropped${index}.example.com`;
      try {
        const result = await run([`CN=${cn}`], { cwd: repo });
        assert.equal(result.code, 0, result.stderr);
        const head = git(repo, ['rev-parse', 'HEAD']).trim();
        assert.match(
          result.stderr,
          new RegExp(`^Warning: a git hook rewrote the message of commit ${head.slice(0, 12)} and dropped its trailers \\(Certified-Action, Certified-Name, Certified-Issuer, Certified-Serial, Certified-Fingerprint\\), so "certified log" cannot tell what it did\\. Let the commit-msg hook keep the "Certified-" lines at the end of the message\\.$`, 'm'),
        );
      } finally {
        removeHook(repo, 'commit-msg');
      }
    }
    const log = await run(['log', '--json'], { cwd: repo });
    assert.equal(log.code, 0, log.stderr);
    const entries = JSON.parse(log.stdout) as { action: string; name?: string; trailersMissing?: boolean; shortCommit: string }[];
    const [dropped, moved] = entries;
    assert.equal(dropped?.action, 'unknown');
    assert.equal(dropped?.trailersMissing, true);
    assert.equal(moved?.action, 'issue');
    assert.equal(moved?.name, 'moved.example.com');
    assert.equal(moved?.trailersMissing, true);
    assert.deepEqual(entries[2], { ...entries[2], action: 'manual' }, 'the user\'s own commit stays "manual"');
    assert.ok(entries.slice(2).every((entry) => entry.trailersMissing === undefined));
    assert.equal(entries.at(-1)?.action, 'init-ca');
    assert.match(log.stderr, new RegExp(`^Note: 2 commit\\(s\\) made by certified lost their trailers to a git hook \\(${dropped?.shortCommit}, ${moved?.shortCommit}\\)`, 'm'));
    const table = await run(['log'], { cwd: repo });
    assert.match(table.stdout, /\bunknown\b/);
    // check says so too, without failing on it (the history cannot be mended without rewriting it).
    const check = await run(['check', '--json'], { cwd: repo });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.deepEqual((JSON.parse(check.stdout) as { commitsWithoutTrailers?: string[] }).commitsWithoutTrailers, [dropped?.shortCommit, moved?.shortCommit]);
    assert.match(check.stderr, new RegExp(`^Note: 2 commit\\(s\\) made by certified lost their trailers to a git hook \\(${dropped?.shortCommit}, ${moved?.shortCommit}\\): "certified log" shows what their messages still say\\.$`, 'm'));
  });
});

describe('git is not on PATH', () => {
  it('one line naming the fix, and nothing written: issue, init, log', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    const before = snapshot(cwd);
    const noGit = tempDir('certified-nogit-');
    const expected = 'certified: git is not installed or not on PATH. certified keeps the CA in a git repository: install git (for example "sudo apt-get install git") or add the directory that holds it to PATH, then run the command again. Nothing was changed.\n';
    for (const args of [['CN=web.example.com'], ['log'], ['crl']]) {
      const result = await run(args, { cwd, env: { PATH: noGit, CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
      assert.deepEqual({ code: result.code, stderr: result.stderr }, { code: 1, stderr: expected }, args.join(' '));
    }
    assert.deepEqual(snapshot(cwd), before);
    const fresh = tempDir();
    const init = await run(['--ca', 'CN=Example CA'], { cwd: fresh, env: { PATH: noGit, CERTIFIED_ROOT_PASSWORD: PASSWORDS.CERTIFIED_ROOT_PASSWORD } });
    assert.deepEqual({ code: init.code, stderr: init.stderr }, { code: 1, stderr: expected });
    assert.equal(existsSync(join(fresh, 'etc')), false, 'no directory left behind');
    assert.ok(existsSync(db));
  });
});

describe('gitCommitPaths', () => {
  function repo(): string {
    const dir = repository();
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    return dir;
  }

  it('commits a message of 3 MB (longer than a command line may be), both ways', async () => {
    const message = `Issue many names\n\n${Array.from({ length: 100_000 }, (_, i) => `DNS:host-${i}.example.com`).join('\n')}\n\nCertified-Action: issue\n`;
    assert.ok(message.length > 2_500_000);
    for (const indexMatchedHead of [true, false]) {
      const dir = repo();
      const commit = await gitCommitPaths(dir, ['a.txt'], message, { indexMatchedHead });
      assert.equal(git(dir, ['rev-parse', 'HEAD']).trim(), commit);
      const body = spawnSync('git', ['-C', dir, 'log', '-1', '--format=%B'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      assert.equal(body.stdout, `${message}\n`);
      assert.equal(tool('sh', ['-c', `ls "${join(dir, '.git')}" | grep -c CERTIFIED_COMMIT_MSG`]).stdout.trim(), '0', 'the message file is removed');
    }
  });

  it('a merge git finds under way at commit time is GitOperationError, not git\'s raw refusal', async () => {
    const dir = repo();
    startConflictingMerge(dir);
    await assert.rejects(gitCommitPaths(dir, ['a.txt'], 'Add a\n', { indexMatchedHead: false }), (error: unknown) => {
      assert.ok(error instanceof GitOperationError, String(error));
      assert.equal(error.operation, 'merge');
      return true;
    });
  });
});

describe('worker threads', () => {
  it('start without the CERTIFIED_* variables of the process', async () => {
    const script = join(tempDir('certified-worker-'), 'env-worker.mjs');
    writeFileSync(script, [
      "import { parentPort } from 'node:worker_threads';",
      "parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, results: m.jobs.map(() => Object.keys(process.env).filter((k) => /^CERTIFIED_/i.test(k))) }));",
    ].join('\n'));
    process.env.CERTIFIED_CA_PASSWORD = PASSWORDS.CERTIFIED_CA_PASSWORD;
    try {
      const seen = await runInWorkers<number, string[]>(pathToFileURL(script), undefined, [[1]], (jobs) => ({ jobs }));
      assert.deepEqual(seen, [[]]);
    } finally {
      delete process.env.CERTIFIED_CA_PASSWORD;
    }
  });
});

/** Leaves `dir` in the middle of a merge whose README conflicts. */
function startConflictingMerge(dir: string): void {
  git(dir, ['checkout', '-q', '-b', 'side']);
  writeFileSync(join(dir, 'README'), 'side\n');
  git(dir, ['commit', '-q', '-am', 'side']);
  git(dir, ['checkout', '-q', '-']);
  writeFileSync(join(dir, 'README'), 'main\n');
  git(dir, ['commit', '-q', '-am', 'main']);
  assert.notEqual(tool('git', ['-C', dir, 'merge', 'side']).status, 0, 'the merge conflicts');
}

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { commitCount, git, makeCa, run, snapshot, tempDir, tool, type RunResult } from '../helpers/cli.js';

/** Every password used below, each unique, so that a leak anywhere can be found by grep. */
const PW = {
  rootFlag: 'pw-root-flag-7c1e9a',
  rootStdin: 'pw-root-stdin-3b8d2f',
  rootEnv: 'pw-root-env-9e4a61',
  interEnv: 'pw-inter-env-2d7c35',
  interStdin: 'pw-inter-stdin-8f3b17',
  interFlag: 'pw-inter-flag-5a9e04',
  leafFlag: 'pw-leaf-flag-1c6d8b',
  leafStdin: 'pw-leaf-stdin-4e2f90',
  leafEnv: 'pw-leaf-env-6b3a7d',
  wrongFlag: 'pw-wrong-flag-0d5c2e',
  wrongStdin: 'pw-wrong-stdin-7a1b3c',
  wrongEnv: 'pw-wrong-env-3f8e6a',
};

const UNENCRYPTED_KEY = /BEGIN (?:RSA |EC )?PRIVATE KEY/;

/** Every file under a directory as text (git's loose objects are compressed: see gitHistory). */
function allText(dir: string): string {
  let text = '';
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    text += entry.isDirectory() ? allText(path) : readFileSync(path, 'latin1');
  }
  return text;
}

/** Every commit message and every diff of every ref, uncompressed. */
function gitHistory(db: string): string {
  return git(db, ['log', '-p', '--all', '--format=%H%n%B', '--no-color', '--no-ext-diff', '--no-textconv']);
}

describe('secrets never leak, keys are private, a wrong password changes nothing', () => {
  const outputs: RunResult[] = [];
  const dbs: string[] = [];
  let cwd: string;
  let db: string;

  const runLogged = async (...args: Parameters<typeof run>) => {
    const result = await run(...args);
    outputs.push(result);
    return result;
  };

  before(async () => {
    // Three CAs, one per source of the root password; the first one's intermediate key is encrypted.
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    const first = await runLogged(['--ca', 'CN=Secret CA', '--root-password', PW.rootFlag], { cwd, env: { CERTIFIED_INTERMEDIATE_PASSWORD: PW.interEnv } });
    assert.equal(first.code, 0, first.stderr);
    const second = tempDir();
    const viaStdin = await runLogged(['--ca', 'CN=Stdin CA', '--root-password', '-', '--intermediate-password', '-'], {
      cwd: second,
      input: `${PW.rootStdin}\n${PW.interStdin}\n`,
    });
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    const third = tempDir();
    const viaEnv = await runLogged(['--ca', 'CN=Env CA', `--intermediate-password=${PW.interFlag}`], { cwd: third, env: { CERTIFIED_ROOT_PASSWORD: PW.rootEnv } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    dbs.push(db, join(second, 'etc/ssl'), join(third, 'etc/ssl'));
  });

  it('issues with the CA password and the key password from the flag, stdin and the environment', async () => {
    const cases: [string, string[], Record<string, string>, string?][] = [
      ['flag', ['CN=a.example.com', '--ca-password', PW.interEnv, '--password', PW.leafFlag], {}],
      ['stdin', ['CN=b.example.com', '--password', '-', '--ca-password', '-'], {}, `${PW.leafStdin}\n${PW.interEnv}\n`],
      ['env', ['CN=c.example.com'], { CERTIFIED_CA_PASSWORD: PW.interEnv, CERTIFIED_PASSWORD: PW.leafEnv }],
      ['flag=', ['CN=d.example.com', `--ca-password=${PW.interEnv}`], {}],
    ];
    for (const [source, args, env, input] of cases) {
      const result = await runLogged(args, { cwd, env, ...(input !== undefined ? { input } : {}) });
      assert.equal(result.code, 0, `${source}: ${result.stderr}`);
    }
    // The encrypted leaf keys are committed; the one without --password is not.
    const tracked = git(db, ['ls-files', 'private']).trim().split('\n').sort();
    assert.deepEqual(tracked, ['private/a.example.com.key', 'private/b.example.com.key', 'private/c.example.com.key', 'private/ca.key']);
    assert.equal(tool('git', ['-C', db, 'check-ignore', '-q', 'private/d.example.com.key']).status, 0);
    assert.equal(tool('git', ['-C', db, 'check-ignore', '-q', 'private/root-ca.key']).status, 0);
  });

  it('a wrong CA password from any source: one clear line, nothing written, the password not echoed', async () => {
    const before = snapshot(cwd);
    const commits = commitCount(db);
    for (const [args, env, input] of [
      [['CN=w1.example.com', '--ca-password', PW.wrongFlag], {}, undefined],
      [['CN=w2.example.com', '--ca-password', '-'], {}, `${PW.wrongStdin}\n`],
      [['CN=w3.example.com'], { CERTIFIED_CA_PASSWORD: PW.wrongEnv }, undefined],
    ] as const) {
      const result = await runLogged([...args], { cwd, env, ...(input !== undefined ? { input } : {}) });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^certified: the password for "private\/ca\.key" is wrong\. Nothing was changed\.[^\n]*\n$/);
    }
    assert.equal(commitCount(db), commits);
    assert.deepEqual(snapshot(cwd), before);
  });

  it('no unencrypted private key in any commit, and encrypted ones only as PBES2', () => {
    for (const dir of dbs) {
      const history = gitHistory(dir);
      assert.doesNotMatch(history, UNENCRYPTED_KEY, dir);
      assert.match(history, /BEGIN ENCRYPTED PRIVATE KEY/, 'the grep does see committed keys');
      const parsed = tool('openssl', ['asn1parse', '-in', join(dir, 'private/ca.key')]);
      assert.match(parsed.stdout, /PBES2/);
      assert.match(parsed.stdout, /aes-256-cbc/);
    }
  });

  it('no password in any commit message, diff, git file, stdout or stderr', () => {
    const haystacks = [
      ...outputs.flatMap((result) => [result.stdout, result.stderr]),
      ...dbs.map(gitHistory),
      ...dbs.map((dir) => allText(join(dir, '.git'))),
    ].join('\n');
    for (const [source, password] of Object.entries(PW)) assert.ok(!haystacks.includes(password), `${source} leaked`);
    // The commit message shows the command line with the secrets masked.
    assert.match(git(db, ['log', '--format=%B']), /\$ certified CN=a\.example\.com --ca-password \*\*\* --password \*\*\*/);
  });

  it('key files are 0600 in a 0700 private/', () => {
    for (const dir of dbs) {
      assert.equal(statSync(join(dir, 'private')).mode & 0o777, 0o700, dir);
      for (const file of readdirSync(join(dir, 'private'))) assert.equal(statSync(join(dir, 'private', file)).mode & 0o777, 0o600, file);
    }
  });
});

describe('non-interactive: with stdin an open, silent pipe the tool never prompts or hangs', () => {
  let cwd: string;
  before(async () => {
    cwd = tempDir();
    await makeCa(cwd, ['--intermediate-password', 'intermediate password']);
  });

  const silent = (args: string[], where: string, env: Record<string, string> = {}) => run(args, { cwd: where, env, silentStdin: true, timeoutMs: 30_000 });

  it('errors at once when the CA key needs a password and none is given', async () => {
    const result = await silent(['CN=np.example.com'], cwd);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^certified: the intermediate key needs a password and none was given\. Pass --ca-password - \(one line on stdin\) or set CERTIFIED_CA_PASSWORD\.\n$/);
  });

  it('errors at once when --ca has no root password or no CN, creating nothing', async () => {
    const empty = tempDir();
    const noPassword = await silent(['--ca', 'CN=Quiet CA'], empty);
    assert.equal(noPassword.code, 1, noPassword.stderr);
    assert.match(noPassword.stderr, /^certified: the root key needs a password and none was given\./);
    const noCn = await silent(['--ca'], empty, { CERTIFIED_ROOT_PASSWORD: 'root password here' });
    assert.ok(noCn.code === 1 || noCn.code === 2, noCn.stderr);
    assert.match(noCn.stderr, /^certified: [^\n]*common name[^\n]*\n$/);
    assert.deepEqual(readdirSync(empty), []);
  });

  it('"-" with stdin at its end: a clear error, not a hang', async () => {
    const result = await run(['CN=eof.example.com', '--ca-password', '-'], { cwd, input: '' });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^certified: --ca-password - found no line on stdin\./);
  });

  it('a command that needs no secret does not wait for stdin', async () => {
    const result = await silent(['CN=fine.example.com'], cwd, { CERTIFIED_CA_PASSWORD: 'intermediate password' });
    assert.equal(result.code, 0, result.stderr);
  });
});

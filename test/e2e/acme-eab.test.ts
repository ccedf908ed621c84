/**
 * `certified acme eab`: one commit with acme/eab/<kid>.json, the HMAC key printed once and found
 * nowhere in git, and refusals that write nothing.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { openSecret, type SealedSecret } from '../../src/pki/eab.js';
import { commitCount, git, makeCa, run, snapshot, tempDir } from '../helpers/cli.js';

const CA_PASSWORD = 'intermediate secret for eab';
const MISSING = 'certified: the intermediate key needs a password and none was given. Pass --ca-password - (one line on stdin) or set CERTIFIED_CA_PASSWORD.\n';

/** Every way a 32-byte key could be spelled in a file. */
function spellings(hmacKey: string): string[] {
  const raw = Buffer.from(hmacKey, 'base64url');
  return [hmacKey, raw.toString('base64'), raw.toString('base64').replace(/=+$/, ''), raw.toString('hex'), raw.toString('hex').toUpperCase()];
}

/** Everything git holds: every commit's message and patch on every ref, and every blob. */
function wholeHistory(db: string): string {
  const log = git(db, ['log', '--all', '--format=%H%n%B', '-p', '--binary']);
  const objects = git(db, ['rev-list', '--all', '--objects'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((id) => id !== '');
  const blobs = objects.filter((id) => git(db, ['cat-file', '-t', id]).trim() === 'blob').map((id) => git(db, ['cat-file', '-p', id]));
  return [log, ...blobs].join('\n');
}

describe('certified acme eab', () => {
  let cwd: string;
  let db: string;
  before(async () => {
    cwd = tempDir();
    await makeCa(cwd, ['--intermediate-password', CA_PASSWORD]);
    db = join(cwd, 'etc/ssl');
  });

  it('makes one commit with acme/eab/<kid>.json; the HMAC key is printed once and is nowhere in git', async () => {
    const commits = commitCount(db);
    const result = await run(['acme', 'eab', '--name', 'ci'], { cwd, env: { CERTIFIED_CA_PASSWORD: CA_PASSWORD } });
    assert.equal(result.code, 0, result.stderr);
    const match = /^Key ID: {3}([A-Za-z0-9_-]{22})\nHMAC key: ([A-Za-z0-9_-]{43})\n$/.exec(result.stdout);
    assert.ok(match, result.stdout);
    const [, kid = '', hmacKey = ''] = match;
    assert.equal(Buffer.from(hmacKey, 'base64url').length, 32);
    assert.equal(result.stdout.split(hmacKey).length, 2, 'printed once');
    for (const spelled of spellings(hmacKey)) assert.ok(!result.stderr.includes(spelled), 'not on stderr');
    assert.match(result.stderr, new RegExp(`certbot --eab-kid=${kid} --eab-hmac-key=<HMAC key>, or lego --eab --kid=${kid} --hmac=<HMAC key>`));

    assert.equal(commitCount(db), commits + 1);
    assert.equal(git(db, ['show', '--format=', '--name-status', 'HEAD']), `A\tacme/eab/${kid}.json\n`);
    assert.equal(git(db, ['status', '--porcelain']), '');
    const message = git(db, ['log', '-1', '--format=%B']);
    assert.match(message, new RegExp(`^Make the ACME external account binding ${kid} \\(ci\\)\n\n\\$ certified acme eab --name ci\n`));
    assert.match(message, new RegExp(`\nCertified-Action: acme-eab\nCertified-Name: ci\nCertified-Eab-Kid: ${kid}\n+$`));
    const history = wholeHistory(db);
    assert.ok(history.includes(kid));
    for (const spelled of spellings(hmacKey)) assert.ok(!history.includes(spelled), `${spelled} is in the git history`);

    // The sealed key opens with the intermediate's key, and only for its own kid.
    const entry = JSON.parse(readFileSync(join(db, `acme/eab/${kid}.json`), 'utf8')) as { kid: string; name: string; status: string; encryptedKey: SealedSecret };
    assert.equal(entry.kid, kid);
    assert.equal(entry.name, 'ci');
    assert.equal(entry.status, 'unused');
    const caKey = createPrivateKey({ key: readFileSync(join(db, 'private/ca.key'), 'utf8'), passphrase: CA_PASSWORD });
    assert.equal(openSecret(caKey, entry.encryptedKey, `certified acme eab ${kid}`)?.toString('base64url'), hmacKey);
    assert.equal(openSecret(caKey, entry.encryptedKey, 'certified acme eab AAAAAAAAAAAAAAAAAAAAAA'), undefined);
  });

  it('reads the password from stdin with --ca-password - and prints JSON with --json; a password on the command line is masked in the commit', async () => {
    const fromStdin = await run(['acme', 'eab', '--ca-password', '-', '--json'], { cwd, input: `${CA_PASSWORD}\n` });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const json = JSON.parse(fromStdin.stdout) as Record<string, string>;
    // The keys it always printed, then the change keys of docs/json.md.
    assert.deepEqual(Object.keys(json), ['kid', 'hmacKey', 'path', 'commit', 'action', 'files', 'warnings']);
    assert.equal(json.path, `acme/eab/${json.kid}.json`);
    assert.equal(git(db, ['rev-parse', 'HEAD']).trim(), json.commit);
    assert.match(git(db, ['log', '-1', '--format=%B']), /\n\$ certified acme eab --ca-password - --json\n/);

    const inline = await run(['acme', 'eab', `--ca-password=${CA_PASSWORD}`, '--name', 'build farm'], { cwd });
    assert.equal(inline.code, 0, inline.stderr);
    const message = git(db, ['log', '-1', '--format=%B']);
    assert.match(message, /\n\$ certified acme eab --ca-password=\*\*\* --name 'build farm'\n/);
    assert.ok(!wholeHistory(db).includes(CA_PASSWORD));
  });

  const refusals: [string, string[], Record<string, string>, number, string | RegExp][] = [
    ['without the CA key password in a non-TTY run', ['acme', 'eab', '--name', 'ci'], {}, 1, MISSING],
    ['with a wrong CA key password', ['acme', 'eab', '--ca-password', 'not the password'], {}, 1, /^certified: the password for "private\/ca\.key" is wrong\. Nothing was changed/],
    ['a --name of two lines, before asking for the password', ['acme', 'eab', '--name', 'a\nb'], {}, 1, 'certified: --name must be one line of 1 to 64 characters, got "a?b". Name whom the binding is for, like --name ci.\n'],
    ['an empty --name', ['acme', 'eab', '--name', ' '], { CERTIFIED_CA_PASSWORD: CA_PASSWORD }, 1, /^certified: --name must be one line of 1 to 64 characters/],
    ['an unknown acme action', ['acme', 'keys'], { CERTIFIED_CA_PASSWORD: CA_PASSWORD }, 2, 'certified: "keys" is not an acme action. Example: certified acme eab --name ci\n'],
    ['no action', ['acme'], {}, 2, `certified: missing required argument 'action'. Run "certified acme --help" for usage.\n`],
  ];
  for (const [what, args, env, code, stderr] of refusals) {
    it(`refuses ${what} and writes nothing`, async () => {
      const before = snapshot(cwd);
      const commits = commitCount(db);
      const result = await run(args, { cwd, env, silentStdin: true, timeoutMs: 20_000 });
      assert.equal(result.code, code, result.stderr);
      if (typeof stderr === 'string') assert.equal(result.stderr, stderr);
      else assert.match(result.stderr, stderr);
      assert.equal(result.stdout, '');
      assert.doesNotMatch(result.stderr, /not the password/);
      assert.deepEqual(snapshot(cwd), before);
      assert.equal(commitCount(db), commits);
    });
  }

  it('refuses outside a CA and leaves the directory empty', async () => {
    const empty = tempDir();
    const result = await run(['acme', 'eab'], { cwd: empty, env: { CERTIFIED_CA_PASSWORD: CA_PASSWORD } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^certified: there is no CA in ".*etc\/ssl"\. Run "certified init CN=\.\.\." first/);
    assert.deepEqual(snapshot(empty), new Map());
  });
});

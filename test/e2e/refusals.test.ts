import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { commitCount, makeCa, run, snapshot, tempDir } from '../helpers/cli.js';

/** Each: the arguments, the exit code, and what the one-line error must say. */
const BAD_INPUT: [string[], 1 | 2, RegExp][] = [
  [['CN=ok.example.com', '+bad..name'], 1, /"bad\.\.name" is not a valid DNS name/],
  [['CN=ok.example.com', '+*.*.example.com'], 1, /not a valid wildcard/],
  [['CN=ok.example.com', '+f*.example.com'], 1, /not a valid wildcard/],
  [['CN=ok.example.com', '+*.com'], 1, /wildcard over a top-level domain/],
  [['CN=ok.example.com', '+has space.example.com'], 1, /not a valid DNS name/],
  [['CN=ok.example.com', `+${'a'.repeat(64)}.example.com`], 1, /over 63 characters/],
  [['CN=ok.example.com', '+URI:not a uri'], 1, /not a valid URI/],
  [['CN=ok.example.com', '+al ice@example.com'], 1, /not a valid e-mail address/],
  [['CN=ok.example.com', '+'], 1, /an empty name was given/],
  [['CN=line\nbreak'], 1, /CN contains a control, invisible or invalid character/],
  [['CN=tab\there'], 1, /CN contains a control/],
  [['CN='], 1, /the common name is missing or empty/],
  [['O=No CN'], 1, /the common name is missing or empty/],
  [['CN=../../etc/passwd'], 1, /cannot derive a file name from CN "\.\.\/\.\.\/etc\/passwd"\. Give one with --name/],
  [['--name', '../escape', 'CN=ok.example.com'], 1, /"\.\.\/escape" cannot be used as a file name/],
  [['--name', 'x.chain', 'CN=ok.example.com'], 1, /cannot be used as a file name/],
  [['C=USA', 'CN=ok.example.com'], 1, /C must be a two-letter country code/],
  [['--days', 'abc', 'CN=ok.example.com'], 1, /--days must be a whole number of days from 1 to 36500, got "abc"/],
  [['--days', '-1', 'CN=ok.example.com'], 1, /--days must be a whole number/],
  [['--days', '0', 'CN=ok.example.com'], 1, /--days must be a whole number/],
  [['--days', '1e9', 'CN=ok.example.com'], 1, /--days must be a whole number/],
  [['--bits', '1024', 'CN=ok.example.com'], 1, /--bits must be a multiple of 8 from 2048 to 8192, got "1024"/],
  [['--bits', '1000000', 'CN=ok.example.com'], 1, /--bits must be/],
  [['--key-type', 'ecdsa', '--bits', '2048', 'CN=ok.example.com'], 2, /--bits is for RSA keys/],
  [['--key-type', 'dsa', 'CN=ok.example.com'], 2, /option '--key-type <type>' argument 'dsa' is invalid/],
  [['--frobnicate', 'CN=ok.example.com'], 2, /unknown option '--frobnicate'/],
  [['--client', '--server', 'CN=ok.example.com'], 2, /--client and --server cannot go together/],
  [['XX=1', 'CN=ok.example.com'], 2, /unknown subject attribute "XX"/],
  [['hello'], 2, /^certified: unknown command 'hello', did you mean 'help'\? Run "certified --help" for usage\.\n$/],
  [['CN=ok.example.com', 'hello'], 2, /unexpected argument "hello"/],
  [['--root-password', 'x', 'CN=ok.example.com'], 2, /^certified: unknown option '--root-password' for "issue"\. Run "certified issue --help" for usage\.\n$/],
];

describe('bad input is refused with one line, a non-zero exit, no file and no commit', () => {
  let cwd: string;
  before(async () => {
    cwd = tempDir();
    await makeCa(cwd);
  });

  for (const [args, code, message] of BAD_INPUT) {
    it(JSON.stringify(args).slice(0, 80), async () => {
      const before = snapshot(cwd);
      const result = await run(args, { cwd });
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /^certified: [^\n]+\n$/, 'exactly one line');
      assert.equal(result.stdout, '');
      assert.deepEqual(snapshot(cwd), before);
    });
  }

  it('refuses to issue without a CA, creating nothing', async () => {
    const empty = tempDir();
    const result = await run(['CN=host.example.com'], { cwd: empty });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^certified: there is no CA in ".*etc\/ssl"\. Run "certified init CN=\.\.\." first/);
    assert.deepEqual([...snapshot(empty).keys()], []);
    assert.equal(commitCount(join(empty, 'etc/ssl')), 0);
  });
});

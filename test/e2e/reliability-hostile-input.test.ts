import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, baseEnv, commitCount, makeCa, openssl, run, snapshot, tempDir, type RunResult } from '../helpers/cli.js';

const LONG = 'a'.repeat(10_000);

/**
 * Hostile values for every place user text enters. NUL cannot be in argv at all (the OS passes C
 * strings; Node's spawn refuses it, see the last test), so it is not in this list.
 */
const CORPUS: [string, string[]][] = [
  ['CN with ../', ['CN=../../../../escaped']],
  ['CN with /', ['CN=a/b']],
  ['CN that is ..', ['CN=..']],
  ['--name with ../', ['--name', '../../escaped', 'CN=ok.example.com']],
  ['--name with /', ['--name', 'a/b', 'CN=ok.example.com']],
  ['--name absolute', ['--name', '/tmp/escaped', 'CN=ok.example.com']],
  ['--name with newline', ['--name', 'a\nb', 'CN=ok.example.com']],
  ['CN with newline', ['CN=evil\nInjected: yes']],
  ['O with newline', ['O=evil\nx', 'CN=ok.example.com']],
  ['CN with quotes only', [`CN="it's"`]],
  ['CN with $()', ['CN=$(touch pwned)']],
  ['CN with RTL override', ['CN=\u202Emoc.elpmaxe']],
  ['CN with zero-width space', ['CN=exa\u200Bmple.com']],
  ['CN with BOM', ['CN=\uFEFFexample.com']],
  ['CN of 10,000 characters', [`CN=${LONG}`]],
  ['O of 10,000 characters', [`O=${LONG}`, 'CN=ok.example.com']],
  ['--name of 10,000 characters', ['--name', LONG, 'CN=ok.example.com']],
  ['CN with U+FFFD (invalid UTF-8 decoded)', ['CN=bad\uFFFDname']],
  ['SAN with ../', ['CN=ok.example.com', '+../escaped']],
  ['SAN with /', ['CN=ok.example.com', '+a/b.example.com']],
  ['SAN with newline', ['CN=ok.example.com', '+evil.example.com\nx']],
  ['SAN with quotes', ['CN=ok.example.com', `+"quoted".example.com`]],
  ['SAN with $()', ['CN=ok.example.com', '+$(touch pwned).example.com']],
  ['SAN with RTL override', ['CN=ok.example.com', '+\u202Emoc.elpmaxe']],
  ['SAN with zero-width joiner', ['CN=ok.example.com', '+exa\u200Dmple.com']],
  ['SAN of 10,000 characters', ['CN=ok.example.com', `+${LONG}.example.com`]],
  ['e-mail SAN of 10,000 characters', ['CN=ok.example.com', `+${LONG}@example.com`]],
  ['URI SAN of 10,000 characters', ['CN=ok.example.com', `+URI:https://example.com/${LONG}`]],
  ['URI SAN with newline', ['CN=ok.example.com', '+URI:https://example.com/\nx']],
  ['e-mail SAN with newline', ['CN=ok.example.com', '+alice\n@example.com']],
  ['--days 0', ['--days', '0', 'CN=ok.example.com']],
  ['--days -1', ['--days', '-1', 'CN=ok.example.com']],
  ['--days 1e9', ['--days', '1e9', 'CN=ok.example.com']],
  ['--days abc', ['--days', 'abc', 'CN=ok.example.com']],
  ['--bits 512', ['--bits', '512', 'CN=ok.example.com']],
  ['--bits 1000000', ['--bits', '1000000', 'CN=ok.example.com']],
  ['--lock-timeout -1', ['--lock-timeout', '-1', 'CN=ok.example.com']],
  ['--key-type with newline', ['--key-type', 'rsa\nevil', 'CN=ok.example.com']],
  ['unknown option with newline', ['--evil\noption', 'CN=ok.example.com']],
  ['unknown option of 10,000 characters', [`--${LONG}`, 'CN=ok.example.com']],
  ['--days with newline', ['--days', '1\n2', 'CN=ok.example.com']],
  ['--ca --days 0', ['--ca', '--days', '0', 'CN=Another CA']],
  ['--ca CN with newline', ['--ca', 'CN=evil\nCA']],
  ['--ca CN of 10,000 characters', ['--ca', `CN=${LONG}`]],
  ['--ca --crl-url with newline', ['--ca', '--crl-url', 'http://x/\nevil', 'CN=Another CA']],
];

/** Each refusal: exit 1 or 2, exactly one line on stderr, nothing on stdout. */
function assertRefused(result: RunResult): void {
  assert.ok(result.code === 1 || result.code === 2, `exit ${result.code}: ${result.stderr}`);
  assert.match(result.stderr, /^certified: [^\n]+\n$/, `one line: ${JSON.stringify(result.stderr.slice(0, 300))}`);
  assert.ok(result.stderr.length < 600, 'the error does not echo a huge value');
  assert.equal(result.stdout, '');
}

/** Runs the CLI through sh so that argv carries raw bytes Node itself would not let us pass. */
function runRawBytes(cwd: string, printfArg: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `exec "$0" "$1" "$(printf '${printfArg}')"`, process.execPath, BIN], { cwd, env: baseEnv() });
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

// The CA sits deep inside `top`, so that any escape up to four levels lands inside the snapshot.
const top = tempDir();
const cwd = join(top, 'a/b/c/d');
const db = join(cwd, 'etc/ssl');

before(async () => {
  mkdirSync(cwd, { recursive: true });
  await makeCa(cwd);
});

// Refusals write nothing, so they run four at a time; a case that wrongly wrote would still show.
describe('hostile input: one line, exit 1 or 2, no file, no commit, nothing outside the CA', { concurrency: 4 }, () => {
  for (const [label, args] of CORPUS) {
    it(label, async () => {
      const before = snapshot(top);
      const commits = commitCount(db);
      assertRefused(await run(args, { cwd, env: { CERTIFIED_ROOT_PASSWORD: 'root password for tests' } }));
      assert.equal(commitCount(db), commits);
      assert.deepEqual(snapshot(top), before);
      assert.ok(!existsSync(join(cwd, 'pwned')) && !existsSync('/tmp/escaped'));
    });
  }

});

describe('hostile input that must be kept literally, and what argv cannot carry', () => {
  it('invalid UTF-8 in argv, passed as raw bytes (Node decodes it to U+FFFD)', async () => {
    const before = snapshot(top);
    for (const bytes of ['CN=\\377\\376bad', 'CN=ok.example.com\\300\\257', '\\055-name=x\\355\\240\\200']) {
      const result = await runRawBytes(cwd, bytes);
      assertRefused(result);
    }
    // A Buffer argument is decoded by Node's spawn before the child sees it: the same refusal.
    const viaBuffer = await run([Buffer.from([0x43, 0x4e, 0x3d, 0xff, 0xfe]) as unknown as string], { cwd });
    assertRefused(viaBuffer);
    assert.deepEqual(snapshot(top), before);
  });

  it('NUL cannot reach argv: the OS and Node refuse it before certified runs', () => {
    assert.throws(() => spawnSync(process.execPath, [BIN, 'CN=a\0b']), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('quotes and $() in a DN with an explicit --name are kept literally, never executed', async () => {
    const cn = `it's "quoted" $(touch pwned) \`touch pwned\``;
    const result = await run(['--name', 'quoted', `CN=${cn}`, `O=O'Brien & "Sons"`], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const subject = openssl(['x509', '-in', join(db, 'certs/quoted.crt'), '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']).stdout;
    assert.ok(subject.includes('touch pwned'), subject);
    assert.ok(!existsSync(join(cwd, 'pwned')) && !existsSync(join(db, 'pwned')));
    // The command line in the commit message is quoted so that pasting it back is safe.
    const body = spawnSync('git', ['-C', db, 'log', '-1', '--format=%B'], { encoding: 'utf8' }).stdout;
    assert.match(body, /\$ certified --name quoted 'CN=it'\\''s "quoted" \$\(touch pwned\) `touch pwned`'/);
  });

  it('--csr: malformed, truncated, and mismatched-signature requests are refused', async (t) => {
    const dir = join(top, 'csr-input');
    mkdirSync(dir, { recursive: true });
    const probe = await run(['--csr', join(dir, 'missing.csr')], { cwd });
    const key = join(dir, 'k.pem');
    assert.equal(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]).status, 0);
    const good = openssl(['req', '-new', '-key', key, '-subj', '/CN=csr.example.com', '-outform', 'DER']);
    const der = Buffer.from(good.stdout, 'latin1');
    const pem = openssl(['req', '-new', '-key', key, '-subj', '/CN=csr.example.com']).stdout;
    const base64 = pem.split('\n').slice(1, -2).join('');
    const flipped = Buffer.from(base64, 'base64');
    flipped[flipped.length - 5]! ^= 0x01; // inside the signature
    const cases: Record<string, string | Buffer> = {
      'garbage.csr': 'this is not a PEM file\n',
      'empty.csr': '',
      'truncated.csr': pem.slice(0, Math.floor(pem.length / 2)),
      'no-end.csr': pem.replace(/-----END[^\n]*\n/, ''),
      'bad-base64.csr': pem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'),
      'wrong-label.csr': pem.replace(/CERTIFICATE REQUEST/g, 'CERTIFICATE'),
      'bad-signature.csr': `-----BEGIN CERTIFICATE REQUEST-----\n${flipped.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`,
      'binary.csr': der.subarray(0, 20),
    };
    const before = snapshot(top);
    for (const [file, content] of Object.entries(cases)) {
      writeFileSync(join(dir, file), content);
    }
    const written = snapshot(top);
    for (const file of Object.keys(cases)) {
      const commits = commitCount(db);
      assertRefused(await run(['--csr', join(dir, file)], { cwd }));
      assert.equal(commitCount(db), commits, file);
      assert.deepEqual(snapshot(top), written, file);
    }
    assert.notDeepEqual(before, written);
  });
});

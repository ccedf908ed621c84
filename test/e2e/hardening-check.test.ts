import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, git, makeCa, openssl, readText, run, snapshot, tempDir } from '../helpers/cli.js';
import { serialOf } from '../helpers/judge.js';

/**
 * A CA key that is not the key of its certificate is refused before anything is signed, on every
 * path that signs; and `check` finds what it used to pass: hand-edited records, missing or short
 * chain files, key files that are not keys or not the certificate's, and a git it could not run.
 */

const TEAM_PASSWORD = 'team password for tests';
const LEAF_PASSWORD = 'leaf password for tests';

/** One CA used by every case, copied (with its git repository) before each change. */
let home: string;
/** Another CA: its keys are the wrong ones. */
let other: string;

before(async () => {
  home = tempDir();
  const db = join(home, 'etc/ssl');
  await makeCa(home);
  for (const args of [
    ['CN=web.example.com'],
    ['--password', LEAF_PASSWORD, 'CN=secret.example.com'],
    ['init', '--issuer', 'ca', '--password', TEAM_PASSWORD, 'CN=Team CA'],
    ['issue', '--issuer', 'Team CA', 'CN=build.team.example.com'],
  ]) {
    const result = await run(args, { cwd: home, env: { CERTIFIED_CA_PASSWORD: TEAM_PASSWORD } });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
  }
  assert.equal(readText(join(db, 'private/team-ca.key')).split('\n')[0], '-----BEGIN ENCRYPTED PRIVATE KEY-----');
  other = tempDir();
  await makeCa(other);
});

/** A copy of the CA to break: the directory the commands run in and the CA directory in it. */
function copyCa(): { cwd: string; db: string } {
  const cwd = tempDir();
  cpSync(home, cwd, { recursive: true });
  return { cwd, db: join(cwd, 'etc/ssl') };
}

/** A PEM block of `label` around `bytes` (built, so that no key-looking block sits in the source). */
const pemBlock = (label: string, bytes: Buffer) => `-----BEGIN ${label}-----\n${bytes.toString('base64')}\n-----END ${label}-----\n`;

const otherKey = (name: string) => readFileSync(join(other, 'etc/ssl/private', `${name}.key`));

/** A fresh P-384 key (the type of the CA's keys), encrypted with `password` as certified's own are. */
function freshEncryptedKey(dir: string, password: string): string {
  const plain = join(dir, 'fresh.pem');
  assert.equal(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', plain]).status, 0);
  const encrypted = openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', plain, '-passout', `pass:${password}`]);
  assert.equal(encrypted.status, 0, encrypted.stderr);
  rmSync(plain);
  return encrypted.stdout;
}

const INTERMEDIATE_MISMATCH =
  'certified: the key "private/ca.key" is not the key of the CA "ca" (its public key is not the one in "certs/ca.crt"), so nothing was signed. ' +
  'Put the intermediate\'s own key back at "private/ca.key" (from your backup, or "git checkout -- private/ca.key" if it is encrypted and committed); ' +
  'if it is lost, revoke the intermediate with "certified revoke --ca --root-password -" and make a new one with "certified init --root-password -".\n';

describe('a CA key that is not the key of its certificate signs nothing', () => {
  const manifest = `certificates:\n${Array.from({ length: 45 }, (_, i) => `  host-${i}: { cn: host-${i}.example.com }\n`).join('')}`;
  const cases: { what: string; args: string[]; input?: string; prepare?: (cwd: string) => void }[] = [
    { what: 'issue', args: ['CN=new.example.com'] },
    {
      what: 'sign a CSR',
      args: ['--csr', 'request.csr'],
      prepare: (cwd) => {
        const made = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(cwd, 'request.key'), '-subj', '/CN=csr.example.com', '-out', join(cwd, 'request.csr')]);
        assert.equal(made.status, 0, made.stderr);
      },
    },
    { what: 'renew', args: ['renew', 'CN=web.example.com'] },
    { what: 'revoke (its CRL)', args: ['revoke', 'CN=web.example.com'] },
    { what: 'crl', args: ['crl', '--issuer', 'ca'] },
    { what: 'make a sub-CA', args: ['init', '--issuer', 'ca', '--password', TEAM_PASSWORD, 'CN=Other Team CA'] },
    {
      what: 'apply (45 certificates: worker threads)',
      args: ['apply', '--yes'],
      prepare: (cwd) => {
        const db = join(cwd, 'etc/ssl');
        writeFileSync(join(db, 'certificates.yaml'), manifest);
        git(db, ['add', 'certificates.yaml']);
        git(db, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'Edit certificates.yaml']);
      },
    },
  ];
  for (const { what, args, prepare } of cases) {
    it(`${what}: refused with the intermediate key of another CA, nothing written`, async () => {
      const { cwd, db } = copyCa();
      prepare?.(cwd);
      writeFileSync(join(db, 'private/ca.key'), otherKey('ca'), { mode: 0o600 });
      const commits = commitCount(db);
      const files = snapshot(db);
      const result = await run(args, { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD }, timeoutMs: 120_000 });
      // apply shows its plan first; the error is its last line.
      assert.equal(args[0] === 'apply' ? result.stderr.slice(result.stderr.lastIndexOf('certified: ')) : result.stderr, INTERMEDIATE_MISMATCH);
      assert.equal(result.code, 1);
      assert.equal(commitCount(db), commits, 'no commit');
      assert.deepEqual(snapshot(db), files, 'no file written');
    });
  }

  it('issue: refused with a damaged intermediate key (its public key is not its private key\'s), nothing written', async () => {
    const { cwd, db } = copyCa();
    const stored = createPrivateKey(readFileSync(join(db, 'private/ca.key'))).export({ format: 'jwk' });
    const scalar = createPrivateKey(otherKey('ca')).export({ format: 'jwk' }).d;
    // The file still holds the CA's public key, so it matches the CA's certificate; its private key is another.
    const damaged = createPrivateKey({ key: { ...stored, d: scalar }, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(db, 'private/ca.key'), damaged, { mode: 0o600 });
    const commits = commitCount(db);
    const files = snapshot(db);
    const result = await run(['CN=new.example.com'], { cwd });
    assert.equal(
      result.stderr,
      'certified: the key "private/ca.key" is damaged: its public key is not the one its private key gives, so nothing was signed. ' +
        'Put the key back at "private/ca.key" (from your backup, or "git checkout -- private/ca.key" if it is encrypted and committed).\n',
    );
    assert.equal(result.code, 1);
    assert.equal(commitCount(db), commits, 'no commit');
    assert.deepEqual(snapshot(db), files, 'no file written');
  });

  it('serve: refuses to answer OCSP with the intermediate key of another CA', async () => {
    const { cwd, db } = copyCa();
    writeFileSync(join(db, 'private/ca.key'), otherKey('ca'), { mode: 0o600 });
    // Before the check it started serving (and would run until killed): then the code is not 1.
    const result = await run(['serve', '--listen', '127.0.0.1:0'], { cwd, timeoutMs: 20_000 });
    assert.equal(result.stderr, INTERMEDIATE_MISMATCH);
    assert.equal(result.code, 1);
  });

  it('the root: revoking the intermediate with another root key of the same password is refused', async () => {
    const { cwd, db } = copyCa();
    writeFileSync(join(db, 'private/root-ca.key'), otherKey('root-ca'), { mode: 0o600 });
    const files = snapshot(db);
    const result = await run(['revoke', '--ca', '--root-password', '-'], { cwd, input: `${ROOT_PASSWORD}\n` });
    assert.equal(
      result.stderr,
      'certified: the key "private/root-ca.key" is not the key of the CA "root-ca" (its public key is not the one in "certs/root-ca.crt"), so nothing was signed. ' +
        'Put the root\'s own key back at "private/root-ca.key" from where you keep it offline; if it is lost, the root cannot sign again: make a new CA with "certified init" in a new directory.\n',
    );
    assert.equal(result.code, 1);
    assert.deepEqual(snapshot(db), files);
  });

  it('an encrypted sub-CA key replaced by a fresh key with the same password: refused; check says it could not compare it', async () => {
    const { cwd, db } = copyCa();
    writeFileSync(join(db, 'private/team-ca.key'), freshEncryptedKey(cwd, TEAM_PASSWORD));
    const files = snapshot(db);
    const result = await run(['issue', '--issuer', 'Team CA', 'CN=other.team.example.com'], { cwd, env: { CERTIFIED_CA_PASSWORD: TEAM_PASSWORD } });
    assert.equal(
      result.stderr,
      'certified: the key "private/team-ca.key" is not the key of the CA "team-ca" (its public key is not the one in "certs/team-ca.crt"), so nothing was signed. ' +
        'Put the key of "team-ca" back at "private/team-ca.key" (from your backup, or "git checkout -- private/team-ca.key" if it is encrypted and committed); ' +
        'if it is lost, revoke the CA with "certified revoke --name team-ca" and make a new one with "certified init --issuer ca CN=..".\n',
    );
    assert.equal(result.code, 1);
    assert.deepEqual(snapshot(db), files);
    const check = await run(['check'], { cwd });
    assert.equal(check.stdout, '');
    assert.match(check.stderr, /^Note: 3 encrypted key\(s\) could not be compared with their certificates, as check asks for no password: "private\/root-ca\.key", "private\/secret\.example\.com\.key", "private\/team-ca\.key"\.\n/);
    assert.equal(check.code, 0);
  });

  it('the right key still signs, and OpenSSL accepts what it signed', async () => {
    const { cwd, db } = copyCa();
    const result = await run(['CN=fine.example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const verified = openssl(['verify', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/ca.crt'), join(db, 'certs/fine.example.com.crt')]);
    assert.equal(verified.status, 0, verified.stderr);
  });
});

describe('check finds what it used to pass', () => {
  async function check(cwd: string, env: Record<string, string | undefined> = {}) {
    const result = await run(['check'], { cwd, env });
    return { ...result, lines: result.stdout.trimEnd().split('\n').filter(Boolean) };
  }

  it('passes the CA as made', async () => {
    const result = await check(home);
    assert.equal(result.stdout, '', result.stdout);
    assert.equal(result.code, 0);
  });

  it('a record whose notAfter and SANs were edited by hand', async () => {
    const { cwd, db } = copyCa();
    const serial = serialOf(join(db, 'certs/web.example.com.crt'));
    const path = `records/ca/${serial}.json`;
    const record = JSON.parse(readText(join(db, path))) as { notAfter: string; sans: string[] };
    const notAfter = record.notAfter;
    writeFileSync(join(db, path), JSON.stringify({ ...record, notAfter: '2099-01-01T00:00:00.000Z', sans: [...record.sans, 'DNS:extra.example.com'] }, null, 2));
    const result = await check(cwd);
    const fix = `the record was edited; restore it with "git checkout -- ${path}" (or from the commit that issued it) [record-mismatch]`;
    assert.deepEqual(result.lines, [
      `${path}: its notAfter says 2099-01-01T00:00:00.000Z, but "certs/web.example.com.crt" has ${notAfter}: ${fix}`,
      `${path}: its sans says DNS:web.example.com, DNS:extra.example.com, but "certs/web.example.com.crt" has DNS:web.example.com: ${fix}`,
    ]);
    assert.equal(result.code, 1);
  });

  it('a record whose serial was edited no longer matches its file name', async () => {
    const { cwd, db } = copyCa();
    const serial = serialOf(join(db, 'certs/web.example.com.crt'));
    const path = `records/ca/${serial}.json`;
    const record = JSON.parse(readText(join(db, path))) as { serial: string };
    writeFileSync(join(db, path), JSON.stringify({ ...record, serial: '1234' }, null, 2));
    const result = await check(cwd);
    assert.ok(result.lines.includes(`${path}: its serial says 1234, but it is stored in the file name ${serial}.json: the record was edited; restore it with "git checkout -- ${path}" [record-mismatch]`), result.stdout);
    assert.equal(result.code, 1);
  });

  const rewrite = (name: string, chain: string) => `rewrite it with "cat ${chain} > certs/${name}.chain.crt"`;
  const chainCases: { what: string; name: string; change: (file: string, db: string) => void; line: string }[] = [
    {
      what: 'deleted',
      name: 'web.example.com',
      change: (file) => rmSync(file),
      line: `certs/web.example.com.chain.crt: is missing: "certs/web.example.com.crt" was issued by a CA, and servers need its chain: ${rewrite('web.example.com', 'certs/web.example.com.crt certs/ca.crt')} [missing-chain]`,
    },
    {
      what: 'the leaf alone',
      name: 'web.example.com',
      change: (file, db) => writeFileSync(file, readText(join(db, 'certs/web.example.com.crt'))),
      line: `certs/web.example.com.chain.crt: holds 1 certificate(s) instead of "certs/web.example.com.crt" followed by its issuing CA(s) "certs/ca.crt" (the root excluded): ${rewrite('web.example.com', 'certs/web.example.com.crt certs/ca.crt')} [chain-mismatch]`,
    },
    {
      what: 'a sub-CA leaf without the intermediate',
      name: 'build.team.example.com',
      change: (file, db) => writeFileSync(file, readText(join(db, 'certs/build.team.example.com.crt')) + readText(join(db, 'certs/team-ca.crt'))),
      line: `certs/build.team.example.com.chain.crt: holds 2 certificate(s) instead of "certs/build.team.example.com.crt" followed by its issuing CA(s) "certs/team-ca.crt", "certs/ca.crt" (the root excluded): ${rewrite('build.team.example.com', 'certs/build.team.example.com.crt certs/team-ca.crt certs/ca.crt')} [chain-mismatch]`,
    },
    {
      what: 'with the root added',
      name: 'web.example.com',
      change: (file, db) => writeFileSync(file, readText(file) + readText(join(db, 'certs/root-ca.crt'))),
      line: `certs/web.example.com.chain.crt: holds 3 certificate(s) instead of "certs/web.example.com.crt" followed by its issuing CA(s) "certs/ca.crt" (the root excluded): ${rewrite('web.example.com', 'certs/web.example.com.crt certs/ca.crt')} [chain-mismatch]`,
    },
  ];
  for (const { what, name, change, line } of chainCases) {
    it(`a chain file ${what}`, async () => {
      const { cwd, db } = copyCa();
      change(join(db, `certs/${name}.chain.crt`), db);
      const result = await check(cwd);
      assert.deepEqual(result.lines, [line]);
      assert.equal(result.code, 1);
    });
  }

  it('a chain file with other line endings is still the right chain', async () => {
    const { cwd, db } = copyCa();
    const file = join(db, 'certs/web.example.com.chain.crt');
    writeFileSync(file, readText(file).replace(/\n/g, '\r\n'));
    const result = await check(cwd);
    assert.deepEqual(result.lines, []);
    assert.equal(result.code, 0);
  });

  const renewWeb = 'if it is lost, make a new key and certificate with "certified renew --name web.example.com"';
  const keyCases: { what: string; name: string; content: () => string; line: (name: string) => string }[] = [
    {
      what: 'junk in a leaf key file',
      name: 'web.example.com',
      content: () => 'this is not a key\n',
      line: () => `private/web.example.com.key: cannot be read as a private key (no PEM block): put its own key back at "private/web.example.com.key" (from your backup, or "git checkout -- private/web.example.com.key" if it is encrypted and committed); ${renewWeb} [unreadable]`,
    },
    {
      what: 'a key block whose content is junk',
      name: 'web.example.com',
      content: () => pemBlock('PRIVATE KEY', Buffer.from('junk junk junk junk')),
      line: () => `private/web.example.com.key: cannot be read as a private key (`,
    },
    {
      what: 'an encrypted key block whose content is junk',
      name: 'secret.example.com',
      content: () => pemBlock('ENCRYPTED PRIVATE KEY', Buffer.from('junk junk junk junk')),
      line: () => `private/secret.example.com.key: cannot be read as a private key (an encrypted key block that does not decode: `,
    },
    {
      what: 'the intermediate key of another CA',
      name: 'ca',
      content: () => otherKey('ca').toString(),
      line: () =>
        'private/ca.key: is not the key of the CA "ca" in "certs/ca.crt", so the CA cannot sign with it: put its own key back at "private/ca.key" (from your backup, or "git checkout -- private/ca.key" if it is encrypted and committed); ' +
        'if it is lost, revoke the intermediate with "certified revoke --ca --root-password -" and make a new one with "certified init --root-password -" [key-mismatch]',
    },
  ];
  for (const { what, name, content, line } of keyCases) {
    it(what, async () => {
      const { cwd, db } = copyCa();
      writeFileSync(join(db, `private/${name}.key`), content());
      const result = await check(cwd);
      assert.equal(result.lines.length, 1, result.stdout);
      assert.ok(result.lines[0]!.startsWith(line(name)), result.stdout);
      assert.equal(result.code, 1);
    });
  }

  it('a copy of the CA outside any git repository: check could not verify that no unencrypted key is tracked, and fails', async () => {
    const { cwd, db } = copyCa();
    rmSync(join(db, '.git'), { recursive: true, force: true });
    const result = await check(cwd);
    assert.equal(result.lines.length, 1, result.stdout);
    assert.match(result.lines[0]!, /^private: could not verify that git tracks no unencrypted private key, because git failed \(fatal: not a git repository.*\): install git or put it on PATH, and run check in the CA's git repository \[git-unavailable\]$/);
    assert.equal(result.code, 1);
  });

  it('git missing from PATH: check could not verify that no unencrypted key is tracked, and fails', async () => {
    // check reads the history (for commits whose trailers a hook dropped) before it looks for
    // tracked keys, so a missing git stops it there, in one line; the finding covers a git that
    // starts but fails.
    const result = await check(home, { PATH: join(tempDir(), 'no-git-here') });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^certified: git is not installed or not on PATH\. .*install git .*\n$/);
  });
});

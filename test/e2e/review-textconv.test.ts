import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { formatViews, inspectContent } from '../../src/ca/review/describe.js';
import { readPemBlocks } from '../../src/pki/pem-blocks.js';
import { inspectContentQuickly } from '../../src/pki/quick-inspect.js';
import { BIN, REPO, baseEnv, freshCa, git, openssl, run, tempDir } from '../helpers/cli.js';

/**
 * git's textconv (bin/certified-textconv) and `certified show FILE` as the launcher answers it
 * (dist/bundle/show.cjs, without the X.509 library): the same bytes as the CLI's show command, for
 * every kind of file, and a cache that works in a clone without a git identity.
 */

const TEXTCONV = join(REPO, 'bin/certified-textconv');
const SHOW = join(REPO, 'dist/bundle/show.cjs');
const CLI = join(REPO, 'dist/bundle/cli.cjs');

interface Output {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): Output {
  const result = spawnSync(command, args, { cwd, env: baseEnv(env), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The small bundle bin/certified answers `show FILE` from, alone: exit code 90 when it leaves the file to the CLI. */
function quick(file: string, cwd: string): Output {
  return exec(process.execPath, ['-e', 'process.exitCode = require(process.argv[1]).showQuickly(process.argv[2]) ? 0 : 90', SHOW, file], cwd);
}

/** What `certified show FILE` printed before the launcher answered it: the whole CLI. */
const fullShow = (file: string, cwd: string) => exec(process.execPath, [CLI, 'show', file], cwd);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** An environment with no git identity at all: empty HOME, no identity variables, no system config. */
function noIdentity(home: string): Record<string, string | undefined> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: undefined,
    GIT_AUTHOR_NAME: undefined,
    GIT_AUTHOR_EMAIL: undefined,
    GIT_COMMITTER_NAME: undefined,
    GIT_COMMITTER_EMAIL: undefined,
    EMAIL: undefined,
  };
}

describe('review: the textconv git runs', () => {
  let cwd: string;
  let db: string;
  let caFiles: string[];
  before(async () => {
    ({ cwd, db } = await freshCa(['--crl-url', 'http://pki.example.com/ca.crl', '--ocsp-url', 'http://ocsp.example.com']));
    for (const args of [
      ['--server', 'CN=web.example.com', '+10.0.0.7', '+2001:db8::7', '+api.example.com'],
      ['--bits', '2048', 'CN=rsa.example.com'],
      ['CN=gone.example.com'],
      ['CN=lost.example.com'],
      ['revoke', '--reason', 'keyCompromise', 'CN=gone.example.com'],
      ['revoke', 'CN=lost.example.com'],
    ]) {
      const result = await run(args, { cwd });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    caFiles = filesUnder(db).filter((path) => /\.(crt|csr|crl)$/.test(path));
  });

  it('reads every certificate, chain, CSR and CRL of the CA without the CLI, exactly as show prints them', async () => {
    for (const kind of [/\/certs\/[^/]+\.chain\.crt$/, /\/certs\/rsa\.example\.com\.crt$/, /\.csr$/, /\/crl\/ca\.crl$/, /\/revoked\//]) {
      assert.ok(caFiles.some((path) => kind.test(path)), `${kind}: ${caFiles.join(' ')}`);
    }
    for (const file of caFiles) {
      // What runShow prints for the file: the views of the X.509 library, formatted.
      const expected = { code: 0, stdout: formatViews(await inspectContent(readFileSync(file))), stderr: '' };
      assert.deepEqual(quick(file, cwd), expected, `${relative(db, file)}: read without the library`);
    }
    for (const name of ['certs/web.example.com.chain.crt', 'csr/rsa.example.com.csr', 'crl/ca.crl']) {
      const expected = fullShow(join(db, name), cwd);
      assert.equal(expected.code, 0, expected.stderr);
      assert.deepEqual(exec(process.execPath, [BIN, 'show', join(db, name)], cwd), expected, `${name}: bin/certified show`);
      assert.deepEqual(exec(TEXTCONV, [join(db, name)], db), expected, `${name}: bin/certified-textconv`);
    }
    const crl = quick(join(db, 'crl/ca.crl'), cwd).stdout;
    assert.match(crl, /Revoked: +2\n/);
    assert.match(crl, / keyCompromise\n/);
  });

  it('prints what show prints for files made elsewhere, and its errors, reading them quickly or not', () => {
    const work = tempDir();
    const make = (args: string[]) => {
      const result = openssl(args, work);
      assert.equal(result.status, 0, result.stderr);
    };
    make(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ec.key', '-days', '10000', '-subj', '/C=US/ST=Oregon/L=Salem/O=Elsewhere/OU=Unit/CN=openssl.example.com/emailAddress=a@example.com', '-addext', 'subjectAltName=DNS:openssl.example.com,IP:2001:db8:0:0:1:0:0:1,IP:::1,email:a@example.com,URI:https://example.com/x', '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=serverAuth,codeSigning,1.2.3.4', '-out', 'ec.crt']);
    make(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-days', '30', '-subj', '/CN=rsa.openssl.example.com', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-out', 'rsa.crt']);
    make(['req', '-new', '-key', 'ec.key', '-subj', '/CN=csr.example.com', '-addext', 'subjectAltName=DNS:csr.example.com,IP:192.0.2.1', '-addext', 'keyUsage=digitalSignature', '-out', 'ec.csr']);
    make(['req', '-new', '-key', 'rsa.key', '-subj', '/CN=password.example.com', '-addext', 'subjectAltName=DNS:password.example.com', '-passout', 'pass:x', '-out', 'rsa.csr']);
    make(['x509', '-in', 'ec.crt', '-outform', 'DER', '-out', 'ec.der']);
    writeFileSync(join(work, 'with-key.crt'), readFileSync(join(work, 'ec.crt'), 'utf8') + readFileSync(join(work, 'ec.key'), 'utf8'));
    writeFileSync(join(work, 'broken.crt'), '-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n');
    writeFileSync(join(work, 'junk.crt'), 'not a certificate\n');
    writeFileSync(join(work, 'empty.crt'), '');
    writeFileSync(join(work, 'large.crl'), '');
    truncateSync(join(work, 'large.crl'), (64 << 20) + 1);
    mkdirSync(join(work, 'directory.crt'));
    const quickly = new Set<string>();
    for (const name of ['ec.crt', 'rsa.crt', 'ec.csr', 'rsa.csr', 'ec.der', 'with-key.crt', 'broken.crt', 'junk.crt', 'empty.crt', 'large.crl', 'directory.crt', 'missing.crt', 'web.example.com']) {
      const expected = fullShow(name, work);
      assert.deepEqual(exec(process.execPath, [BIN, 'show', name], work), expected, `${name}: bin/certified show`);
      const small = quick(name, work);
      if (small.code === 0) {
        assert.deepEqual(small, expected, `${name}: the small program`);
        quickly.add(name);
      } else {
        assert.deepEqual(small, { code: 90, stdout: '', stderr: '' }, `${name}: left to the CLI`);
      }
    }
    assert.deepEqual([...quickly].sort(), ['ec.crt', 'ec.csr', 'empty.crt', 'rsa.crt', 'rsa.csr', 'with-key.crt']);
    assert.match(fullShow('large.crl', work).stderr, /larger than 64 MiB/);
    // What is not a regular file is read once, by the CLI: a second reader would find it drained.
    const piped = (script: string) => exec('sh', ['-c', `cat ec.der | "$0" "$1" show /dev/stdin`, process.execPath, script], work);
    const fromStdin = piped(BIN);
    assert.deepEqual(fromStdin, piped(CLI));
    assert.match(fromStdin.stdout, /^Certificate:\n  Subject: +C=US, ST=Oregon/);
    assert.match(fullShow('ec.crt', work).stdout, /SAN: +IP Address:2001:db8::1:0:0:1\n  SAN: +IP Address:::1\n/);
  });

  it('gives up, rather than print another text than show, on certificates, CSRs and CRLs altered byte by byte', async () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const samples = ['certs/web.example.com.chain.crt', 'certs/rsa.example.com.crt', 'csr/rsa.example.com.csr', 'crl/ca.crl'];
    let read = 0;
    for (const name of samples) {
      for (const block of readPemBlocks(readFileSync(join(db, name), 'latin1'))) {
        for (let run = 0; run < 150; run++) {
          const der = Buffer.from(block.der);
          for (let change = 1 + random(3); change > 0; change--) {
            const at = random(der.length);
            der[at] = der[at]! ^ (1 << random(8));
          }
          const content = Buffer.from(`-----BEGIN ${block.label}-----\n${der.toString('base64')}\n-----END ${block.label}-----\n`);
          const quick = inspectContentQuickly(content);
          if (!quick) continue;
          read++;
          assert.equal(formatViews(quick), formatViews(await inspectContent(content)), `${name}, run ${run}`);
        }
      }
    }
    assert.ok(read > 100, `${read} altered files were read quickly`);
  });

  it('git log -p in a clone without a git identity decodes, keeps the text and reads it back the next time', async () => {
    const home = tempDir();
    const env = noIdentity(home);
    const clone = join(tempDir(), 'clone');
    git(cwd, ['clone', '-q', db, clone]);
    assert.notEqual(exec('git', ['var', 'GIT_COMMITTER_IDENT'], clone, env).code, 0, 'the clone has no identity');
    const setup = await run(['git-setup', '--db', clone], { cwd: clone, env });
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(git(clone, ['config', 'diff.certified.textconv']).trim(), TEXTCONV);

    const first = exec('git', ['log', '-p', '--no-color'], clone, env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, '');
    assert.match(first.stdout, /\+  Subject: +C=US, O=Example, CN=web\.example\.com\n/);
    assert.match(first.stdout, /\+  SAN: +IP Address:2001:db8::7\n/);
    assert.match(first.stdout, /\+  Revoked serial: +[0-9a-f]+ \S+ keyCompromise\n/);
    assert.doesNotMatch(first.stdout, /BEGIN CERTIFICATE|BEGIN X509 CRL|BEGIN CERTIFICATE REQUEST/);

    const [build, ...others] = readdirSync(join(clone, '.git/certified-textconv'));
    assert.equal(others.length, 0);
    const cached = readdirSync(join(clone, '.git/certified-textconv', build!));
    assert.ok(cached.length >= caFiles.length / 2, cached.join(' '));
    for (const id of cached) assert.equal(git(clone, ['cat-file', '-t', id]).trim(), 'blob', 'kept by blob id');

    const second = exec('git', ['log', '-p', '--no-color'], clone, env);
    assert.deepEqual(second, first);
    // The next run reads the kept text: change one entry and git shows the change.
    const web = git(clone, ['rev-parse', 'HEAD:certs/web.example.com.crt']).trim();
    writeFileSync(join(clone, '.git/certified-textconv', build!, web), 'kept text\n');
    assert.match(exec('git', ['log', '-p', '--no-color'], clone, env).stdout, /\+kept text\n/);
  });

  it('git-setup moves a clone set up with "certified show" to the textconv, which still works meanwhile', async () => {
    const clone = join(tempDir(), 'clone');
    git(cwd, ['clone', '-q', db, clone]);
    git(clone, ['config', 'diff.certified.textconv', `${BIN} show`]);
    const before = git(clone, ['log', '-p', '--no-color', '-3']);
    assert.match(before, /\+  Subject: +C=US, O=Example, CN=lost\.example\.com\n/);
    assert.equal(existsSync(join(clone, '.git/certified-textconv')), false, 'the launcher keeps no cache');
    const setup = await run(['git-setup', '--db', clone], { cwd: clone });
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(git(clone, ['config', 'diff.certified.textconv']).trim(), TEXTCONV);
    assert.equal(git(clone, ['log', '-p', '--no-color', '-3']), before);
  });
});

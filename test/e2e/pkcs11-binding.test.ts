/**
 * pkcs11js (the native PKCS#11 binding) is an optional dependency: npm leaves it out where it
 * cannot be built. Commands that use no token key never load it, and work without it; a command
 * that needs it says so on one line and writes nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, REPO, ROOT_PASSWORD, baseEnv, commitCount, snapshot, tempDir, type RunResult } from '../helpers/cli.js';
import { SOFTHSM_MODULE, USER_PIN, softhsmMissing, softhsmToken } from '../helpers/softhsm.js';

/** Runs a certified launcher (the checkout's, or an installed copy's) to its end. */
function runBin(bin: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): RunResult {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, env: baseEnv(env), input: '', encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** The packages scripts/bundle.mjs leaves out of the bundle: an installed certified loads them from node_modules. */
function bundleExternals(): string[] {
  const source = readFileSync(join(REPO, 'scripts/bundle.mjs'), 'utf8');
  const list = /^\s*external:\s*\[([^\]]*)\]/m.exec(source)?.[1];
  assert.ok(list, 'scripts/bundle.mjs names its external packages');
  return [...list.matchAll(/'([^']+)'/g)].map((match) => match[1]!);
}

/**
 * certified as npm installs it where pkcs11js could not be built: what package.json's "files"
 * publish (bin/, dist/) and a node_modules with every package the bundle keeps external but pkcs11js.
 */
function installWithoutBinding(): { bin: string; root: string } {
  const root = tempDir('certified-no-pkcs11js-');
  for (const entry of ['bin', 'dist', 'package.json']) cpSync(join(REPO, entry), join(root, entry), { recursive: true });
  const externals = bundleExternals();
  assert.ok(externals.includes('pkcs11js'), 'pkcs11js is loaded at run time, not bundled');
  for (const name of externals.filter((name) => name !== 'pkcs11js')) {
    mkdirSync(dirname(join(root, 'node_modules', name)), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', name), join(root, 'node_modules', name));
  }
  // The copy must really lack it: not in its node_modules, nor in any folder Node also searches.
  assert.throws(() => createRequire(join(root, 'dist/pki/pkcs11.js')).resolve('pkcs11js'), /Cannot find module 'pkcs11js'/);
  return { bin: join(root, 'bin/certified'), root };
}

/** Node's own log of the CommonJS modules a process asks for (pkcs11js is one: a native addon). */
const MODULE_LOG = { NODE_DEBUG: 'module' };
const loadsBinding = (result: RunResult) => /REQUEST pkcs11js /.test(result.stderr);

describe('commands that use no token key', () => {
  it('never load pkcs11js (Node logs every CommonJS module a command asks for)', () => {
    const cwd = tempDir();
    const env = { ...MODULE_LOG, CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
    const commands = [['--version'], ['--help'], ['--ca', 'CN=Plain CA'], ['CN=web.example.test'], ['--client', 'CN=alice'], ['ls'], ['revoke', '--name', 'alice', '--yes'], ['crl'], ['check']];
    for (const args of commands) {
      const result = runBin(BIN, args, cwd, env);
      assert.equal(result.code, 0, `certified ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /MODULE \d+:/, 'NODE_DEBUG=module logs the loads');
      assert.equal(loadsBinding(result), false, `certified ${args.join(' ')} loads pkcs11js`);
    }
  });

  it('work where pkcs11js is not installed', () => {
    const { bin } = installWithoutBinding();
    const cwd = tempDir();
    const env = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
    const version = runBin(bin, ['--version'], cwd);
    assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
    for (const args of [['--ca', 'CN=Plain CA'], ['CN=web.example.test'], ['--client', 'CN=alice'], ['revoke', '--name', 'alice', '--yes'], ['crl'], ['check']]) {
      const result = runBin(bin, args, cwd, env);
      assert.equal(result.code, 0, `certified ${args.join(' ')}: ${result.stderr}`);
    }
    const listed = runBin(bin, ['ls'], cwd);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /web\.example\.test/);
    assert.ok(existsSync(join(cwd, 'etc/ssl/certs/web.example.test.crt')));
  });
});

const MISSING = /^certified: the key of "(?:root-ca|ca)" on the PKCS#11 token cannot be used: the PKCS#11 support \(the optional package pkcs11js, built when certified is installed\) is missing\. Install certified where a C\+\+ compiler is available \(npm builds the optional package pkcs11js\), then try again\.\n$/;

describe('a token key where pkcs11js is not installed', () => {
  it('refuses a new CA on a token on one line, exit 1, writing nothing', () => {
    const { bin } = installWithoutBinding();
    const cwd = tempDir();
    // The binding is the first thing a token key needs: the module named here is never loaded.
    const env = { CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE ?? join(cwd, 'libsofthsm2.so'), CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
    for (const flag of ['--root-key', '--intermediate-key']) {
      const result = runBin(bin, ['--ca', flag, 'pkcs11:token=ca;object=key', 'CN=Token CA'], cwd, env);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, MISSING);
      assert.equal(result.stdout, '');
      assert.equal(existsSync(join(cwd, 'etc')), false, 'nothing was written');
    }
  });

  describe('of a CA made where it was installed', { skip: softhsmMissing() }, () => {
    let cwd: string;
    let env: Record<string, string>;
    before(() => {
      const token = softhsmToken('ca');
      cwd = tempDir();
      env = { ...token.env, CERTIFIED_PKCS11_PIN: USER_PIN, CERTIFIED_PKCS11_MODULE: SOFTHSM_MODULE! };
      const made = runBin(BIN, ['--ca', '--intermediate-key', 'pkcs11:token=ca;object=intermediate', 'CN=Token CA'], cwd, { ...env, CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD });
      assert.equal(made.code, 0, made.stderr);
    });

    it('loads pkcs11js only there, when a command signs with the token key', () => {
      const issued = runBin(BIN, ['CN=web.example.test'], cwd, { ...env, ...MODULE_LOG });
      assert.equal(issued.code, 0, issued.stderr);
      assert.ok(loadsBinding(issued), 'issuing with the token intermediate loads pkcs11js');
      const listed = runBin(BIN, ['ls'], cwd, { ...env, ...MODULE_LOG });
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(loadsBinding(listed), false, 'ls signs nothing');
    });

    it('refuses to issue where pkcs11js is missing, on one line, writing nothing', () => {
      const { bin } = installWithoutBinding();
      const db = join(cwd, 'etc/ssl');
      const before = snapshot(db);
      const commits = commitCount(db);
      for (const args of [['CN=never.example.test'], ['crl']]) {
        const result = runBin(bin, args, cwd, env);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, MISSING);
      }
      assert.deepEqual(snapshot(db), before, 'nothing was written');
      assert.equal(commitCount(db), commits);
    });
  });
});

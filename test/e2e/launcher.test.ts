import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import Module from 'node:module';
import { describe, it } from 'node:test';
import { REPO, baseEnv, makeCa, tempDir } from '../helpers/cli.js';

/**
 * bin/certified compiles dist/bundle/cli.cjs (and show.cjs) from V8's code cache beside it, made
 * by the build for the Node that built it, and makes one for any other Node that runs it. Tried on
 * a copy of the launcher and the bundle, so that the checkout's cache is left alone.
 */

/** The code caches of `bundle` beside it (one per Node build that ran it). */
function cachesOf(bundle: string): string[] {
  return readdirSync(dirname(bundle))
    .filter((name) => name.startsWith(`${basename(bundle)}.`) && name.endsWith('.v8-cache'))
    .map((name) => join(dirname(bundle), name));
}

function copyOfTool(): { bin: string; bundle: string; show: string } {
  const root = tempDir('certified-launcher-');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist/bundle'), { recursive: true });
  for (const file of ['bin/certified', 'bin/package.json', 'package.json', 'dist/bundle/cli.cjs', 'dist/bundle/show.cjs', 'dist/bundle/textconv-cache-key']) {
    copyFileSync(join(REPO, file), join(root, file));
  }
  return { bin: join(root, 'bin/certified'), bundle: join(root, 'dist/bundle/cli.cjs'), show: join(root, 'dist/bundle/show.cjs') };
}

function runTool(bin: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: tempDir(), env: baseEnv(env), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Whether V8 takes `cache` for `bundle`, as the launcher asks it. */
function accepted(bundle: string, cache: string): boolean {
  const script = new Script(Module.wrap(readFileSync(bundle, 'latin1')), { filename: bundle, cachedData: readFileSync(cache) });
  return script.cachedDataRejected === false;
}

describe('the launcher', () => {
  it('is built with a code cache that this Node takes for the bundle', () => {
    const bundle = join(REPO, 'dist/bundle/cli.cjs');
    const [cache, ...others] = cachesOf(bundle);
    assert.ok(cache, 'the build made a code cache');
    assert.deepEqual(others, [], 'one cache, for the Node that built it');
    assert.match(cache, new RegExp(`cli\\.cjs\\.${process.version.replaceAll('.', '\\.')}-${process.arch}-`));
    assert.ok(accepted(bundle, cache), 'V8 takes it');
  });

  it('is built with a code cache of show, the command git runs for each file of a diff', () => {
    const [cache, ...others] = cachesOf(join(REPO, 'dist/bundle/show.cjs'));
    assert.ok(cache, 'the build made a code cache of show.cjs');
    assert.deepEqual(others, []);
    assert.ok(accepted(join(REPO, 'dist/bundle/show.cjs'), cache), 'V8 takes it');
  });

  it('makes the code cache of show when there is none, and shows the same with it', async () => {
    const tool = copyOfTool();
    const cwd = tempDir();
    await makeCa(cwd);
    const certificate = join(cwd, 'etc/ssl/certs/ca.chain.crt');
    const first = runTool(tool.bin, ['show', certificate]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /SHA-256/);
    const [cache, ...others] = cachesOf(tool.show);
    assert.ok(cache, 'the first show wrote the cache');
    assert.deepEqual(others, []);
    assert.deepEqual(cachesOf(tool.bundle), [], 'show did not load the whole CLI');
    assert.ok(accepted(tool.show, cache));
    const inode = statSync(cache).ino;
    assert.deepEqual(runTool(tool.bin, ['show', certificate]), first);
    assert.equal(statSync(cache).ino, inode, 'the second show took the cache');
  });

  it('keeps no cache of show when the whole CLI answered for it (a DER file)', async () => {
    const tool = copyOfTool();
    const cwd = tempDir();
    await makeCa(cwd);
    const der = join(cwd, 'ca.der');
    assert.equal(spawnSync('openssl', ['x509', '-in', join(cwd, 'etc/ssl/certs/ca.crt'), '-outform', 'DER', '-out', der]).status, 0);
    const shown = runTool(tool.bin, ['show', der]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /SHA-256/);
    assert.equal(cachesOf(tool.bundle).length, 1, 'the CLI answered, and keeps its cache');
    assert.deepEqual(cachesOf(tool.show), [], 'what show compiled for a file it left to the CLI is not kept');
  });

  it("exits early only when no other 'beforeExit' listener may have more to do", () => {
    const tool = copyOfTool();
    const dir = tempDir();
    const marker = join(dir, 'flushed');
    // As a telemetry agent preloaded with --require would: more work once the loop is empty.
    const preload = join(dir, 'preload.cjs');
    writeFileSync(preload, `process.once('beforeExit', () => setTimeout(() => require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'flushed'), 50));\n`);
    const result = spawnSync(process.execPath, ['--require', preload, tool.bin, '--help'], { cwd: dir, env: baseEnv(), encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Usage: certified/);
    assert.equal(readFileSync(marker, 'utf8'), 'flushed');
  });

  it('makes the code cache when there is none, and runs the same with it', () => {
    const tool = copyOfTool();
    const first = runTool(tool.bin, ['help', 'ls']);
    assert.equal(first.code, 0, first.stderr);
    const [cache, ...others] = cachesOf(tool.bundle);
    assert.ok(cache, 'the first run wrote the cache');
    assert.deepEqual(others, []);
    assert.ok(accepted(tool.bundle, cache));
    assert.deepEqual(runTool(tool.bin, ['help', 'ls']), first);
    assert.deepEqual(cachesOf(tool.bundle), [cache], 'the second run used it');
  });

  it("leaves another Node's cache alone and makes its own", () => {
    const tool = copyOfTool();
    const other = `${tool.bundle}.v20.0.0-${process.arch}-0-0.v8-cache`;
    writeFileSync(other, 'the code cache of another Node');
    const result = runTool(tool.bin, ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: certified/);
    const caches = cachesOf(tool.bundle);
    assert.equal(caches.length, 2);
    assert.equal(readFileSync(other, 'utf8'), 'the code cache of another Node');
    assert.ok(accepted(tool.bundle, caches.find((cache) => cache !== other)!));
  });

  it('makes, from a check (which tunes V8 while it runs), a cache that every command takes', () => {
    const tool = copyOfTool();
    const cwd = tempDir();
    const made = spawnSync(process.execPath, [join(REPO, 'bin/certified'), '--ca', 'CN=Launcher CA'], { cwd, env: baseEnv({ CERTIFIED_ROOT_PASSWORD: 'root password for tests' }), encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const checked = spawnSync(process.execPath, [tool.bin, 'check'], { cwd, env: baseEnv(), encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stderr);
    const [cache] = cachesOf(tool.bundle);
    assert.ok(cache, 'the check wrote the cache');
    assert.ok(accepted(tool.bundle, cache), 'V8 takes it with its usual flags');
  });

  it("leaves a V8 setting the user gave alone through a check: the cache made then is taken under it", () => {
    const tool = copyOfTool();
    const cwd = tempDir();
    const made = spawnSync(process.execPath, [join(REPO, 'bin/certified'), '--ca', 'CN=Launcher CA'], { cwd, env: baseEnv({ CERTIFIED_ROOT_PASSWORD: 'root password for tests' }), encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    // Node takes V8's settings with one dash or two, and with underscores.
    for (const setting of ['--heap-growing-percent=30', '-heap_growing_percent=40']) {
      const known = new Set(cachesOf(tool.bundle));
      const check = () => spawnSync(process.execPath, [setting, tool.bin, 'check'], { cwd, env: baseEnv(), encoding: 'utf8' });
      assert.equal(check().status, 0);
      const [cache] = cachesOf(tool.bundle).filter((file) => !known.has(file));
      assert.ok(cache, `the check with ${setting} wrote a cache`);
      const inode = statSync(cache).ino;
      assert.equal(check().status, 0);
      assert.equal(statSync(cache).ino, inode, `the next check with ${setting} took it: the setting was not reset to V8's default`);
    }
  });

  it('keeps no cache of a failed run, which compiled little', () => {
    const tool = copyOfTool();
    const result = runTool(tool.bin, ['issue', '--no-such-option']);
    assert.equal(result.code, 2);
    assert.deepEqual(cachesOf(tool.bundle), []);
  });

  it('makes another cache for another build of the bundle', () => {
    const tool = copyOfTool();
    runTool(tool.bin, ['--help']);
    const [first] = cachesOf(tool.bundle);
    writeFileSync(join(dirname(tool.bundle), 'textconv-cache-key'), 'another-build\n');
    runTool(tool.bin, ['--help']);
    assert.equal(cachesOf(tool.bundle).filter((cache) => cache !== first).length, 1);
  });

  it('keeps a cache for each set of V8 flags, which V8 takes under those flags', () => {
    const tool = copyOfTool();
    assert.equal(runTool(tool.bin, ['--help']).code, 0);
    const [usual] = cachesOf(tool.bundle);
    // A V8 flag in NODE_OPTIONS: V8 refuses a cache made under other flags.
    const flagged = { NODE_OPTIONS: '--max-old-space-size=200' };
    assert.equal(runTool(tool.bin, ['--help'], flagged).code, 0);
    const [other, ...more] = cachesOf(tool.bundle).filter((cache) => cache !== usual);
    assert.ok(other, 'a second cache, for the flags');
    assert.deepEqual(more, []);
    // The same flag on the command line: a cache of its own too.
    const onCommandLine = spawnSync(process.execPath, ['--max-old-space-size=200', tool.bin, '--help'], { cwd: tempDir(), env: baseEnv(), encoding: 'utf8' });
    assert.equal(onCommandLine.status, 0, onCommandLine.stderr);
    const [third, ...yetMore] = cachesOf(tool.bundle).filter((cache) => cache !== usual && cache !== other);
    assert.ok(third, 'a third cache, for the flag on the command line');
    assert.deepEqual(yetMore, []);
    const inodes = () => [usual!, other, third].map((cache) => statSync(cache).ino);
    const before = inodes();
    runTool(tool.bin, ['--help'], flagged);
    runTool(tool.bin, ['--help']);
    spawnSync(process.execPath, ['--max-old-space-size=200', tool.bin, '--help'], { cwd: tempDir(), env: baseEnv(), encoding: 'utf8' });
    assert.deepEqual(inodes(), before, 'each run took its cache: none was rewritten');
  });

  it('replaces a cache V8 refuses', () => {
    const tool = copyOfTool();
    runTool(tool.bin, ['--help']);
    const [cache] = cachesOf(tool.bundle);
    writeFileSync(cache!, 'not a code cache');
    const result = runTool(tool.bin, ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(accepted(tool.bundle, cache!), 'the refused cache was replaced');
  });

  it('runs on when it cannot write the cache, leaving nothing behind', () => {
    const tool = copyOfTool();
    runTool(tool.bin, ['--help']);
    const [cache] = cachesOf(tool.bundle);
    rmSync(cache!);
    mkdirSync(cache!); // unreadable and unreplaceable as a file, even for root
    const result = runTool(tool.bin, ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(readdirSync(dirname(tool.bundle)).sort(), ['cli.cjs', basename(cache!), 'show.cjs', 'textconv-cache-key']);
    assert.deepEqual(readdirSync(cache!), []);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import Module from 'node:module';
import { describe, it } from 'node:test';
import { REPO, baseEnv, tempDir } from '../helpers/cli.js';

/**
 * bin/certified compiles dist/bundle/cli.cjs from V8's code cache beside it, made by the build,
 * and makes it again when it is missing or another Node's. Tried on a copy of the launcher and
 * the bundle, so that the checkout's cache is left alone.
 */

function copyOfTool(): { bin: string; bundle: string; cache: string } {
  const root = tempDir('certified-launcher-');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist/bundle'), { recursive: true });
  for (const file of ['bin/certified', 'bin/package.json', 'package.json', 'dist/bundle/cli.cjs']) copyFileSync(join(REPO, file), join(root, file));
  const bundle = join(root, 'dist/bundle/cli.cjs');
  return { bin: join(root, 'bin/certified'), bundle, cache: `${bundle}.v8-cache` };
}

function runTool(bin: string, args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: tempDir(), env: baseEnv(), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Whether V8 takes `cache` for `bundle`, as the launcher asks it. */
function accepted(bundle: string, cache: string): boolean {
  const script = new Script(Module.wrap(readFileSync(bundle, 'latin1')), { filename: bundle, cachedData: readFileSync(cache) });
  return script.cachedDataRejected === false;
}

describe('the launcher', () => {
  it('ships a code cache that this Node takes for the bundle', () => {
    const bundle = join(REPO, 'dist/bundle/cli.cjs');
    assert.ok(accepted(bundle, `${bundle}.v8-cache`), 'the build made a usable code cache');
  });

  it('makes the code cache when there is none, and runs the same with it', () => {
    const tool = copyOfTool();
    const first = runTool(tool.bin, ['help', 'ls']);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(existsSync(tool.cache), 'the first run wrote the cache');
    assert.ok(accepted(tool.bundle, tool.cache));
    assert.deepEqual(runTool(tool.bin, ['help', 'ls']), first);
  });

  it('replaces a cache V8 refuses, such as one of another Node', () => {
    const tool = copyOfTool();
    writeFileSync(tool.cache, 'not a code cache');
    const result = runTool(tool.bin, ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: certified/);
    assert.ok(accepted(tool.bundle, tool.cache), 'the refused cache was replaced');
  });

  it('runs on when it cannot write the cache, leaving nothing behind', () => {
    const tool = copyOfTool();
    mkdirSync(tool.cache); // unreadable and unreplaceable as a file, even for root
    const result = runTool(tool.bin, ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(readdirSync(join(tool.bundle, '..')).sort(), ['cli.cjs', 'cli.cjs.v8-cache']);
    assert.deepEqual(readdirSync(tool.cache), []);
  });
});

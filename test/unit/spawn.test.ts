import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CaStore } from '../../src/store/ca-store.js';
import { StoreWriteError } from '../../src/store/errors.js';
import { JOURNAL_FILE } from '../../src/store/layout.js';
import { runProgram, startSpawnHelper } from '../../src/store/spawn.js';
import { commitFile, git, repo } from '../helpers/git-repo.js';

const SPAWN_MODULE = join(dirname(fileURLToPath(import.meta.url)), '../../src/store/spawn.js');

describe('runProgram through the helper process', () => {
  it('starts programs from the helper, not from this process, with their output, exit code and stdin', async () => {
    const here = await runProgram('sh', ['-c', 'echo $PPID'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    assert.equal(here.stdout.trim(), String(process.pid));
    startSpawnHelper();
    const parent = await runProgram('sh', ['-c', 'echo $PPID'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    assert.equal(parent.error, null);
    assert.notEqual(parent.stdout.trim(), String(process.pid));
    assert.match(parent.stdout.trim(), /^\d+$/);
    const failed = await runProgram('sh', ['-c', 'cat; echo oops >&2; exit 3'], { env: {}, input: new Uint8Array(Buffer.from('piped in')) });
    assert.equal(failed.stdout, 'piped in');
    assert.equal(failed.stderr, 'oops\n');
    assert.equal(failed.error?.code, 3);
    const missing = await runProgram('certified-no-such-program', [], { env: { PATH: '/nonexistent' } });
    assert.equal(missing.error?.code, 'ENOENT');
    assert.match(missing.error?.syscall ?? '', /^spawn/);
    const cwd = await runProgram('pwd', [], { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    assert.equal(cwd.stdout.trim(), '/');
  });

  it('outlives the SIGINT and SIGTERM that stop the server, so that its last commit is made', async () => {
    startSpawnHelper();
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const helper = Number((await runProgram('sh', ['-c', 'echo $PPID'], { env })).stdout.trim());
    assert.notEqual(helper, process.pid);
    process.kill(helper, 'SIGINT');
    process.kill(helper, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await runProgram('sh', ['-c', 'echo $PPID'], { env });
    assert.equal(after.error, null);
    assert.equal(Number(after.stdout.trim()), helper);
  });

  it("runs programs outside this process's group, which Ctrl-C signals as a whole", async () => {
    startSpawnHelper();
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const ours = spawnSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).stdout.trim();
    const theirs = (await runProgram('sh', ['-c', 'ps -o pgid= -p $$'], { env })).stdout.trim();
    assert.match(theirs, /^\d+$/);
    assert.notEqual(theirs, ours);
  });

  it('keeps no process alive once its programs are done', () => {
    const script = `import { runProgram, startSpawnHelper } from ${JSON.stringify(pathToFileURL(SPAWN_MODULE).href)};
startSpawnHelper();
const { stdout } = await runProgram('echo', ['done'], { env: { PATH: process.env.PATH } });
process.stdout.write(stdout);`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.signal, null, 'the process did not end by itself');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'done\n');
  });

  for (const [hook, outcome] of [
    ['exit 0', 'made'],
    ['exit 1', 'refused'],
  ] as const) {
    it(`waits for the git its killed helper left running, then ${outcome === 'made' ? 'keeps the commit it made' : 'undoes the change it refused'}`, async () => {
      const dir = repo();
      commitFile(dir, 'a.txt', 'a');
      git(dir, ['config', 'user.name', 't']);
      git(dir, ['config', 'user.email', 't@localhost']);
      // The commit's hook says it started and waits: the helper dies while git, its orphan now, is committing.
      const started = join(dir, '.git/hook-started');
      writeFileSync(join(dir, '.git/hooks/pre-commit'), `#!/bin/sh\ntouch "${started}"\nsleep 1\n${hook}\n`, { mode: 0o755 });
      const store = CaStore.open(dir, { lockTimeoutMs: 10_000 });
      store.startProgramsFromHelper();
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
      const helper = Number((await runProgram('sh', ['-c', 'echo $PPID'], { env })).stdout.trim());
      const head = git(dir, ['rev-parse', 'HEAD']);
      const applying = store.locked(() => store.apply({ message: 'Add b', writes: [{ path: 'b.txt', content: 'b\n', commit: true }] }));
      for (let waited = 0; !existsSync(started) && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      process.kill(helper, 'SIGKILL');
      if (outcome === 'made') {
        const { commit } = await applying;
        assert.equal(commit, git(dir, ['rev-parse', 'HEAD']));
        assert.equal(git(dir, ['log', '-1', '--format=%s']), 'Add b');
        assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'b\n');
      } else {
        await assert.rejects(applying, (error: unknown) => error instanceof StoreWriteError && /helper process/.test(error.message));
        assert.equal(git(dir, ['rev-parse', 'HEAD']), head);
        assert.equal(existsSync(join(dir, 'b.txt')), false);
      }
      assert.equal(existsSync(join(dir, JOURNAL_FILE)), false);
      assert.equal(git(dir, ['status', '--porcelain']), '');
      const replaced = Number((await runProgram('sh', ['-c', 'echo $PPID'], { env })).stdout.trim());
      assert.notEqual(replaced, helper);
      assert.notEqual(replaced, process.pid, 'a new helper starts programs');
    });
  }
});

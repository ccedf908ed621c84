import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runProgram, startSpawnHelper } from '../../src/store/spawn.js';

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
});

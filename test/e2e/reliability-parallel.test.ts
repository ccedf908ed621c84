import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { commitCount, freshCa, run } from '../helpers/cli.js';
import { assertAllOrNothing, assertCaSound, start } from '../helpers/ca-state.js';

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(child.stdout.toString().trim());
}

/** The lock file format of src/store/lock.ts. */
function lockContent(pid: number): string {
  return `${JSON.stringify({ pid, host: hostname(), since: new Date().toISOString(), token: `test-${pid}` })}\n`;
}

/** A live process holding the CA lock (it writes the lock file itself, then sleeps until killed). */
async function holdLock(db: string) {
  const script = `require('fs').writeFileSync(${JSON.stringify(join(db, '.certified.lock'))}, JSON.stringify({pid: process.pid, host: require('os').hostname(), since: new Date().toISOString(), token: 'holder'}) + '\\n'); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return child;
}

const serials = (db: string) => (existsSync(join(db, 'records/ca')) ? readdirSync(join(db, 'records/ca')).sort() : []);

describe('parallel use: certified processes queue on the lock', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa()));

  it('8 processes at once: all succeed, 8 distinct serials, exactly 8 commits', async () => {
    const commits = commitCount(db);
    const serialsBefore = serials(db);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => start([`CN=par-${i}.example.com`], cwd).done));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const added = serials(db).filter((serial) => !serialsBefore.includes(serial));
    assert.equal(new Set(added).size, 8);
    assert.equal(commitCount(db), commits + 8);
    for (let i = 0; i < 8; i++) assert.equal(assertAllOrNothing(db, `par-${i}.example.com`), 'issued');
    assertCaSound(db);
  });

  it('a stale lock (its process is gone) is taken over, also by several processes at once', async () => {
    const pid = deadPid();
    writeFileSync(join(db, '.certified.lock'), lockContent(pid));
    const commits = commitCount(db);
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => start([`CN=stale-${i}`], cwd).done));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.equal(commitCount(db), commits + 4);
    assert.ok(!existsSync(join(db, '.certified.lock')), 'the lock is released');
    assertCaSound(db);
  });

  it('a live lock is waited for, with a message after 3 s, and --lock-timeout gives up with one clear line', async () => {
    const holder = await holdLock(db);
    try {
      const before = commitCount(db);
      const [short, long] = await Promise.all([
        run(['--lock-timeout', '2', 'CN=short-wait'], { cwd }),
        run(['--lock-timeout', '5', 'CN=long-wait'], { cwd }),
      ]);
      for (const result of [short, long]) {
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, new RegExp(`certified: another certified process \\(pid ${holder.pid}\\) holds the lock on ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; .*--lock-timeout`));
        assert.equal(result.stdout, '');
      }
      assert.match(short.stderr, /^certified: [^\n]+\n$/, 'one line, no waiting message before 3 s');
      assert.match(long.stderr, new RegExp(`^Waiting for the lock on "etc/ssl", held by process ${holder.pid} since .* \\(up to 5 s\\)\\.\\.\\.\\ncertified: [^\\n]+\\n$`));
      assert.equal(commitCount(db), before);
      assert.equal(assertAllOrNothing(db, 'short-wait'), 'absent');

      // A refusal that needs no change takes no lock: init in an existing CA says so at once.
      const again = await run(['--lock-timeout', '1', 'init', 'CN=Again'], { cwd });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^certified: a CA already exists in /);

      // A waiting command goes ahead once the holder dies.
      const waiting = start(['CN=after-holder'], cwd);
      setTimeout(() => holder.kill('SIGKILL'), 300);
      const result = await waiting.done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(commitCount(db), before + 1);
    } finally {
      holder.kill('SIGKILL');
    }
    assertCaSound(db);
  });

  it('revocations interleaved with issuing keep the CA consistent', async (t) => {
    const probe = await run(['--revoke', 'CN=par-0.example.com'], { cwd });
    assert.equal(probe.code, 0, probe.stderr);
    const commits = commitCount(db);
    const jobs = [
      ...Array.from({ length: 3 }, (_, i) => start([`CN=mix-${i}`], cwd).done),
      ...[1, 2, 3].map((i) => start(['--revoke', `CN=par-${i}.example.com`], cwd).done),
    ];
    for (const result of await Promise.all(jobs)) assert.equal(result.code, 0, result.stderr);
    assert.equal(commitCount(db), commits + 6);
    assertCaSound(db);
    const crl = spawnSync('openssl', ['crl', '-in', join(db, 'crl/ca.crl'), '-noout', '-text'], { encoding: 'utf8' });
    assert.equal((crl.stdout.match(/Serial Number:/g) ?? []).length, 4);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LOCK_FILE } from '../../src/store/layout.js';
import { LockTimeoutError, acquireLock } from '../../src/store/lock.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function caDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'certified-lock-'));
  dirs.push(dir);
  return dir;
}

describe('the CA lock', () => {
  it('waits for a lock it cannot read until its timeout, letting the event loop run meanwhile', async () => {
    const unreadable = caDir();
    mkdirSync(join(unreadable, LOCK_FILE)); // read fails with EISDIR
    const cases = [unreadable];
    if (process.getuid?.() !== 0) {
      // Another user's lock under umask 077 (root reads it anyway).
      const private_ = caDir();
      writeFileSync(join(private_, LOCK_FILE), '{}\n', { mode: 0o000 });
      chmodSync(join(private_, LOCK_FILE), 0o000);
      cases.push(private_);
    }
    for (const dir of cases) {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 20);
      try {
        await assert.rejects(acquireLock(dir, { timeoutMs: 300 }), LockTimeoutError);
      } finally {
        clearInterval(ticker);
      }
      assert.ok(ticks >= 5, `the event loop ran while it waited (${ticks} ticks)`);
    }
  });

  it('takes the lock, and gives it back', async () => {
    const dir = caDir();
    const lock = await acquireLock(dir, { timeoutMs: 300 });
    await assert.rejects(acquireLock(dir, { timeoutMs: 100 }), LockTimeoutError);
    await lock.release();
    const again = await acquireLock(dir, { timeoutMs: 100 });
    await again.release();
  });

  it("takes over at once the lock of a process that is gone, once, when two wait for it", async () => {
    const dir = caDir();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const boot = existsSync('/proc/sys/kernel/random/boot_id') ? { boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() } : {};
    writeFileSync(join(dir, LOCK_FILE), `${JSON.stringify({ pid: Number(gone), host: hostname(), since: new Date().toISOString(), token: 'dead', ...boot })}\n`);
    const outcomes = await Promise.allSettled([acquireLock(dir, { timeoutMs: 500 }), acquireLock(dir, { timeoutMs: 500 })]);
    const taken = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    assert.equal(taken.length, 1, 'the stale lock was taken over, by one of them only');
    assert.ok(refused[0] instanceof LockTimeoutError, 'the other waited for it');
    await taken[0]!.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });

  it('removes the takeover guard a process left when it died taking over', async () => {
    const dir = caDir();
    writeFileSync(join(dir, LOCK_FILE), 'not a lock\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, LOCK_FILE), old, old);
    writeFileSync(join(dir, `${LOCK_FILE}.takeover`), '1\n');
    utimesSync(join(dir, `${LOCK_FILE}.takeover`), old, old);
    const lock = await acquireLock(dir, { timeoutMs: 2_000 });
    assert.equal(existsSync(join(dir, `${LOCK_FILE}.takeover`)), false);
    await lock.release();
  });
});

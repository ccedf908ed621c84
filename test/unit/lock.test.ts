import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
});

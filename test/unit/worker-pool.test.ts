import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { CertifiedError } from '../../src/ca/errors.js';
import { ChunkQueue, WorkerPool, chunked } from '../../src/ca/worker-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'certified-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Upper-cases its items; "fail" makes it reply with an error, "exit" makes the thread stop, "given"
 * answers how many chunks the thread had been given when it had worked 50 ms on this one.
 */
const script = join(dir, 'worker.mjs');
writeFileSync(
  script,
  `import { parentPort } from 'node:worker_threads';
let given = 0;
parentPort.on('message', ({ id, items }) => {
  given += 1;
  if (items.includes('given')) return setTimeout(() => parentPort.postMessage({ id, results: items.map(() => given) }), 50);
  if (items.includes('exit')) process.exit(3);
  if (items.includes('fail')) return parentPort.postMessage({ id, error: { message: 'failed on purpose', code: 'TEST', hint: 'a hint' } });
  parentPort.postMessage({ id, results: items.map((item) => item.toUpperCase()) });
});
`,
);
const start = () => WorkerPool.start(pathToFileURL(script), {}, 4);
const message = (items: string[]) => ({ items });

describe('WorkerPool', () => {
  it('returns the results in the order of the chunks, round after round', async () => {
    const pool = await start();
    try {
      const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
      assert.deepEqual(await pool.map<string, string>(chunked(letters, 3), message), letters.map((letter) => letter.toUpperCase()));
      assert.deepEqual(await pool.map<string, string>([['x'], ['y', 'z']], message), ['X', 'Y', 'Z']);
      assert.deepEqual(await pool.map<string, string>([], message), []);
    } finally {
      await pool.close();
    }
  });

  it('gives each thread its next chunk before it answers the current one', async () => {
    const pool = await WorkerPool.start(pathToFileURL(script), {}, 1);
    try {
      // While the thread works on the first chunk, the second is already its own (one at a time: 1, 2, 3).
      assert.deepEqual(await pool.map<string, number>([['given'], ['given'], ['given']], message), [2, 2, 3]);
    } finally {
      await pool.close();
    }
  });

  it('each hands out the chunks of a queue it shares with another taker, each chunk once, and throws what its callback throws', async () => {
    const pool = await start();
    try {
      const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
      const chunks = chunked(letters, 2);
      const queue = new ChunkQueue(chunks);
      const done = new Map<number, string[]>();
      const byThreads = pool.each<string, string>(queue, message, (results, index) => done.set(index, results));
      // The main thread's share: one chunk now and then, as check takes them.
      for (let index = queue.take(); index !== undefined; index = queue.take()) {
        done.set(index, chunks[index]!.map((letter) => letter.toUpperCase()));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await byThreads;
      assert.deepEqual([...done.keys()].sort((a, b) => a - b), chunks.map((_, index) => index));
      assert.deepEqual(chunks.flatMap((_, index) => done.get(index)!), letters.map((letter) => letter.toUpperCase()));
      await assert.rejects(
        pool.each<string, string>([['a'], ['b']], message, () => {
          throw new Error('the callback failed');
        }),
        /the callback failed/,
      );
    } finally {
      await pool.close();
    }
  });

  it("throws a worker's error reply with its code and hint, then refuses more work", async () => {
    const pool = await start();
    try {
      await assert.rejects(pool.map([['a'], ['fail'], ['b']], message), (error: unknown) => {
        assert.ok(error instanceof CertifiedError);
        assert.equal(error.message, 'failed on purpose');
        assert.equal(error.code, 'TEST');
        assert.equal(error.hint, 'a hint');
        return true;
      });
      await assert.rejects(pool.map([['c']], message), /failed on purpose/);
    } finally {
      await pool.close();
    }
  });

  it('fails, instead of waiting for ever, when a thread stops in the middle of a chunk', async () => {
    const pool = await start();
    try {
      await assert.rejects(pool.map([['a'], ['exit'], ['b']], message), /a worker thread stopped \(exit code 3\)/);
    } finally {
      await pool.close();
    }
  });
});

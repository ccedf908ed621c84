import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { CertifiedError } from '../../src/ca/errors.js';
import { ChunkQueue, WorkerPool, chunked } from '../../src/ca/worker-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'certified-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Upper-cases its items; "fail" makes it reply with an error, "exit" makes the thread stop, "given"
 * answers how many chunks the thread had been given when it had worked 50 ms on this one, "thread"
 * the thread's id after 20 ms.
 */
const script = join(dir, 'worker.mjs');
writeFileSync(
  script,
  `import { parentPort, threadId } from 'node:worker_threads';
let given = 0;
parentPort.on('message', ({ id, items }) => {
  given += 1;
  if (items.includes('given')) return setTimeout(() => parentPort.postMessage({ id, results: items.map(() => given) }), 50);
  if (items.includes('thread')) return setTimeout(() => parentPort.postMessage({ id, results: items.map(() => threadId) }), 20);
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

  it('with a chunk ahead, gives a thread its next chunk before it answers the current one', async () => {
    const pool = await WorkerPool.start(pathToFileURL(script), {}, 1);
    try {
      const given: number[] = [];
      await pool.each<string, number>([['given'], ['given'], ['given']], message, ([count], index) => (given[index] = count!), { chunksAhead: 1 });
      assert.equal(given[0], 2, "the second chunk was the thread's while it worked on the first");
      given.length = 0;
      await pool.each<string, number>([['given'], ['given']], message, ([count], index) => (given[index] = count!));
      assert.equal(given[0], 4, 'without, one at a time');
    } finally {
      await pool.close();
    }
  });

  it('with a chunk ahead, still spreads a few chunks over every thread', async () => {
    const pool = await start();
    try {
      // Each thread answers with its own id: as many chunks as threads, one each.
      const count = Math.min(availableParallelism(), 4);
      const chunks = Array.from({ length: count }, () => ['thread']);
      assert.equal(new Set(await pool.map<string, number>(chunks, message)).size, count, 'without a chunk ahead');
      const spread: number[] = [];
      await pool.each<string, number>(chunks, message, ([thread], index) => (spread[index] = thread!), { chunksAhead: 1 });
      assert.equal(new Set(spread).size, count, String(spread));
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

import { availableParallelism } from 'node:os';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { childEnv } from '../store/child-env.js';
import { CertifiedError, type TextPart } from './errors.js';

const MAX_THREADS = 8;

/** What a worker script posts back for one chunk. */
export interface WorkerReply<R> {
  id: number;
  results?: R[];
  error?: { message: string | readonly TextPart[]; code?: string; hint?: readonly TextPart[] };
}

/** Worker threads of one script, kept for several rounds of work (see map). */
export class WorkerPool {
  /** Set by the first failed round or dead thread: the pool is then closed and refuses more work. */
  private failure: Error | undefined;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      // Between rounds too: an error or an exit must not crash the process or go unnoticed.
      worker.on('error', (error) => (this.failure ??= error));
      worker.on('exit', (code) => (this.failure ??= new Error(`a worker thread stopped (exit code ${code})`)));
    }
  }

  /** One thread per core, at most `maxThreads` (there is no use for more threads than chunks); `resourceLimits` bound each thread's heap. */
  static async start(script: URL, workerData: unknown, maxThreads: number, resourceLimits?: ResourceLimits): Promise<WorkerPool> {
    const { Worker } = await import('node:worker_threads');
    const threads = Math.max(1, Math.min(availableParallelism(), MAX_THREADS, maxThreads));
    return new WorkerPool(Array.from({ length: threads }, () => new Worker(script, { workerData, env: childEnv(), ...(resourceLimits ? { resourceLimits } : {}) })));
  }

  /**
   * Posts each chunk as `{ id, ...message(chunk) }` to the next free thread; the results come back
   * in the order of the chunks. The first failure (a worker's error reply, a thread that throws or
   * stops) closes the pool and is thrown: a reply is CertifiedError with the worker's code and hint.
   * `onChunk` hears of each chunk done, with its size, as it comes back.
   */
  async map<T, R>(chunks: T[][], message: (chunk: T[]) => object, onChunk?: (size: number) => void): Promise<R[]> {
    const results: R[][] = new Array(chunks.length);
    await this.each<T, R>(chunks, message, (chunkResults, id) => {
      results[id] = chunkResults;
      onChunk?.(chunkResults.length);
    });
    return results.flat();
  }

  /**
   * map, without keeping the results: `onResults` gets each chunk's results, with the chunk's index,
   * as they come back (in any order), so that a caller can use them and let them go.
   * `chunksAhead` more chunks are posted to each thread than it works on, one round of the threads
   * at a time: a thread then starts its next chunk as soon as it posts a chunk's results, instead of
   * waiting for this thread to read them and send another (check's worker waited ~10% of the time
   * for a main thread busy with its own share).
   */
  async each<T, R>(chunks: T[][] | ChunkQueue<T>, message: (chunk: T[]) => object, onResults: (results: R[], index: number) => void, options: { chunksAhead?: number } = {}): Promise<void> {
    if (this.failure) throw this.failure;
    const queue = chunks instanceof ChunkQueue ? chunks : new ChunkQueue(chunks);
    // A failure of onResults after this thread's promise was resolved (its last chunk) is thrown here.
    let failed: { error: unknown } | undefined;
    // Set by the first failure: replies still coming from other chunks are then ignored.
    let stopped = false;
    const detach: (() => void)[] = [];
    const senders: (() => void)[] = [];
    try {
      const threadsDone = this.workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let inFlight = 0;
            const send = () => {
              if (stopped) return;
              const id = queue.take();
              if (id === undefined) {
                if (inFlight === 0) resolve();
                return;
              }
              inFlight += 1;
              try {
                worker.postMessage({ id, ...message(queue.chunks[id]!) });
              } catch (error) {
                reject(error);
              }
            };
            const onMessage = (reply: WorkerReply<R>) => {
              if (stopped) return;
              inFlight -= 1;
              if (reply.error) return reject(new CertifiedError(reply.error.message, { code: reply.error.code ?? 'WORKER', hint: reply.error.hint }));
              if (reply.results?.length !== queue.chunks[reply.id]?.length) return reject(new Error(`a worker thread answered ${reply.results?.length ?? 0} results for ${queue.chunks[reply.id]?.length ?? 0} jobs`));
              // The next chunk first: this thread's work goes on while the results are used here.
              send();
              try {
                onResults(reply.results ?? [], reply.id);
              } catch (error) {
                failed ??= { error };
                reject(error);
              }
            };
            const onExit = (code: number) => reject(new Error(`a worker thread stopped (exit code ${code})`));
            worker.on('message', onMessage).on('error', reject).on('exit', onExit);
            detach.push(() => worker.off('message', onMessage).off('error', reject).off('exit', onExit));
            senders.push(send);
          }),
      );
      // One chunk to each thread, then the chunks ahead, a round at a time: a few chunks are spread over every thread.
      for (let round = 0; round <= (options.chunksAhead ?? 0); round++) for (const send of senders) send();
      await Promise.all(threadsDone);
      if (failed) throw failed.error;
    } catch (error) {
      stopped = true;
      // Other threads may still be busy with this round: stop them, so no stale reply is ever read.
      this.failure ??= error as Error;
      await this.close();
      throw error;
    } finally {
      for (const off of detach) off();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** Chunks handed out one at a time by index: to a pool's threads (WorkerPool.each) and to whoever else takes some, such as the main thread. */
export class ChunkQueue<T> {
  private next = 0;

  constructor(readonly chunks: T[][]) {}

  /** The index of the next chunk nobody took yet, or undefined when all are taken. */
  take(): number | undefined {
    return this.next < this.chunks.length ? this.next++ : undefined;
  }
}

/** One round of WorkerPool.map in a pool of its own. */
export async function runInWorkers<T, R>(
  script: URL,
  workerData: unknown,
  chunks: T[][],
  message: (chunk: T[]) => object,
  onChunk?: (size: number) => void,
  resourceLimits?: ResourceLimits,
): Promise<R[]> {
  const pool = await WorkerPool.start(script, workerData, chunks.length, resourceLimits);
  try {
    return await pool.map<T, R>(chunks, message, onChunk);
  } finally {
    await pool.close();
  }
}

/** The reply of a worker whose chunk failed: the message, and the code and hint of our errors. */
export function errorReply(id: number, error: unknown): WorkerReply<never> {
  const known = error instanceof CertifiedError;
  return {
    id,
    error: { message: known ? error.messageParts : (error as Error).message, ...(known ? { code: error.code, ...(error.hintParts ? { hint: error.hintParts } : {}) } : {}) },
  };
}

/** `items` in chunks of `size`. */
export function chunked<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Worker threads to start when the main thread works too: one per core but its own. */
export function threadsBesideMain(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** Whether `count` jobs are worth starting worker threads for (each costs ~0.3 s to load). */
export function worthWorkers(count: number, minimum: number): boolean {
  return count >= minimum && availableParallelism() >= 2;
}

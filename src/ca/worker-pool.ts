import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CertifiedError } from './errors.js';

const MAX_THREADS = 8;

/** What a worker script posts back for one chunk. */
export interface WorkerReply<R> {
  id: number;
  results?: R[];
  error?: { message: string; code?: string; hint?: string };
}

/** Worker threads of one script, kept for several rounds of work (see map). */
export class WorkerPool {
  private constructor(private readonly workers: Worker[]) {}

  /** One thread per core, at most `maxThreads` (there is no use for more threads than chunks). */
  static async start(script: URL, workerData: unknown, maxThreads: number): Promise<WorkerPool> {
    const { Worker } = await import('node:worker_threads');
    const threads = Math.max(1, Math.min(availableParallelism(), MAX_THREADS, maxThreads));
    return new WorkerPool(Array.from({ length: threads }, () => new Worker(script, { workerData })));
  }

  /**
   * Posts each chunk as `{ id, ...message(chunk) }` to the next free thread; the results come back
   * in the order of the chunks. The first error stops the round and is thrown as a CertifiedError.
   */
  async map<T, R>(chunks: T[][], message: (chunk: T[]) => object): Promise<R[]> {
    const results: R[][] = new Array(chunks.length);
    let next = 0;
    const listeners: { worker: Worker; onMessage: (reply: WorkerReply<R>) => void; onError: (error: Error) => void }[] = [];
    try {
      await Promise.all(
        this.workers.map(
          (worker) =>
            new Promise<void>((resolve, reject) => {
              const send = () => {
                if (next >= chunks.length) return resolve();
                const id = next++;
                worker.postMessage({ id, ...message(chunks[id]!) });
              };
              const onMessage = (reply: WorkerReply<R>) => {
                if (reply.error) return reject(new CertifiedError(reply.error.message, { code: reply.error.code ?? 'WORKER', ...(reply.error.hint ? { hint: reply.error.hint } : {}) }));
                results[reply.id] = reply.results ?? [];
                send();
              };
              worker.on('message', onMessage);
              worker.on('error', reject);
              listeners.push({ worker, onMessage, onError: reject });
              send();
            }),
        ),
      );
    } finally {
      for (const { worker, onMessage, onError } of listeners) worker.off('message', onMessage).off('error', onError);
    }
    return results.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** One round of WorkerPool.map in a pool of its own. */
export async function runInWorkers<T, R>(script: URL, workerData: unknown, chunks: T[][], message: (chunk: T[]) => object): Promise<R[]> {
  const pool = await WorkerPool.start(script, workerData, chunks.length);
  try {
    return await pool.map<T, R>(chunks, message);
  } finally {
    await pool.close();
  }
}

/** The reply of a worker whose chunk failed: the message, and the code and hint of our errors. */
export function errorReply(id: number, error: unknown): WorkerReply<never> {
  const known = error instanceof CertifiedError;
  return {
    id,
    error: { message: (error as Error).message, ...(known ? { code: error.code, ...(error.hint ? { hint: error.hint } : {}) } : {}) },
  };
}

/** `items` in chunks of `size`. */
export function chunked<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Whether `count` jobs are worth starting worker threads for (each costs ~0.3 s to load). */
export function worthWorkers(count: number, minimum: number): boolean {
  return count >= minimum && availableParallelism() >= 2;
}

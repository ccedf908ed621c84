import { availableParallelism } from 'node:os';
import type { CaStore } from '../store/ca-store.js';
import type { Issuer } from './ca-files.js';
import type { CaConfig } from './config.js';
import { CertifiedError } from './errors.js';
import { prepareIssue, type IssueCertificateParams, type PreparedIssue } from './issue-certificate.js';

export interface IssueJob {
  params: Omit<IssueCertificateParams, 'commandLine' | 'caPassword' | 'issuer'>;
  replacing: boolean;
}

/** Below this many certificates, starting worker threads costs more than it saves. */
const MIN_JOBS_FOR_WORKERS = 40;
const MAX_THREADS = 8;
const CHUNK = 20;

interface WorkerReply {
  id: number;
  results?: PreparedIssue[];
  error?: { message: string; code?: string; hint?: string };
}

/**
 * Prepares many issuances by one issuer (see prepareIssue): on every core, in worker threads of
 * this process, for `certified apply`. Results come back in the order of `jobs`.
 */
export async function prepareIssues(store: CaStore, config: CaConfig, issuer: Issuer, jobs: IssueJob[]): Promise<PreparedIssue[]> {
  const threads = Math.min(availableParallelism(), MAX_THREADS, Math.ceil(jobs.length / CHUNK));
  if (jobs.length < MIN_JOBS_FOR_WORKERS || threads < 2) {
    const results: PreparedIssue[] = [];
    for (const job of jobs) results.push(await prepareIssue(store, config, issuer, job.params, { replacing: job.replacing }));
    return results;
  }
  const { Worker } = await import('node:worker_threads');
  const chunks: IssueJob[][] = [];
  for (let i = 0; i < jobs.length; i += CHUNK) chunks.push(jobs.slice(i, i + CHUNK));
  const results: PreparedIssue[][] = new Array(chunks.length);
  let next = 0;
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL('./issue-worker.js', import.meta.url), { workerData: { dir: store.dir, config, issuer } }),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= chunks.length) return resolve();
              const id = next++;
              worker.postMessage({ id, jobs: chunks[id] });
            };
            worker.on('message', (reply: WorkerReply) => {
              if (reply.error) return reject(new CertifiedError(reply.error.message, { code: reply.error.code ?? 'ISSUE', ...(reply.error.hint ? { hint: reply.error.hint } : {}) }));
              results[reply.id] = reply.results ?? [];
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return results.flat();
}

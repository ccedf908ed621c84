/** A worker thread of issue-pool.ts: prepares the issuances it is sent, writes nothing. */
import { parentPort, workerData } from 'node:worker_threads';
import { CaStore } from '../../store/ca-store.js';
import type { Issuer } from '../load-issuer.js';
import type { CaConfig } from '../config.js';
import { prepareIssue } from './issue-certificate.js';
import type { IssueJob } from './issue-pool.js';
import { errorReply } from '../worker-pool.js';

const { dir, config, issuer } = workerData as { dir: string; config: CaConfig; issuer: Issuer };
const store = CaStore.open(dir, { lockTimeoutMs: 0 });

parentPort?.on('message', async ({ id, jobs }: { id: number; jobs: IssueJob[] }) => {
  try {
    // All at once: while one waits for a key from libuv's threads, another builds its certificate.
    const results = await Promise.all(jobs.map((job) => prepareIssue(store, config, issuer, job.params, { replacing: job.replacing })));
    parentPort?.postMessage({ id, results });
  } catch (error) {
    parentPort?.postMessage(errorReply(id, error));
  }
});

import type { CaStore } from '../../store/ca-store.js';
import type { Issuer } from '../load-issuer.js';
import type { CaConfig } from '../config.js';
import { prepareIssue, type IssueCertificateParams, type PreparedIssue } from './issue-certificate.js';
import { chunked, runInWorkers, worthWorkers } from '../worker-pool.js';

export interface IssueJob {
  params: Omit<IssueCertificateParams, 'commandLine' | 'askPassword' | 'issuer'>;
  replacing: boolean;
}

/** Below this many certificates, starting worker threads costs more than it saves. */
const MIN_JOBS_FOR_WORKERS = 40;
const CHUNK = 20;
/**
 * Each certificate leaves the thread's young generation much short-lived garbage, which V8 would
 * let grow to 32 MiB a thread. At 8 MiB an apply of 1,000 peaks ~15 MiB lower for about the same
 * time in GC (at 4 MiB, ~17 MiB lower but ~60% more time in GC).
 */
const ISSUE_WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * Prepares many issuances by one issuer (see prepareIssue): on every core, in worker threads of
 * this process, for `certified apply`; in this thread when the issuer's key is on a token. Results
 * come back in the order of `jobs`; `onPrepared` hears how many more are ready as they are.
 */
export async function prepareIssues(store: CaStore, config: CaConfig, issuer: Issuer, jobs: IssueJob[], onPrepared?: (count: number) => void): Promise<PreparedIssue[]> {
  // A key on a PKCS#11 token lives in this thread's session and cannot be sent to a worker: it signs here.
  if (issuer.key.token || !worthWorkers(jobs.length, MIN_JOBS_FOR_WORKERS)) {
    const results: PreparedIssue[] = [];
    for (const job of jobs) {
      results.push(await prepareIssue(store, config, issuer, job.params, { replacing: job.replacing }));
      onPrepared?.(1);
    }
    return results;
  }
  return runInWorkers<IssueJob, PreparedIssue>(
    new URL('./issue-worker.js', import.meta.url),
    { dir: store.dir, config, issuer },
    chunked(jobs, CHUNK),
    (chunk) => ({ jobs: chunk }),
    onPrepared,
    ISSUE_WORKER_LIMITS,
  );
}

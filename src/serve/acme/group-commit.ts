/**
 * Group commit for finalize: a finalization waits a short window (GROUP_WINDOW_MS) for others to
 * join its commit; those that arrive while a commit runs share the next one (one lock, one issuer
 * load, one git commit), so throughput does not stop at one git commit per certificate. Each
 * certificate is signed as its request arrives, while the previous commit runs; under the lock the
 * commit checks that the CA is unchanged (else signs again) and writes.
 * A failed commit fails every request of its batch (nothing of it is written).
 */
import { AcmeProblem } from '../../ca/acme/types.js';
import { issueAcmeCertificates, loadAcmeSigner, presignAcmeRequest, type AcmeSigner, type CheckedAcmeRequest, type IssueAcmeResult } from '../../ca/acme/issue.js';
import type { CaStore } from '../../ca/ca-directory.js';
import type { AcmeView } from '../../ca/acme/view.js';

/** A commit of more than this many certificates is split: a huge message and change gain nothing. */
export const MAX_BATCH = 256;
/**
 * How long a lone finalization waits for others to join its commit: enough for those sent at the
 * same moment, little beside a commit (40 to 100 ms here). Those arriving during a commit join the next.
 */
export const GROUP_WINDOW_MS = 10;

interface Waiting {
  request: CheckedAcmeRequest;
  resolve: (result: IssueAcmeResult) => void;
  reject: (error: unknown) => void;
}

export class GroupCommitter {
  private queue: Waiting[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  /** The CA as the last commit found it, to sign with before the next commit (checked again under its lock), when there is no view to keep it. */
  private signer: Promise<AcmeSigner | undefined> | undefined;
  private loadSigner: (() => Promise<AcmeSigner>) | undefined;

  /** `view`: keeps the signer while the CA does not change (else it is loaded for each commit). */
  constructor(
    private readonly store: CaStore,
    private readonly view?: AcmeView,
  ) {}

  /** Issues the certificate in the next commit; resolves once that commit is made. */
  async issue(request: CheckedAcmeRequest): Promise<IssueAcmeResult> {
    this.loadSigner ??= () => loadAcmeSigner(this.store, request.params.askPassword, request.params.issuerKey);
    // Signed now, while the previous commit runs: the commit then only writes.
    const signer = this.view ? await this.view.signer(this.loadSigner).catch(() => undefined) : await (this.signer ??= this.loadSigner().catch(() => undefined));
    if (signer) await presignAcmeRequest(request, signer);
    if (this.closed) throw new AcmeProblem('serverInternal', 'the server is stopping; retry the finalization in a moment', 503);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.running ??= this.run();
    });
  }

  /** Takes no more requests, and resolves when every one handed in is committed (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  /** Resolves when every request handed in so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    while (this.queue.length) {
      // A short window before a commit that would hold a single certificate lets the finalizations
      // arriving meanwhile join it; those that queued up during the previous commit go at once.
      if (this.queue.length === 1) await new Promise((resolve) => setTimeout(resolve, GROUP_WINDOW_MS));
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const view = this.view;
        const load = this.loadSigner;
        const results = await issueAcmeCertificates(
          this.store,
          batch.map((waiting) => waiting.request),
          view && load ? () => view.signer(load, { underLock: true }) : undefined,
        );
        batch.forEach((waiting, index) => {
          const result = results[index]!;
          if (result instanceof AcmeProblem) waiting.reject(result);
          else waiting.resolve(result);
        });
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
      // The next batch signs with the CA as it is after this commit.
      this.signer = undefined;
    }
    this.running = undefined;
  }
}

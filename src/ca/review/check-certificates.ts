import type { CertificateView } from '../../pki/inspect.js';
import { compareKeyWithCertificate, type KeyComparison } from '../../pki/keys.js';
import { inspectCertificateTextQuickly, issuerKeyOf, verifyCertificateNatively } from '../../pki/quick-check.js';
import type { CaStore } from '../../store/ca-store.js';
import { certPath, keyPath } from '../../store/layout.js';
import { ChunkQueue, WorkerPool, chunked, threadsBesideMain, worthWorkers } from '../worker-pool.js';

/**
 * A decoded certificate as check keeps it: without its DER bytes, which as a typed array sent from a
 * worker thread cost ~3.4 KiB of heap each, half of a view; check compares certificates by their PEM.
 */
export type CheckedView = Omit<CertificateView, 'der'>;

/**
 * A certificate file decoded, with how private/NAME.key compares with it (none: no key file), and
 * whether its signature verifies with the CA it names by key identifier (see IssuerHint), or why
 * it could not be decoded.
 */
export type Inspected = { view: CheckedView; key?: KeyComparison; signature?: CheckedSignature } | { error: string };

/** A signature verified in the pass that decodes: with which of the hinted issuers (-1: the certificate itself), and the verdict. */
export interface CheckedSignature {
  issuer: number;
  valid: boolean;
}

/** A CA a certificate may name as its issuer, by the key identifier its authorityKeyId must equal. */
export interface IssuerHint {
  pem: string;
  subjectKeyId?: string;
}

/** A certificate and the certificate of the issuer its signature must verify with. */
export type SignaturePair = [pem: string, issuerPem: string];

/** Pairs as sent to a worker: each issuer's PEM once (a chunk shares a few issuers), then each certificate with its issuer's index. */
interface VerifyBatch {
  issuers: string[];
  pairs: [pem: string, issuer: number][];
}

export type CheckTask = { kind: 'inspect'; names: string[]; issuers?: IssuerHint[] } | { kind: 'verify'; batch: VerifyBatch };

/**
 * Reads and decodes certs/NAME.crt for each name, and compares private/NAME.key with it in the same
 * pass (synchronous reads: much faster for thousands of small files). A file as certified writes it
 * is decoded without the X.509 library (quick-check.ts); any other is left to the library.
 */
export async function inspectCertificates(store: CaStore, names: string[], issuers: IssuerHint[] = []): Promise<Inspected[]> {
  const results: Inspected[] = [];
  for (const name of names) {
    let view: CheckedView;
    let decoded: Uint8Array;
    try {
      const text = store.readTexts([certPath(name)])[0] ?? '';
      const { der, ...rest } = inspectCertificateTextQuickly(text) ?? (await import('../../pki/inspect.js')).inspectCertificate(text);
      view = rest;
      decoded = der;
    } catch (error) {
      results.push({ error: (error as Error).message });
      continue;
    }
    const signature = issuers.length ? await signatureOf(view, decoded, issuers) : undefined;
    const signed = signature ? { signature } : {};
    let pem: string | undefined;
    try {
      [pem] = store.readTexts([keyPath(name)]);
    } catch (error) {
      results.push({ view, key: { result: 'unreadable', error: `cannot be read: ${(error as Error).message}` }, ...signed });
      continue;
    }
    results.push(pem === undefined ? { view, ...signed } : { view, key: compareKeyWithCertificate(pem, view), ...signed });
  }
  return results;
}

/** The signature verified with the issuer check would most likely pick: itself when self-signed, else the first CA of its authority key identifier. */
async function signatureOf(view: CheckedView, der: Uint8Array, issuers: IssuerHint[]): Promise<CheckedSignature | undefined> {
  const issuer = view.selfSigned ? -1 : issuers.findIndex((hint) => hint.subjectKeyId !== undefined && hint.subjectKeyId === view.authorityKeyId);
  if (issuer === -1 && !view.selfSigned) return undefined;
  const issuerPem = issuer === -1 ? view.pem : issuers[issuer]!.pem;
  // The DER just decoded (the view's PEM is its canonical encoding), judged by OpenSSL as in verifySignatures.
  const key = issuerKeyOf(issuerPem);
  const valid = key ? verifyCertificateNatively(der, key) : (await verifySignatures([[view.pem, issuerPem]]))[0]!;
  return { issuer, valid };
}

export async function verifySignatures(pairs: SignaturePair[]): Promise<boolean[]> {
  const results: boolean[] = [];
  for (const [pem, issuerPem] of pairs) {
    const key = issuerKeyOf(issuerPem);
    results.push(key ? verifyCertificateNatively(pem, key) : await (await import('../../pki/certificate.js')).verifyCertificateSignature(pem, issuerPem));
  }
  return results;
}

function toBatch(pairs: SignaturePair[]): VerifyBatch {
  const issuers: string[] = [];
  const index = new Map<string, number>();
  return {
    issuers,
    pairs: pairs.map(([pem, issuerPem]) => {
      let at = index.get(issuerPem);
      if (at === undefined) index.set(issuerPem, (at = issuers.push(issuerPem) - 1));
      return [pem, at];
    }),
  };
}

export function fromBatch(batch: VerifyBatch): SignaturePair[] {
  return batch.pairs.map(([pem, at]) => [pem, batch.issuers[at]!]);
}

/**
 * Decoding and verifying cost ~3 ms per certificate (a P-384 signature alone ~1 ms), so a large CA
 * is checked on every core; a small one in this thread, where starting workers would cost more.
 */
const MIN_CERTIFICATES_FOR_WORKERS = 200;
/** ~75 ms of work: a thread holds two in inspectEach, which this thread may wait for at the end. */
const CHUNK = 50;
/** What this thread decodes and verifies between two looks at the worker threads' replies (~30 ms). */
const SLICE = 20;
/**
 * Decoding makes much short-lived garbage: V8's default young generation (tens of MiB per thread)
 * only made each thread's heap larger, not the check faster (2 MiB: ~20 MiB less at 10,000).
 */
const CHECK_WORKER_LIMITS = { maxYoungGenerationSizeMb: 2 };

/** Runs the two rounds of a check, in worker threads (and this one) when the CA is large. */
export class CertificateChecker {
  private constructor(
    private readonly store: CaStore,
    private readonly pool: WorkerPool | undefined,
  ) {}

  static async start(store: CaStore, certificates: number): Promise<CertificateChecker> {
    const pool = worthWorkers(certificates, MIN_CERTIFICATES_FOR_WORKERS)
      ? await WorkerPool.start(new URL('./check-worker.js', import.meta.url), { dir: store.dir }, Math.min(threadsBesideMain(), Math.ceil(certificates / CHUNK)), CHECK_WORKER_LIMITS)
      : undefined;
    return new CertificateChecker(store, pool);
  }

  /** `onChunk` hears of each chunk of names done, with its size (in this thread too). */
  async inspect(names: string[], onChunk?: (size: number) => void): Promise<Inspected[]> {
    const chunks = chunked(names, CHUNK);
    if (!this.pool) return inThisThread(chunks, (chunk) => inspectCertificates(this.store, chunk), onChunk);
    return this.pool.map<string, Inspected>(chunks, (chunk): { task: CheckTask } => ({ task: { kind: 'inspect', names: chunk } }), onChunk);
  }

  /**
   * Decodes each name's certificate, and verifies its signature with one of `issuers` (see
   * signatureOf); `onResults` gets each chunk's results with their names as they come back, in
   * any order, to use and let go: at 10,000 certificates, keeping every view cost ~30 MiB.
   */
  async inspectEach(names: string[], issuers: IssuerHint[], onResults: (names: string[], results: Inspected[]) => void): Promise<void> {
    const chunks = chunked(names, CHUNK);
    if (!this.pool) {
      for (const chunk of chunks) onResults(chunk, await inspectCertificates(this.store, chunk, issuers));
      return;
    }
    // This thread takes chunks too, between the results it checks: a thread more would cost ~40 MiB.
    const queue = new ChunkQueue(chunks);
    let failed = false;
    // A chunk ahead: the threads go on while this one, busy with its own slice, reads their results.
    const inThreads = this.pool.each<string, Inspected>(queue, (chunk): { task: CheckTask } => ({ task: { kind: 'inspect', names: chunk, issuers } }), (results, index) => onResults(chunks[index]!, results), { chunksAhead: 1 });
    inThreads.catch(() => (failed = true));
    const here = async () => {
      for (let index = queue.take(); index !== undefined && !failed; index = queue.take()) {
        const chunk = chunks[index]!;
        const results: Inspected[] = [];
        // In slices, letting the event loop hand the threads their next chunks in between.
        for (let at = 0; at < chunk.length; at += SLICE) {
          results.push(...(await inspectCertificates(this.store, chunk.slice(at, at + SLICE), issuers)));
          await new Promise((resolve) => setImmediate(resolve));
        }
        onResults(chunk, results);
      }
    };
    await Promise.all([inThreads, here()]);
  }

  async verify(pairs: SignaturePair[], onChunk?: (size: number) => void): Promise<boolean[]> {
    const chunks = chunked(pairs, CHUNK);
    if (!this.pool) return inThisThread(chunks, verifySignatures, onChunk);
    return this.pool.map<SignaturePair, boolean>(chunks, (chunk): { task: CheckTask } => ({ task: { kind: 'verify', batch: toBatch(chunk) } }), onChunk);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

async function inThisThread<T, R>(chunks: T[][], work: (chunk: T[]) => R[] | Promise<R[]>, onChunk?: (size: number) => void): Promise<R[]> {
  const results: R[] = [];
  for (const chunk of chunks) {
    results.push(...(await work(chunk)));
    onChunk?.(chunk.length);
  }
  return results;
}

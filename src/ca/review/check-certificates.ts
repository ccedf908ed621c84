import { verifyCertificateSignature } from '../../pki/certificate.js';
import { inspectCertificate, type CertificateView } from '../../pki/inspect.js';
import { compareKeyWithCertificate, type KeyComparison } from '../../pki/keys.js';
import type { CaStore } from '../../store/ca-store.js';
import { certPath, keyPath } from '../../store/layout.js';
import { WorkerPool, chunked, worthWorkers } from '../worker-pool.js';

/**
 * A decoded certificate as check keeps it: without its DER bytes, which as a typed array sent from a
 * worker thread cost ~3.4 KiB of heap each, half of a view; check compares certificates by their PEM.
 */
export type CheckedView = Omit<CertificateView, 'der'>;

/** A certificate file decoded, with how private/NAME.key compares with it (none: no key file), or why it could not be. */
export type Inspected = { view: CheckedView; key?: KeyComparison } | { error: string };

/** A certificate and the certificate of the issuer its signature must verify with. */
export type SignaturePair = [pem: string, issuerPem: string];

export type CheckTask = { kind: 'inspect'; names: string[] } | { kind: 'verify'; pairs: SignaturePair[] };

/**
 * Reads and decodes certs/NAME.crt for each name, and compares private/NAME.key with it in the same
 * pass (synchronous reads: much faster for thousands of small files).
 */
export function inspectCertificates(store: CaStore, names: string[]): Inspected[] {
  return names.map((name) => {
    let view: CheckedView;
    try {
      const { der: _der, ...rest } = inspectCertificate(store.readTexts([certPath(name)])[0] ?? '');
      view = rest;
    } catch (error) {
      return { error: (error as Error).message };
    }
    let pem: string | undefined;
    try {
      [pem] = store.readTexts([keyPath(name)]);
    } catch (error) {
      return { view, key: { result: 'unreadable', error: `cannot be read: ${(error as Error).message}` } };
    }
    return pem === undefined ? { view } : { view, key: compareKeyWithCertificate(pem, view) };
  });
}

export async function verifySignatures(pairs: SignaturePair[]): Promise<boolean[]> {
  const results: boolean[] = [];
  for (const [pem, issuerPem] of pairs) results.push(await verifyCertificateSignature(pem, issuerPem));
  return results;
}

/**
 * Decoding and verifying cost ~3 ms per certificate (a P-384 signature alone ~1 ms), so a large CA
 * is checked on every core; a small one in this thread, where starting workers would cost more.
 */
const MIN_CERTIFICATES_FOR_WORKERS = 200;
const CHUNK = 100;
/**
 * Decoding makes much short-lived garbage: V8's default young generation (tens of MiB per thread)
 * only made each thread's heap larger, not the check faster.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

/** Runs the two rounds of a check, in worker threads when the CA is large. */
export class CertificateChecker {
  private constructor(
    private readonly store: CaStore,
    private readonly pool: WorkerPool | undefined,
  ) {}

  static async start(store: CaStore, certificates: number): Promise<CertificateChecker> {
    const pool = worthWorkers(certificates, MIN_CERTIFICATES_FOR_WORKERS)
      ? await WorkerPool.start(new URL('./check-worker.js', import.meta.url), { dir: store.dir }, Math.ceil(certificates / CHUNK), WORKER_LIMITS)
      : undefined;
    return new CertificateChecker(store, pool);
  }

  /** `onChunk` hears of each chunk of names done, with its size (in this thread too). */
  async inspect(names: string[], onChunk?: (size: number) => void): Promise<Inspected[]> {
    const chunks = chunked(names, CHUNK);
    if (!this.pool) return inThisThread(chunks, (chunk) => inspectCertificates(this.store, chunk), onChunk);
    return this.pool.map<string, Inspected>(chunks, (chunk): { task: CheckTask } => ({ task: { kind: 'inspect', names: chunk } }), onChunk);
  }

  async verify(pairs: SignaturePair[], onChunk?: (size: number) => void): Promise<boolean[]> {
    const chunks = chunked(pairs, CHUNK);
    if (!this.pool) return inThisThread(chunks, verifySignatures, onChunk);
    return this.pool.map<SignaturePair, boolean>(chunks, (chunk): { task: CheckTask } => ({ task: { kind: 'verify', pairs: chunk } }), onChunk);
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

/** HTTP plumbing of the ACME server: bounded bodies, JSON and problem documents, nonces. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AcmeProblem } from '../../ca/acme/types.js';

/** RFC 8555 requests are small; anything above this is refused unread. */
export const MAX_BODY = 64 * 1024;

export class BodyTooLargeError extends Error {}
/** The client went away before its body was read: nothing to answer, and not the server's fault. */
export class BodyAbortedError extends Error {}

/** The request body, refused past MAX_BODY (by Content-Length at once, else as it streams). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) {
      req.resume();
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new BodyAbortedError()));
  });
}

/**
 * Nonces that need no table of their own: each carries the time it was made and an HMAC under a
 * key of this server process, so a flood of them forgets none. One is accepted once, within
 * `windowMs` of being made; the used ones are remembered only for that window.
 */
export class NonceStore {
  private readonly key = randomBytes(32);
  /** Used nonces -> when they expire anyway. */
  private readonly used = new Map<string, number>();
  private nextSweep = 0;
  constructor(
    private readonly windowMs = 600_000,
    private readonly now: () => number = Date.now,
  ) {}

  next(): string {
    const body = Buffer.alloc(14);
    body.writeUIntBE(this.now(), 0, 6);
    randomBytes(8).copy(body, 6);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /** True once per nonce this server made, within its window. */
  consume(nonce: unknown): boolean {
    if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{40}$/.test(nonce)) return false;
    const bytes = Buffer.from(nonce, 'base64url');
    const body = bytes.subarray(0, 14);
    if (bytes.length !== 30 || !timingSafeEqual(bytes.subarray(14), this.mac(body))) return false;
    const now = this.now();
    const expires = body.readUIntBE(0, 6) + this.windowMs;
    if (expires <= now || this.used.has(nonce)) return false;
    this.used.set(nonce, expires);
    if (now >= this.nextSweep) {
      for (const [used, until] of this.used) if (until <= now) this.used.delete(used);
      this.nextSweep = now + Math.min(this.windowMs, 10_000);
    }
    return true;
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, 16);
  }
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is (a PEM chain) instead of JSON. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  links?: string[];
}

export function problemBody(problem: AcmeProblem): Record<string, unknown> {
  return {
    type: `urn:ietf:params:acme:error:${problem.type}`,
    detail: problem.message,
    status: problem.status,
    ...(problem.subproblems ? { subproblems: problem.subproblems.map((sub) => ({ ...sub, type: `urn:ietf:params:acme:error:${sub.type}` })) } : {}),
  };
}

export function send(res: ServerResponse, method: string, reply: Reply, extraHeaders: Record<string, string>): void {
  if (res.headersSent) return;
  const isProblem = reply.body !== undefined && typeof reply.body === 'object' && reply.body !== null && 'type' in reply.body && String((reply.body as { type: unknown }).type).startsWith('urn:ietf:params:acme:error:');
  const payload = reply.text ?? (reply.body === undefined ? '' : `${JSON.stringify(reply.body, null, 2)}\n`);
  const headers: Record<string, string | string[]> = {
    ...extraHeaders,
    ...(reply.headers ?? {}),
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(payload)),
  };
  if (payload) headers['Content-Type'] = reply.contentType ?? (isProblem ? 'application/problem+json' : 'application/json');
  if (reply.links?.length) headers.Link = reply.links;
  res.writeHead(reply.status, headers);
  res.end(method === 'HEAD' ? undefined : payload);
}

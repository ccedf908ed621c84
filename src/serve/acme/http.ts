/** HTTP plumbing of the ACME server: bounded bodies, JSON and problem documents, nonces. */
import { randomBytes } from 'node:crypto';
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

/** Nonces the server handed out and not yet used: a bounded set, the oldest forgotten first. */
export class NonceStore {
  private readonly issued = new Set<string>();
  constructor(private readonly limit = 10_000) {}

  next(): string {
    const nonce = randomBytes(16).toString('base64url');
    this.issued.add(nonce);
    if (this.issued.size > this.limit) {
      const oldest = this.issued.values().next().value;
      if (oldest !== undefined) this.issued.delete(oldest);
    }
    return nonce;
  }

  /** True once per nonce handed out. */
  consume(nonce: unknown): boolean {
    return typeof nonce === 'string' && this.issued.delete(nonce);
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

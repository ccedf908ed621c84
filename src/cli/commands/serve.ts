import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { InvalidInputError } from '../../ca/errors.js';
import { openRevocationService, type RevocationService } from '../../ca/revocation/revocation-service.js';
import { ROOT_NAME } from '../../ca/layout.js';
import { openStore, warnPendingChange } from '../context.js';
import { note, status, warning } from '../output.js';
import { askPasswordFrom } from '../passwords.js';

export interface ServeOptions {
  db?: string;
  lockTimeout?: string;
  listen: string;
  caPassword?: string;
  rootPassword?: string;
}

/** Bodies larger than this are refused: an OCSP request is a few hundred bytes. */
const MAX_BODY = 64 * 1024;

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3] ?? -1);
  if (!match || port > 65535 || (match[1] !== undefined && isIP(host) !== 6)) {
    throw new InvalidInputError(`--listen must be host:port, got "${value.slice(0, 60)}"`, 'Write it like --listen 127.0.0.1:8080 or --listen [::1]:8080.');
  }
  return { host, port };
}

export async function runServe(_args: string[], options: ServeOptions): Promise<void> {
  const { host, port } = parseListen(options.listen);
  const store = openStore(options);
  await warnPendingChange(store);
  // The root key usually stays offline: serve opens it only when it is not encrypted or its
  // password is given (flag or environment, never a prompt); then OCSP answers for the CAs it issued.
  const askCa = askPasswordFrom({ caPassword: options.caPassword }, { roles: ['ca'] });
  const askRoot = askPasswordFrom({ rootPassword: options.rootPassword }, { roles: ['root'], prompt: false });
  const service = await openRevocationService(store, { askPassword: (request) => (request.role === 'root' ? askRoot(request) : askCa(request)) });
  for (const { name, reason } of service.skipped) {
    if (name === ROOT_NAME) await note('the root key stays offline, so OCSP answers "unauthorized" for the intermediate itself (its status is in the root CRL); give --root-password to answer for it.');
    else await warning(`no OCSP answers for certificates issued by "${name}": ${reason}.`);
  }

  const { createServer } = await import('node:http');
  const server = createServer((req, res) => void respond(service, req, res));
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new InvalidInputError(`cannot listen on ${options.listen}: ${error.code ?? error.message}`, 'Choose another address or port with --listen.')),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const base = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  status(`Serving CRLs at ${base}/crl/<issuer>.crl and OCSP for ${service.issuers.map((name) => `"${name}"`).join(', ')} at ${base}${service.ocspPath}.`);
  status('Stop with Ctrl-C or SIGTERM.');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      status(`Received ${signal}: finishing open requests, then stopping.`);
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 5_000).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  status('Stopped.');
}

async function respond(service: RevocationService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  try {
    const body = await readBody(req);
    if (body === undefined) return send(res, method, url, 413, 'text/plain; charset=utf-8', 'Request too large.\n', 'request too large');
    const answer = await service.handle({ method, url, body });
    const headers: Record<string, string> = {};
    if (answer.cacheSeconds) headers['Cache-Control'] = `max-age=${answer.cacheSeconds}, public, no-transform, must-revalidate`;
    send(res, method, url, answer.status, answer.contentType, answer.body, answer.summary, headers);
  } catch (error) {
    send(res, method, url, 500, 'text/plain; charset=utf-8', 'Internal error.\n', `internal error: ${(error as Error).message}`);
  }
}

function send(
  res: ServerResponse,
  method: string,
  url: string,
  code: number,
  contentType: string,
  body: Uint8Array | string,
  summary: string,
  headers: Record<string, string> = {},
): void {
  if (!res.headersSent) {
    res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)), ...headers });
    // HEAD: the headers GET would get (its Content-Length included), no body.
    res.end(method === 'HEAD' ? undefined : body);
  }
  const shownUrl = url.length > 80 ? `${url.slice(0, 77)}...` : url;
  status(`${method.slice(0, 10)} ${shownUrl.replace(/[^\x21-\x7e]/g, '?')} ${code} ${summary}`);
}

/** The request body, or undefined when it is larger than MAX_BODY. */
function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/**
 * The ACME server (RFC 8555) on node:https: the router, the directory and nonces, bounded bodies
 * and timeouts, problem documents, and the server's own certificate renewed before it expires.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { INTERMEDIATE_NAME } from '../../ca/layout.js';
import { loadIssuer } from '../../ca/load-issuer.js';
import { acmeServerCertificate } from '../../ca/acme/policy.js';
import { AcmeView } from '../../ca/acme/view.js';
import { AcmeProblem, type ValidationTargets } from '../../ca/acme/types.js';
import type { CaStore } from '../../ca/ca-directory.js';
import type { AskPassword } from '../../ca/passwords.js';
import { accountKeys, accountResource, keyChange, newAccount } from './accounts.js';
import { certificateResource, renewalInfo, revokeCert } from './certificates.js';
import { url, type AcmeContext, type Handler } from './context.js';
import { GroupCommitter } from './group-commit.js';
import { BodyAbortedError, BodyTooLargeError, NonceStore, problemBody, readBody, send, type Reply } from './http.js';
import { DEFAULT_LIMITS, PerMinute, RateLimited, ValidationSlots, type AcmeLimits } from './limits.js';
import { authzResource, challengeResource, finalize, newOrder, orderResource, ordersList } from './orders.js';

export interface StartAcmeServerParams {
  store: CaStore;
  host: string;
  port: number;
  /** The name clients use (in the URLs and the server's certificate). */
  name: string;
  targets: ValidationTargets;
  askPassword: AskPassword;
  commandLine: string;
  log: (line: string) => void;
  /** DEFAULT_LIMITS, with these changed (tests use small ones). */
  limits?: Partial<AcmeLimits>;
}

export interface AcmeServer {
  directoryUrl: string;
  /** Stops accepting, finishes open requests and validations. */
  close(): Promise<void>;
}

const CHECK_CERTIFICATE_MS = 3_600_000;

const POST_ROUTES: [RegExp, Handler][] = [
  [/^\/acme\/new-account$/, (ctx, body, requestUrl, _id, client) => newAccount(ctx, body, requestUrl, client)],
  [/^\/acme\/new-order$/, (ctx, body, requestUrl) => newOrder(ctx, body, requestUrl)],
  [/^\/acme\/key-change$/, (ctx, body, requestUrl) => keyChange(ctx, body, requestUrl)],
  [/^\/acme\/revoke-cert$/, (ctx, body, requestUrl) => revokeCert(ctx, body, requestUrl)],
  [/^\/acme\/acct\/([A-Za-z0-9_-]{1,64})$/, accountResource],
  [/^\/acme\/acct\/([A-Za-z0-9_-]{1,64})\/orders$/, ordersList],
  [/^\/acme\/order\/([A-Za-z0-9_-]{1,64})$/, orderResource],
  [/^\/acme\/order\/([A-Za-z0-9_-]{1,64})\/finalize$/, finalize],
  [/^\/acme\/authz\/([A-Za-z0-9_-]{1,64})$/, authzResource],
  [/^\/acme\/chall\/([A-Za-z0-9_-]{1,64})$/, challengeResource],
  [/^\/acme\/cert\/([0-9a-f]{1,40})$/, certificateResource],
];

export async function startAcmeServer(params: StartAcmeServerParams): Promise<AcmeServer> {
  // Every commit starts four git processes: each fork of this large process would cost it ~10 ms.
  params.store.startProgramsFromHelper();
  const view = new AcmeView(params.store);
  const policy = await view.policy();
  const keys = await accountKeys(params.store);
  const limits: AcmeLimits = { ...DEFAULT_LIMITS, ...params.limits };
  // The intermediate's key is opened once, here, and kept: no request decrypts it again.
  const issuer = await loadIssuer(params.store, INTERMEDIATE_NAME, params.askPassword);
  let certificate = await acmeServerCertificate(params.store, { name: params.name, askPassword: params.askPassword, now: new Date(), commandLine: params.commandLine });
  const hostPart = params.name.includes(':') ? `[${params.name}]` : params.name;
  const ctx: AcmeContext = {
    store: params.store,
    policy,
    targets: params.targets,
    askPassword: params.askPassword,
    commandLine: params.commandLine,
    base: '',
    nonces: new NonceStore(),
    keys,
    orders: new Map(),
    authorizations: new Map(),
    challenges: new Map(),
    pending: new Set(),
    committer: new GroupCommitter(params.store, view),
    log: params.log,
    limits,
    validations: new ValidationSlots(limits.validations, limits.validationsPerAccount),
    newAccounts: new PerMinute(limits.newAccountsPerMinute),
    issuerKey: issuer.key,
    view,
  };
  const { createServer } = await import('node:https');
  let stopping = false;
  const answering = new Set<ServerResponse>();
  const server = createServer({ cert: certificate.chainPem, key: certificate.keyPem, minVersion: 'TLSv1.2', handshakeTimeout: limits.handshakeTimeoutMs }, (req, res) => {
    // The idle timeout is for connections that say nothing; a request being answered (a finalize
    // waiting for the CA lock) keeps its connection, and keepAliveTimeout takes over after it.
    req.socket.setTimeout(0);
    // Stopping: each connection ends with the answer it is waiting for, so the stop waits for no keep-alive.
    if (stopping) res.setHeader('Connection', 'close');
    answering.add(res);
    res.once('close', () => answering.delete(res));
    // A request must never take the server down: whatever escapes the handler closes only its socket.
    respond(ctx, req, res).catch(() => res.destroy());
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  // A connection that says nothing (before or after its handshake, or between requests) is closed.
  server.timeout = limits.idleTimeoutMs;
  // Node accepts every connection and closes those past the limits at once: one client address
  // cannot take all the connections, and the total stays below the file descriptors.
  server.maxConnections = limits.connections;
  limitConnectionsPerAddress(server, limits.connectionsPerAddress);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(params.port, params.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  ctx.base = `https://${hostPart}:${port}`;
  const renew = setInterval(() => {
    void (async () => {
      const now = new Date();
      const lifetime = certificate.notAfter.getTime() - certificate.notBefore.getTime();
      if (certificate.notAfter.getTime() - now.getTime() > lifetime / 3) return;
      certificate = await acmeServerCertificate(params.store, { name: params.name, askPassword: params.askPassword, now, commandLine: params.commandLine });
      server.setSecureContext({ cert: certificate.chainPem, key: certificate.keyPem });
      params.log(`ACME server certificate renewed, valid until ${certificate.notAfter.toISOString()}`);
    })().catch((error: unknown) => params.log(`ACME server certificate renewal failed: ${(error as Error).message}`));
  }, CHECK_CERTIFICATE_MS);
  renew.unref();
  return {
    directoryUrl: url(ctx, 'directory'),
    close: async () => {
      stopping = true;
      for (const res of answering) if (!res.headersSent) res.setHeader('Connection', 'close');
      clearInterval(renew);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await Promise.allSettled([...ctx.pending]);
      // Open finalizations waited for their commit above; a connection cut after 5 s may have left
      // one queued: its commit is made before the process ends, and nothing new is taken.
      await ctx.committer.close();
    },
  };
}

function directory(ctx: AcmeContext): Record<string, unknown> {
  return {
    newNonce: url(ctx, 'new-nonce'),
    newAccount: url(ctx, 'new-account'),
    newOrder: url(ctx, 'new-order'),
    revokeCert: url(ctx, 'revoke-cert'),
    keyChange: url(ctx, 'key-change'),
    renewalInfo: url(ctx, 'renewal-info'),
    meta: { externalAccountRequired: ctx.policy.eab },
  };
}

/** Closes a new connection from an address that already has `limit` open. */
function limitConnectionsPerAddress(server: NetServer, limit: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = open.get(address) ?? 0;
    if (count >= limit) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

async function route(ctx: AcmeContext, method: string, path: string, body: Buffer, contentType: string, client: string): Promise<Reply> {
  // The directory advertises the policy as committed now (externalAccountRequired); the last good one if it cannot be read.
  const readOnly = method === 'GET' || method === 'HEAD';
  const ari = /^\/acme\/renewal-info\/([A-Za-z0-9_.%-]{1,300})$/.exec(path);
  if (path === '/acme/directory' || path === '/acme/new-nonce' || ari) {
    if (!readOnly) return { status: 405, body: problemBody(new AcmeProblem('malformed', `${path.slice(0, 80)} takes GET (or HEAD)`, 405)), headers: { Allow: 'GET, HEAD' } };
    if (path === '/acme/directory') return { status: 200, body: directory({ ...ctx, policy: await ctx.view.policy().catch(() => ctx.policy) }) };
    if (path === '/acme/new-nonce') return { status: method === 'HEAD' ? 200 : 204 };
    return renewalInfo(ctx, ari![1]!);
  }
  for (const [pattern, handler] of POST_ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    if (method !== 'POST') return { status: 405, body: problemBody(new AcmeProblem('malformed', `${path} takes POST (POST-as-GET to read)`, 405)), headers: { Allow: 'POST' } };
    if (contentType.split(';')[0]?.trim().toLowerCase() !== 'application/jose+json') throw new AcmeProblem('malformed', 'the Content-Type must be application/jose+json', 415);
    return handler(ctx, body, `${ctx.base}${path}`, match[1] ?? '', client);
  }
  throw new AcmeProblem('malformed', 'no such ACME resource', 404);
}

async function respond(ctx: AcmeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').slice(0, 10);
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const headers = { 'Replay-Nonce': ctx.nonces.next(), Link: `<${url(ctx, 'directory')}>;rel="index"` };
  let reply: Reply;
  try {
    const body = await readBody(req);
    reply = await route(ctx, method, path, body, String(req.headers['content-type'] ?? ''), req.socket.remoteAddress ?? '');
  } catch (error) {
    if (error instanceof BodyAbortedError) {
      res.destroy();
      return;
    }
    const problem =
      error instanceof AcmeProblem
        ? error
        : error instanceof BodyTooLargeError
          ? new AcmeProblem('malformed', 'the request body is larger than 64 KiB', 413)
          : new AcmeProblem('serverInternal', 'the server failed to answer; see its log', 500);
    if (!(error instanceof AcmeProblem) && !(error instanceof BodyTooLargeError)) ctx.log(`internal error on ${method} ${path.slice(0, 80)}: ${(error as Error).message}`);
    reply = { status: problem.status, body: problemBody(problem), ...(problem instanceof RateLimited ? { headers: { 'Retry-After': String(problem.retryAfterSeconds) } } : {}) };
  }
  const links = [headers.Link, ...(reply.links ?? [])];
  send(res, method, { ...reply, links }, { 'Replay-Nonce': headers['Replay-Nonce'] });
  const shown = path.length > 80 ? `${path.slice(0, 77)}...` : path;
  ctx.log(`${method} ${shown.replace(/[^\x21-\x7e]/g, '?')} ${reply.status}${reply.status >= 400 && isProblemBody(reply.body) ? ` ${reply.body.type.slice(27)}` : ''}`);
}

function isProblemBody(body: unknown): body is { type: string } {
  return typeof body === 'object' && body !== null && typeof (body as { type?: unknown }).type === 'string';
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { InvalidInputError, UsageError } from '../../ca/errors.js';
import { openRevocationService, type RevocationService } from '../../ca/revocation/revocation-service.js';
import { INTERMEDIATE_NAME, ROOT_NAME } from '../../ca/layout.js';
import { loadIssuer } from '../../ca/load-issuer.js';
import type { AskPassword } from '../../ca/passwords.js';
import type { ValidationTargets } from '../../ca/acme/types.js';
import { openStore, warnPendingChange } from '../context.js';
import { redactedCommandLine } from '../command-line.js';
import { note, printJson, status, warning } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { BodyAbortedError, BodyTooLargeError, readBody } from '../../serve/acme/http.js';

export interface ServeOptions {
  db?: string;
  lockTimeout?: string;
  listen?: string;
  acmeListen?: string;
  acmeName?: string;
  acmeHttpPort?: string;
  acmeTlsPort?: string;
  acmeDns?: string;
  acmeResolve?: string[];
  caPassword?: string;
  pin?: string;
  rootPin?: string;
  rootPassword?: string;
  json?: boolean;
}

const DEFAULT_LISTEN = '127.0.0.1:8080';
const VALIDATION_TIMEOUT_MS = 10_000;

export function parseListen(value: string, flag = '--listen'): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3] ?? -1);
  if (!match || port > 65535 || (match[1] !== undefined && isIP(host) !== 6)) {
    throw new InvalidInputError(`${flag} must be host:port, got "${value.slice(0, 60)}"`, `Write it like ${flag} 127.0.0.1:8080 or ${flag} [::1]:8080.`);
  }
  return { host, port };
}

function parsePort(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new UsageError(`${flag} must be a port number from 1 to 65535, got "${value.slice(0, 20)}"`, `Write it like ${flag} 8080.`);
  }
  return Number(value);
}

/** The first answer for each key is kept: the server signs for hours and never prompts again. */
function rememberPasswords(ask: AskPassword): AskPassword {
  const answers = new Map<string, Promise<string | undefined>>();
  return (request) => {
    const key = `${request.role}:${request.name}`;
    let answer = answers.get(key);
    if (!answer) answers.set(key, (answer = ask(request)));
    return answer;
  };
}

export async function runServe(_args: string[], options: ServeOptions, argv: string[] = []): Promise<void> {
  const listen = options.listen ?? (options.acmeListen === undefined ? DEFAULT_LISTEN : undefined);
  const plain = listen === undefined ? undefined : parseListen(listen);
  const acme = options.acmeListen === undefined ? undefined : await acmeSettings(options);
  const store = openStore(options);
  await warnPendingChange(store);
  // The root key usually stays offline: serve opens it only when it is not encrypted or its
  // password is given (flag or environment, never a prompt); then OCSP answers for the CAs it issued.
  const askCa = rememberPasswords(askPasswordFrom({ caPassword: options.caPassword, pin: options.pin }, { roles: ['ca', 'pin'] }));
  const askRoot = askPasswordFrom({ rootPassword: options.rootPassword, rootPin: options.rootPin }, { roles: ['root', 'root-pin'], prompt: false });
  const stops: (() => Promise<void>)[] = [];
  const served: ServedDocument = { action: 'serve', crl: null, ocsp: null, ocspIssuers: [], acmeDirectory: null, warnings: [] };

  if (plain && listen !== undefined) {
    const revocation = await startRevocationServer(store, plain, listen, askCa, askRoot);
    Object.assign(served, { crl: `${revocation.base}/crl/`, ocsp: `${revocation.base}${revocation.ocspPath}`, ocspIssuers: revocation.issuers });
    served.warnings.push(...revocation.warnings);
    stops.push(revocation.close);
  }
  if (acme) {
    // Ask for the intermediate's password now, not at the first finalize.
    await loadIssuer(store, INTERMEDIATE_NAME, askCa, 'leaf');
    const { startAcmeServer } = await import('../../serve/acme/server.js');
    let server;
    try {
      server = await startAcmeServer({ store, ...acme, askPassword: askCa, commandLine: redactedCommandLine(argv.length ? argv : ['serve']), log: (line) => status(line) });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new InvalidInputError(`cannot listen on ${options.acmeListen ?? ''}: ${code}`, 'Choose another address or port with --acme-listen.');
      }
      throw error;
    }
    status(`Serving ACME at ${server.directoryUrl}.`);
    served.acmeDirectory = server.directoryUrl;
    stops.push(() => server.close());
  }
  // Once everything listens: one line a script can wait for, and nothing else on stdout (docs/json.md).
  if (options.json) printJson(served, { compact: true });
  status('Stop with Ctrl-C or SIGTERM.');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      status(`Received ${signal}: finishing open requests, then stopping.`);
      void Promise.all(stops.map((close) => close())).then(() => resolve());
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  status('Stopped.');
}

async function acmeSettings(options: ServeOptions): Promise<{ host: string; port: number; name: string; targets: ValidationTargets }> {
  const { host, port } = parseListen(options.acmeListen ?? '', '--acme-listen');
  const { parseResolveRule } = await import('../../serve/acme/validate.js');
  const dns = options.acmeDns === undefined ? undefined : parseListen(options.acmeDns, '--acme-dns');
  const targets: ValidationTargets = {
    httpPort: parsePort(options.acmeHttpPort, '--acme-http-port', 80),
    tlsPort: parsePort(options.acmeTlsPort, '--acme-tls-port', 443),
    ...(dns ? { dnsServer: dns } : {}),
    resolve: (options.acmeResolve ?? []).map((rule) => parseResolveRule(rule)),
    timeoutMs: VALIDATION_TIMEOUT_MS,
  };
  const name = options.acmeName ?? (host === '0.0.0.0' || host === '::' ? '' : host);
  if (!name) throw new UsageError(`--acme-listen ${options.acmeListen ?? ''} listens on every address, so clients need a name to connect to`, 'Give it with --acme-name ca.example.com.');
  return { host, port, name, targets };
}

/** What `serve --json` prints once it listens: the URLs it serves (null when not served). */
interface ServedDocument {
  action: 'serve';
  crl: string | null;
  ocsp: string | null;
  ocspIssuers: string[];
  acmeDirectory: string | null;
  warnings: string[];
}

interface RevocationServer {
  /** http://host:port */
  base: string;
  ocspPath: string;
  /** The CAs OCSP answers for. */
  issuers: string[];
  warnings: string[];
  close: () => Promise<void>;
}

async function startRevocationServer(store: ReturnType<typeof openStore>, where: { host: string; port: number }, listen: string, askCa: AskPassword, askRoot: AskPassword): Promise<RevocationServer> {
  const { host, port } = where;
  const service = await openRevocationService(store, { askPassword: (request) => (request.role === 'root' || request.role === 'root-pin' ? askRoot(request) : askCa(request)) });
  const warnings: string[] = [];
  for (const { name, reason } of service.skipped) {
    if (name === ROOT_NAME) await note('the root key stays offline, so OCSP answers "unauthorized" for the intermediate itself (its status is in the root CRL); give --root-password to answer for it.');
    else {
      const text = `no OCSP answers for certificates issued by "${name}": ${reason}.`;
      warnings.push(text);
      await warning(text);
    }
  }

  const { createServer } = await import('node:http');
  const server = createServer((req, res) => void respond(service, req, res));
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new InvalidInputError(`cannot listen on ${listen}: ${error.code ?? error.message}`, 'Choose another address or port with --listen.')),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const base = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  status(`Serving CRLs at ${base}/crl/<issuer>.crl and OCSP for ${service.issuers.map((name) => `"${name}"`).join(', ')} at ${base}${service.ocspPath}.`);
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 5_000).unref();
    });
  return { base, ocspPath: service.ocspPath, issuers: [...service.issuers], warnings, close };
}

async function respond(service: RevocationService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  try {
    // The same bounded read as the ACME server's (64 KiB: an OCSP request is a few hundred bytes).
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return send(res, method, url, 413, 'text/plain; charset=utf-8', 'Request too large.\n', 'request too large');
      if (error instanceof BodyAbortedError) {
        res.destroy();
        return;
      }
      throw error;
    }
    const answer = await service.handle({ method, url, body: new Uint8Array(body) });
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

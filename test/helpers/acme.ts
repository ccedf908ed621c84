import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, baseEnv, git } from './cli.js';
import { freePort } from './serve.js';

/** `certified serve --acme-listen` on loopback, with an http-01 responder answering from `tokens`. */
export interface AcmeTestServer {
  child: ChildProcess;
  /** The server's stderr so far. */
  log: () => string;
  port: number;
  directoryUrl: string;
  /** Key authorizations by token, for the http-01 responder to answer. */
  tokens: Map<string, string>;
  /** SIGTERM the server, wait for it, close the responder. */
  stop: () => Promise<void>;
}

/** Starts the server in `cwd` (its CA must have an acme: policy) and waits (bounded) until it serves. */
export async function startAcmeServer(cwd: string, resolvePattern: string, tokens = new Map<string, string>()): Promise<AcmeTestServer> {
  const responder: Server = createServer((req, res) => {
    const answer = tokens.get((req.url ?? '').replace('/.well-known/acme-challenge/', ''));
    res.writeHead(answer ? 200 : 404).end(answer ?? 'no such token');
  });
  const httpPort = await freePort();
  await new Promise<void>((resolve) => responder.listen(httpPort, '127.0.0.1', resolve));
  const port = await freePort();
  const args = ['serve', '--acme-listen', `127.0.0.1:${port}`, '--acme-http-port', String(httpPort), '--acme-resolve', `${resolvePattern}=127.0.0.1`];
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk) => (log += chunk));
  for (let i = 0; i < 300 && !log.includes('Serving ACME') && child.exitCode === null; i++) await sleep(100);
  assert.match(log, /Serving ACME at https:\/\/127\.0\.0\.1:\d+\/acme\/directory\./);
  return {
    child,
    log: () => log,
    port,
    directoryUrl: `https://127.0.0.1:${port}/acme/directory`,
    tokens,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      responder.close();
    },
  };
}

/** Writes `text` as the CA's certificates.yaml and commits it, as an operator adds an ACME policy. */
export function commitAcmePolicy(db: string, text: string, message = 'ACME policy'): void {
  writeFileSync(join(db, 'certificates.yaml'), text);
  git(db, ['add', 'certificates.yaml']);
  git(db, ['commit', '-q', '-m', message]);
}

/** An HTTPS answer, its body as text. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTPS request, trusting `ca` (or through `agent`); a body goes as application/jose+json
 * unless `contentType` says otherwise.
 */
export function httpsRequest(method: string, url: string, options: { ca?: string; agent?: https.Agent | false; body?: string | Buffer; contentType?: string }): Promise<Answer> {
  const { body } = options;
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/jose+json', 'Content-Length': String(Buffer.byteLength(body)) };
    const req = https.request(url, { method, headers, ...(options.ca !== undefined ? { ca: options.ca } : {}), ...(options.agent !== undefined ? { agent: options.agent } : {}) }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The ACME server's answers to requests that are wrong at the HTTP level: a method a resource does
 * not take, a renewalInfo path that is not percent-encoding, an upload the client abandons.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, baseEnv, freshCa } from '../helpers/cli.js';
import { freePort } from '../helpers/serve.js';
import { commitAcmePolicy, httpsRequest, type Answer } from '../helpers/acme.js';

describe('certified serve --acme-listen: HTTP-level conformance', () => {
  let cwd: string;
  let db: string;
  let rootPem: string;
  let port: number;
  let child: ChildProcess;
  let log = '';

  const request = (method: string, path: string, body?: string): Promise<Answer> => httpsRequest(method, `https://127.0.0.1:${port}${path}`, { ca: rootPem, ...(body === undefined ? {} : { body }) });
  function problem(answer: Answer, type: string, status: number): Record<string, unknown> {
    assert.equal(answer.status, status, answer.body);
    assert.equal(answer.headers['content-type'], 'application/problem+json');
    const parsed = JSON.parse(answer.body) as Record<string, unknown>;
    assert.equal(parsed.type, `urn:ietf:params:acme:error:${type}`);
    return parsed;
  }

  before(async () => {
    ({ cwd, db } = await freshCa());
    commitAcmePolicy(db, 'acme:\n  allow: [.example.test]\n');
    rootPem = readFileSync(join(db, 'certs/root-ca.crt'), 'utf8');
    port = await freePort();
    child = spawn(process.execPath, [BIN, 'serve', '--acme-listen', `127.0.0.1:${port}`], { cwd, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (chunk) => (log += chunk));
    for (let i = 0; i < 300 && !log.includes('Serving ACME') && child.exitCode === null; i++) await sleep(100);
    assert.match(log, /Serving ACME at /);
  });
  after(async () => {
    if (child?.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('answers a method a resource does not take with 405 and an Allow header', async () => {
    for (const path of ['/acme/new-order', '/acme/new-account', '/acme/order/abc']) {
      const answer = await request('GET', path);
      problem(answer, 'malformed', 405);
      assert.equal(answer.headers.allow, 'POST', path);
    }
    for (const path of ['/acme/directory', '/acme/new-nonce', '/acme/renewal-info/abc.def']) {
      const answer = await request('POST', path, '{}');
      problem(answer, 'malformed', 405);
      assert.equal(answer.headers.allow, 'GET, HEAD', path);
    }
  });

  it('calls a renewalInfo path that is not percent-encoding malformed (400), not a server error', async () => {
    for (const id of ['%E0%A4%A', '%', 'abc%ZZ.def']) {
      const answer = await request('GET', `/acme/renewal-info/${id}`);
      assert.equal(problem(answer, 'malformed', 400).detail, 'the renewalInfo path is not valid percent-encoding', id);
    }
    assert.doesNotMatch(log, /internal error/);
  });

  it('does not log an upload the client abandons as an internal error, and keeps serving', async () => {
    const before = log.length;
    await new Promise<void>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: rootPem, servername: 'localhost', checkServerIdentity: () => undefined }, () => {
        socket.write(`POST /acme/new-order HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/jose+json\r\nContent-Length: 1000\r\n\r\n{"protected":`);
        // Written and flushed: now the client goes away in the middle of its body.
        setImmediate(() => socket.destroy());
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    // Requests after it are answered, and logged after anything the abandoned one caused.
    for (let i = 0; i < 3; i++) assert.equal((await request('GET', '/acme/directory')).status, 200);
    assert.match(log.slice(before), /GET \/acme\/directory 200/);
    assert.doesNotMatch(log.slice(before), /internal error/);
  });
});

/**
 * ACME throughput: `certified serve --acme-listen` as a child process, N concurrent clients on
 * loopback, each doing newOrder -> http-01 (answered by a node:http server here, reached through
 * --acme-http-port and --acme-resolve) -> finalize -> certificate download. Reports issuances per
 * second, p50/p95 from newOrder to certificate, the server's CPU time, and checks that every
 * certificate is committed (records in HEAD). The bench runner (bench/run.ts) calls benchAcme();
 * `node dist-test/bench/acme.js [certificates] [clients]` runs it alone; BENCH_ACME_CPU_PROF=DIR
 * runs the server with --cpu-prof into DIR.
 *
 * The clients are lean (node:crypto ES256 JWS, keep-alive HTTPS, CSRs made before the timed part,
 * accounts created before it too) so that the figures are the server's: acme-client spends more
 * CPU per order than the server does, and on 2 cores shared with the server it would measure itself.
 */
import acme from 'acme-client';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import https from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { baseEnv } from '../test/helpers/env.js';
import { BIN, ROOT_PASSWORD, certified, git, median, scratchDir } from './measure.js';

export interface BenchAcmeResult {
  certificates: number;
  clients: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  /** CPU time of the server process over the timed part (user + system), ms per certificate. */
  serverCpuMsPerCert?: number;
  /** CPU time of this process (the clients and the http-01 responder), ms per certificate. */
  clientCpuMsPerCert: number;
  /** ACME certificate records in HEAD, and commits the run added. */
  recordsCommitted: number;
  commits: number;
}

const POLICY = 'acme:\n  allow: [.bench.test]\n  days: 30\n  challenges: [http-01]\n';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createNetServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

/** utime + stime of a process, ms (Linux /proc). */
function cpuOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One ACME client: an ES256 account, a keep-alive connection, nonces taken from every answer. */
class LeanClient {
  private nonce: string | undefined;
  private readonly key: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  account = '';

  constructor(
    public agent: https.Agent,
    private readonly dir: Record<string, string>,
  ) {}

  /** A new connection: one left idle past the server's keep-alive timeout (5 s) may be cut as it is reused. */
  reconnect(): void {
    this.agent.destroy();
    this.agent = new https.Agent({ ...this.agent.options, keepAlive: true, maxSockets: 1 });
  }

  request(method: string, url: string, body?: string): Promise<Answer> {
    return new Promise((done, fail) => {
      const headers = body === undefined ? {} : { 'Content-Type': 'application/jose+json', 'Content-Length': String(Buffer.byteLength(body)) };
      const req = https.request(url, { method, agent: this.agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const nonce = res.headers['replay-nonce'];
          if (typeof nonce === 'string') this.nonce = nonce;
          done({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  async post(url: string, payload: unknown): Promise<Answer> {
    if (this.nonce === undefined) await this.request('HEAD', this.dir.newNonce!);
    const header = { alg: 'ES256', url, nonce: this.nonce, ...(this.account ? { kid: this.account } : { jwk: createPublicKey(this.key).export({ format: 'jwk' }) }) };
    this.nonce = undefined;
    const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
    const payloadB64 = payload === '' ? '' : Buffer.from(JSON.stringify(payload)).toString('base64url');
    const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key: this.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    const answer = await this.request('POST', url, JSON.stringify({ protected: protectedB64, payload: payloadB64, signature }));
    if (answer.status >= 400) throw new Error(`POST ${url}: ${answer.status} ${answer.body}`);
    return answer;
  }

  async register(): Promise<void> {
    const answer = await this.post(this.dir.newAccount!, { termsOfServiceAgreed: true });
    this.account = String(answer.headers.location);
  }

  /** The account key's JWK thumbprint (RFC 7638), for key authorizations: computed once, as a client keeps it. */
  thumbprint(): string {
    if (this.thumb === undefined) {
      const jwk = createPublicKey(this.key).export({ format: 'jwk' });
      const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
      this.thumb = createHash('sha256').update(canonical).digest('base64url');
    }
    return this.thumb;
  }
  private thumb: string | undefined;

  /** newOrder -> http-01 -> finalize -> download; resolves with the PEM chain. */
  async issue(name: string, csr: string, tokens: Map<string, string>): Promise<string> {
    const created = await this.post(this.dir.newOrder!, { identifiers: [{ type: 'dns', value: name }] });
    const orderUrl = String(created.headers.location);
    let order = JSON.parse(created.body) as { status: string; authorizations: string[]; finalize: string; certificate?: string };
    const thumb = this.thumbprint();
    for (const authzUrl of order.authorizations) {
      const authz = JSON.parse((await this.post(authzUrl, '')).body) as { challenges: { type: string; url: string; token: string }[] };
      const challenge = authz.challenges.find((each) => each.type === 'http-01')!;
      tokens.set(challenge.token, `${challenge.token}.${thumb}`);
      await this.post(challenge.url, {});
    }
    // Poll the order until the validation is done: quickly, since it takes a few ms on loopback.
    for (let wait = 2; order.status === 'pending'; wait = Math.min(wait * 2, 100)) {
      await sleep(wait);
      order = JSON.parse((await this.post(orderUrl, '')).body) as typeof order;
    }
    if (order.status !== 'ready') throw new Error(`order ${orderUrl} is ${order.status}`);
    order = JSON.parse((await this.post(order.finalize, { csr })).body) as typeof order;
    for (let wait = 10; order.status === 'processing'; wait = Math.min(wait * 2, 200)) {
      await sleep(wait);
      order = JSON.parse((await this.post(orderUrl, '')).body) as typeof order;
    }
    if (order.status !== 'valid' || !order.certificate) throw new Error(`order ${orderUrl} is ${order.status} after finalize`);
    return (await this.post(order.certificate, '')).body;
  }
}

export async function benchAcme(count = 400, clients = 24, log: (line: string) => void = () => {}): Promise<BenchAcmeResult> {
  const dir = scratchDir('acme');
  const db = join(dir, 'ca');
  const made = certified(['--ca', '--db', db, 'O=Bench', 'CN=Bench CA'], { cwd: dir, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
  if (made.code !== 0) throw new Error(`certified --ca failed: ${made.stderr}`);
  writeFileSync(join(db, 'certificates.yaml'), POLICY);
  git(db, ['add', 'certificates.yaml']);
  git(db, ['commit', '-q', '-m', 'bench: ACME policy']);
  const rootPem = readFileSync(join(db, 'certs/root-ca.crt'), 'utf8');

  const tokens = new Map<string, string>();
  const responder: Server = createHttpServer((req, res) => {
    const answer = tokens.get((req.url ?? '').replace('/.well-known/acme-challenge/', ''));
    res.writeHead(answer ? 200 : 404).end(answer ?? 'no such token');
  });
  const httpPort = await freePort();
  await new Promise<void>((done) => responder.listen(httpPort, '127.0.0.1', done));
  const port = await freePort();
  const profile = process.env.BENCH_ACME_CPU_PROF;
  const child: ChildProcess = spawn(
    process.execPath,
    [...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), BIN, 'serve', '--db', db, '--acme-listen', `127.0.0.1:${port}`, '--acme-http-port', String(httpPort), '--acme-resolve', '*.bench.test=127.0.0.1'],
    { cwd: dir, env: baseEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let serverLog = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (serverLog.length < 1_000_000) serverLog += chunk.toString();
  });
  try {
    for (let i = 0; i < 300 && !serverLog.includes('Serving ACME') && child.exitCode === null; i++) await sleep(100);
    if (!serverLog.includes('Serving ACME')) throw new Error(`the ACME server did not start: ${serverLog.slice(-2000)}`);
    const agent = new https.Agent({ ca: rootPem, keepAlive: true, maxSockets: 1 });
    const directoryUrl = `https://127.0.0.1:${port}/acme/directory`;

    // Untimed: accounts, and the CSRs (the clients' keys are theirs; making them is not the server's cost).
    const probe = new LeanClient(agent, {});
    const dirDoc = JSON.parse((await probe.request('GET', directoryUrl)).body) as Record<string, string>;
    const csrKey = await acme.crypto.createPrivateEcdsaKey();
    const names = Array.from({ length: count }, (_, i) => `host-${i}.bench.test`);
    const csrs: string[] = [];
    for (const name of names) {
      const [, csrPem] = await acme.crypto.createCsr({ commonName: name }, csrKey);
      csrs.push(acme.crypto.getPemBodyAsB64u(csrPem));
    }
    // Each client from its own loopback address, as real clients are: the server limits new
    // accounts and connections per address.
    const pool = Array.from({ length: clients }, (_, i) => new LeanClient(new https.Agent({ ca: rootPem, keepAlive: true, maxSockets: 1, localAddress: `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}` }), dirDoc));
    await Promise.all(pool.map((client) => client.register()));
    for (const client of pool) client.reconnect();
    const headBefore = git(db, ['rev-parse', 'HEAD']).trim();
    log(`  ${clients} clients registered, ${count} CSRs ready; issuing...`);

    const latencies: number[] = [];
    let next = 0;
    const cpuBefore = cpuOf(child.pid);
    const clientCpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      pool.map(async (client) => {
        for (let index = next++; index < count; index = next++) {
          const t0 = performance.now();
          const pem = await client.issue(names[index]!, csrs[index]!, tokens);
          if (!pem.startsWith('-----BEGIN CERTIFICATE-----')) throw new Error(`no certificate for ${names[index]}: ${pem.slice(0, 200)}`);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const cpuAfter = cpuOf(child.pid);
    const used = process.cpuUsage(clientCpu);

    const recordsCommitted = git(db, ['ls-tree', '-r', '--name-only', 'HEAD', 'certs/'])
      .split('\n')
      .filter((path) => /^certs\/acme-[0-9a-f]+\.crt$/.test(path)).length;
    const commits = Number(git(db, ['rev-list', '--count', `${headBefore}..HEAD`]).trim());
    const dirty = git(db, ['status', '--porcelain']).trim();
    if (dirty) throw new Error(`the CA directory has uncommitted changes after the run:\n${dirty.slice(0, 2000)}`);
    const sorted = [...latencies].sort((a, b) => a - b);
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
    for (const client of pool) client.agent.destroy();
    agent.destroy();
    return {
      certificates: count,
      clients,
      seconds: Number(elapsed.toFixed(2)),
      perSecond: Number((count / elapsed).toFixed(1)),
      p50Ms: Math.round(median(latencies)),
      p95Ms: Math.round(p95),
      ...(cpuBefore !== undefined && cpuAfter !== undefined ? { serverCpuMsPerCert: Number(((cpuAfter - cpuBefore) / count).toFixed(2)) } : {}),
      clientCpuMsPerCert: Number(((used.user + used.system) / 1000 / count).toFixed(2)),
      recordsCommitted,
      commits,
    };
  } catch (error) {
    throw new Error(`${(error as Error).message}\nThe server's log ends with:\n${serverLog.slice(-3000)}`, { cause: error });
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((done) => (child.exitCode !== null ? done() : child.once('exit', () => done())));
    responder.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 400);
  const clients = Number(process.argv[3] ?? 24);
  const result = await benchAcme(count, clients, (line) => process.stderr.write(`${line}\n`));
  console.log(JSON.stringify(result));
}

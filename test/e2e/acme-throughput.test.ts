/**
 * Group commit of the ACME server: finalizations that arrive together share one commit (each
 * certificate with its own files and record, every one named in the message), a failed shared
 * commit fails each of them and writes nothing, and SIGTERM lets the finalizations in flight end
 * committed (or cleanly refused) before the server exits 0. No timing is asserted: only outcomes.
 */
import acme from 'acme-client';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkAcmeRequest, issueAcmeCertificates, loadAcmeSigner, presignAcmeRequest } from '../../src/ca/acme/issue.js';
import { AcmeProblem } from '../../src/ca/acme/types.js';
import { openCaDirectory } from '../../src/ca/ca-directory.js';
import { freshCa, git, run } from '../helpers/cli.js';
import { commitAcmePolicy, startAcmeServer, type AcmeTestServer, httpsRequest, type Answer } from '../helpers/acme.js';
import { signJws } from '../helpers/jws.js';

const POLICY = 'acme:\n  allow: [.throughput.test]\n  days: 30\n  challenges: [http-01]\n';

interface OrderBody {
  status: string;
  authorizations: string[];
  finalize: string;
  certificate?: string;
}

/** Each client its own loopback address: the server limits new accounts per client address. */
let clients = 0;
const nextAddress = (): string => `127.0.${1 + Math.floor(clients / 250)}.${2 + (clients++ % 250)}`;

/** A small ACME client (ES256, one keep-alive connection): enough to hold many orders at once. */
class Client {
  readonly key: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  readonly agent: https.Agent;
  private nonce: string | undefined;
  account = '';

  constructor(
    ca: string,
    private readonly dir: Record<string, string>,
  ) {
    // An idle connection is dropped here after 4 s, before the server's keep-alive timeout (5 s)
    // closes it: otherwise a request sent as the server closes it fails with ECONNRESET.
    this.agent = new https.Agent({ ca, keepAlive: true, maxSockets: 1, timeout: 4_000, localAddress: nextAddress() });
  }

  async request(method: string, url: string, body?: string): Promise<Answer> {
    const answer = await httpsRequest(method, url, { agent: this.agent, ...(body === undefined ? {} : { body }) });
    if (typeof answer.headers['replay-nonce'] === 'string') this.nonce = answer.headers['replay-nonce'];
    return answer;
  }

  async post(url: string, payload: unknown): Promise<Answer> {
    if (this.nonce === undefined) await this.request('HEAD', this.dir.newNonce!);
    const header = { url, nonce: this.nonce, ...(this.account ? { kid: this.account } : { jwk: createPublicKey(this.key).export({ format: 'jwk' }) }) };
    this.nonce = undefined;
    return this.request('POST', url, JSON.stringify(signJws(this.key, header, payload)));
  }

  async register(): Promise<void> {
    const answer = await this.post(this.dir.newAccount!, { termsOfServiceAgreed: true });
    assert.equal(answer.status, 201, answer.body);
    this.account = String(answer.headers.location);
  }

  get accountId(): string {
    return this.account.split('/').pop()!;
  }

  thumbprint(): string {
    const jwk = createPublicKey(this.key).export({ format: 'jwk' });
    return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
  }

  /** newOrder and http-01, up to a ready order; returns its URL and body. */
  async readyOrder(name: string, tokens: Map<string, string>): Promise<{ url: string; order: OrderBody }> {
    const created = await this.post(this.dir.newOrder!, { identifiers: [{ type: 'dns', value: name }] });
    assert.equal(created.status, 201, created.body);
    const url = String(created.headers.location);
    let order = JSON.parse(created.body) as OrderBody;
    for (const authzUrl of order.authorizations) {
      const authz = JSON.parse((await this.post(authzUrl, '')).body) as { challenges: { type: string; url: string; token: string }[] };
      const challenge = authz.challenges.find((each) => each.type === 'http-01')!;
      tokens.set(challenge.token, `${challenge.token}.${this.thumbprint()}`);
      assert.equal((await this.post(challenge.url, {})).status, 200);
    }
    for (let i = 0; i < 200 && order.status === 'pending'; i++) {
      await sleep(25);
      order = JSON.parse((await this.post(url, '')).body) as OrderBody;
    }
    assert.equal(order.status, 'ready', JSON.stringify(order));
    return { url, order };
  }
}

describe('ACME group commit', () => {
  let cwd: string;
  let db: string;
  let rootPem: string;
  let server: AcmeTestServer;
  let child: ChildProcess;
  let dir: Record<string, string>;
  const tokens = new Map<string, string>();
  let csrKey: Buffer;
  const csrFor = async (name: string) => acme.crypto.getPemBodyAsB64u((await acme.crypto.createCsr({ commonName: name }, csrKey))[1]);
  const head = () => git(db, ['rev-parse', 'HEAD']).trim();
  const acmeCertsInHead = () =>
    git(db, ['ls-tree', '-r', '--name-only', 'HEAD', 'certs/'])
      .split('\n')
      .filter((path) => /^certs\/acme-[0-9a-f]+\.crt$/.test(path));

  /** `count` clients, each with one ready order for NAME-i.throughput.test. */
  async function readyOrders(prefix: string, count: number) {
    const clients = Array.from({ length: count }, () => new Client(rootPem, dir));
    return Promise.all(
      clients.map(async (client, index) => {
        await client.register();
        const name = `${prefix}-${index}.throughput.test`;
        return { client, name, csr: await csrFor(name), ...(await client.readyOrder(name, tokens)) };
      }),
    );
  }

  before(async () => {
    ({ cwd, db } = await freshCa());
    commitAcmePolicy(db, POLICY);
    rootPem = readFileSync(join(db, 'certs/root-ca.crt'), 'utf8');
    csrKey = await acme.crypto.createPrivateEcdsaKey();
    server = await startAcmeServer(cwd, '*.throughput.test', tokens);
    child = server.child;
    const port = server.port;
    const probe = new Client(rootPem, {});
    dir = JSON.parse((await probe.request('GET', `https://127.0.0.1:${port}/acme/directory`)).body) as Record<string, string>;
    probe.agent.destroy();
  });
  after(async () => {
    await server?.stop();
  });

  it('commits 20 concurrent finalizations in fewer commits, each with its record, all named in the messages', async () => {
    const orders = await readyOrders('group', 20);
    const before = head();
    const answers = await Promise.all(orders.map(({ client, order, csr }) => client.post(order.finalize, { csr })));
    const issued = answers.map((answer, index) => {
      assert.equal(answer.status, 200, answer.body);
      const body = JSON.parse(answer.body) as OrderBody;
      assert.equal(body.status, 'valid');
      return { ...orders[index]!, serial: body.certificate!.split('/').pop()! };
    });
    const commits = git(db, ['rev-list', `${before}..HEAD`]).trim().split('\n');
    assert.ok(commits.length < 20, `20 certificates in ${commits.length} commits: finalizations that arrive together share one`);
    assert.ok(commits.length >= 1);
    assert.equal(git(db, ['status', '--porcelain']).trim(), '', 'everything is committed');
    const messages = git(db, ['log', '--format=%B%x00', `${before}..HEAD`]);
    for (const { client, name, url, serial } of issued) {
      const record = JSON.parse(git(db, ['show', `HEAD:records/ca/${serial}.json`])) as { name: string; sans: unknown; acme: unknown };
      assert.equal(record.name, `acme-${serial}`);
      assert.deepEqual(record.acme, { account: client.accountId, order: url.split('/').pop() });
      assert.match(git(db, ['show', `HEAD:certs/acme-${serial}.crt`]), /^-----BEGIN CERTIFICATE-----/);
      assert.match(git(db, ['show', `HEAD:certs/acme-${serial}.chain.crt`]), /^-----BEGIN CERTIFICATE-----/);
      assert.ok(messages.includes(`acme-${serial}`), `the commit message names acme-${serial}`);
      assert.ok(messages.includes(`DNS:${name}`), `the commit message names DNS:${name}`);
      const pem = await client.post(`${dir.newOrder!.replace(/new-order$/, 'cert/')}${serial}`, '');
      assert.equal(pem.status, 200);
      assert.match(pem.body, /^-----BEGIN CERTIFICATE-----/);
    }
    // A shared commit follows apply's form: a count in the summary and in Certified-Changes, one line per certificate.
    const logged = await run(['log', '--json'], { cwd });
    assert.equal(logged.code, 0, logged.stderr);
    const entries = (JSON.parse(logged.stdout) as { commit: string; action: string; summary: string; name?: string; trailers: Record<string, string> }[]).filter((entry) => commits.includes(entry.commit));
    assert.equal(entries.length, commits.length);
    let listed = 0;
    for (const entry of entries) {
      assert.equal(entry.action, 'acme-issue');
      const count = Number(entry.trailers['Certified-Changes'] ?? 1);
      listed += count;
      if (count > 1) assert.match(entry.summary, new RegExp(`^Issue ${count} ACME certificates `));
      else assert.match(entry.name ?? '', /^acme-[0-9a-f]+$/);
    }
    assert.equal(listed, 20, 'certified log accounts for every certificate');
    const text = await run(['log'], { cwd });
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.split('\n').filter((line) => /\bacme-issue\b/.test(line)).length, commits.length);
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    for (const { client } of orders) client.agent.destroy();
  });

  it('keeps a certificate signed ahead of its commit only when the CA is unchanged under the lock', async () => {
    const store = openCaDirectory(db, { lockTimeoutMs: 10_000 });
    const askPassword = async () => undefined;
    const client = new Client(rootPem, dir);
    await client.register();
    client.agent.destroy();
    const account = client.accountId;
    const checked = async (name: string, order: string) =>
      checkAcmeRequest({ csr: Buffer.from(await csrFor(name), 'base64url'), identifiers: [{ type: 'dns', value: name }], account, order, days: 30, askPassword, commandLine: 'serve' });
    const signer = await loadAcmeSigner(store, askPassword);

    const stale = await checked('stale.throughput.test', 'order-stale');
    // As if the intermediate or the CA's settings changed between the signature and the commit.
    await presignAcmeRequest(stale, { ...signer, basis: 'a CA since replaced' });
    const current = await checked('current.throughput.test', 'order-current');
    await presignAcmeRequest(current, signer);
    const results = await issueAcmeCertificates(store, [stale, current]);
    const [again, kept] = results.map((result) => {
      assert.ok(!(result instanceof AcmeProblem), String(result));
      return result;
    });
    assert.notEqual(again!.serial, stale.presigned!.certificate.serial, 'signed again with the CA found under the lock');
    assert.equal(kept!.serial, current.presigned!.certificate.serial, 'kept: signed by the same CA');
    for (const { serial } of [again!, kept!]) assert.match(git(db, ['show', `HEAD:certs/acme-${serial}.crt`]), /^-----BEGIN CERTIFICATE-----/);
    assert.equal(again!.commit, kept!.commit);
    assert.equal(git(db, ['status', '--porcelain']).trim(), '');
  });

  it('fails every finalization of a shared commit that cannot be made, and writes nothing', async () => {
    const orders = await readyOrders('refused', 5);
    const hook = join(db, '.git/hooks/pre-commit');
    writeFileSync(hook, '#!/bin/sh\necho "refused by the test hook" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const before = head();
    const certsBefore = acmeCertsInHead().length;
    try {
      const answers = await Promise.all(orders.map(({ client, order, csr }) => client.post(order.finalize, { csr })));
      for (const answer of answers) {
        assert.equal(answer.status, 500, answer.body);
        assert.equal(answer.headers['content-type'], 'application/problem+json');
        assert.equal((JSON.parse(answer.body) as { type: string }).type, 'urn:ietf:params:acme:error:serverInternal');
      }
    } finally {
      rmSync(hook);
    }
    assert.equal(head(), before, 'no commit');
    assert.equal(git(db, ['status', '--porcelain', '--untracked-files=all']).trim(), '', 'no file left behind');
    assert.equal(existsSync(join(db, '.certified.journal')), false);
    assert.equal(acmeCertsInHead().length, certsBefore);
    // The orders are still ready: finalized again once the CA can commit, they are issued.
    for (const { client, url } of orders) assert.equal((JSON.parse((await client.post(url, '')).body) as OrderBody).status, 'ready');
    const retried = await Promise.all(orders.map(({ client, order, csr }) => client.post(order.finalize, { csr })));
    for (const answer of retried) assert.equal(answer.status, 200, answer.body);
    assert.equal(acmeCertsInHead().length, certsBefore + 5);
    for (const { client } of orders) client.agent.destroy();
  });

  it('on SIGTERM, commits the finalizations in flight (or refuses them cleanly), then exits 0', async () => {
    const orders = await readyOrders('stop', 12);
    const before = head();
    const certsBefore = acmeCertsInHead().length;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const settled = orders.map(({ client, order, csr }) => client.post(order.finalize, { csr }).then((answer) => answer, (error: Error) => error));
    // As soon as the first is answered the others are queued or being committed: stop the server now.
    await Promise.race(settled);
    child.kill('SIGTERM');
    const outcomes = await Promise.all(settled);
    assert.equal(await exited, 0, server.log());
    assert.match(server.log(), /Received SIGTERM/);
    assert.match(server.log(), /Stopped\./);
    const inHead = new Set(acmeCertsInHead());
    let answered = 0;
    for (const outcome of outcomes) {
      if (outcome instanceof Error) continue; // the connection was cut: the client retries, nothing is half-written (below)
      if (outcome.status === 200) {
        const serial = (JSON.parse(outcome.body) as OrderBody).certificate!.split('/').pop()!;
        assert.ok(inHead.has(`certs/acme-${serial}.crt`), `acme-${serial} was answered, so it is committed`);
        answered++;
      } else {
        assert.equal(outcome.headers['content-type'], 'application/problem+json', outcome.body);
      }
    }
    assert.ok(answered >= 1);
    assert.ok(inHead.size - certsBefore >= answered);
    assert.ok(inHead.size - certsBefore <= 12);
    assert.equal(git(db, ['status', '--porcelain', '--untracked-files=all']).trim(), '', 'nothing half-written');
    assert.equal(existsSync(join(db, '.certified.journal')), false);
    assert.ok(git(db, ['rev-list', '--count', `${before}..HEAD`]).trim() !== '0');
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    for (const { client } of orders) client.agent.destroy();
  });
});

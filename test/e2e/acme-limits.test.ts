/**
 * The ACME server under floods, run in this process with small limits: silent connections from
 * one address are closed past its cap while others are served, an External Account Binding that
 * cannot be right never opens the intermediate key, one account cannot hold more open orders than
 * its limit nor push out another account's orders, and new accounts per address are rate-limited.
 */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCaDirectory } from '../../src/ca/ca-directory.js';
import type { AskPassword } from '../../src/ca/passwords.js';
import { startAcmeServer, type AcmeServer } from '../../src/serve/acme/server.js';
import { commitCount, makeCa, tempDir } from '../helpers/cli.js';
import { signJws } from '../helpers/jws.js';
import { commitAcmePolicy, httpsRequest, type Answer } from '../helpers/acme.js';

const CA_PASSWORD = 'intermediate secret for limits';
const policy = (eab: boolean) => `acme:
  allow: [.example.test, 127.0.0.0/8]
  eab: ${eab}
`;

describe('the ACME server under floods (limits)', () => {
  let db: string;
  let rootPem: string;
  let server: AcmeServer;
  let directoryUrl: string;
  let passwordsAsked = 0;
  const logged: string[] = [];

  const request = (method: string, url: string, body?: string): Promise<Answer> => httpsRequest(method, url, { ca: rootPem, agent: false, ...(body === undefined ? {} : { body }) });
  const directory = async () => JSON.parse((await request('GET', directoryUrl)).body) as Record<string, string>;
  const nonce = async () => String((await request('HEAD', (await directory()).newNonce!)).headers['replay-nonce']);
  const es256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  async function post(key: KeyObject, url: string, payload: unknown, account?: string): Promise<Answer> {
    const header = { url, nonce: await nonce(), ...(account ? { kid: account } : { jwk: createPublicKey(key).export({ format: 'jwk' }) }) };
    return request('POST', url, JSON.stringify(signJws(key, header, payload)));
  }
  function assertProblem(answer: Answer, type: string, status: number): Record<string, unknown> {
    assert.equal(answer.headers['content-type'], 'application/problem+json', answer.body);
    const problem = JSON.parse(answer.body) as Record<string, unknown>;
    assert.equal(problem.type, `urn:ietf:params:acme:error:${type}`, answer.body);
    assert.equal(answer.status, status, answer.body);
    return problem;
  }
  function commitPolicy(eab: boolean): void {
    commitAcmePolicy(db, policy(eab), `ACME policy, eab ${eab}`);
  }
  async function newAccount(key: KeyObject): Promise<{ answer: Answer; kid: string }> {
    const answer = await post(key, (await directory()).newAccount!, { termsOfServiceAgreed: true });
    return { answer, kid: String(answer.headers.location ?? '') };
  }
  const order = async (key: KeyObject, kid: string, name: string) => post(key, (await directory()).newOrder!, { identifiers: [{ type: 'dns', value: name }] }, kid);

  before(async () => {
    const cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    await makeCa(cwd, ['--intermediate-password', CA_PASSWORD]);
    commitPolicy(false);
    rootPem = readFileSync(join(db, 'certs/root-ca.crt'), 'utf8');
    const askPassword: AskPassword = async () => {
      passwordsAsked += 1;
      return CA_PASSWORD;
    };
    server = await startAcmeServer({
      store: openCaDirectory(db, { lockTimeoutMs: 20_000 }),
      host: '127.0.0.1',
      port: 0,
      name: '127.0.0.1',
      targets: { httpPort: 9, tlsPort: 9, resolve: [], timeoutMs: 1_000 },
      askPassword,
      commandLine: 'certified serve --acme-listen 127.0.0.1:0',
      log: (line) => logged.push(line),
      limits: { connectionsPerAddress: 8, newAccountsPerMinute: 3, pendingOrdersPerAccount: 3, ordersPerAccount: 5 },
    });
    directoryUrl = server.directoryUrl;
  });
  after(async () => {
    await server?.close();
  });

  it('closes silent connections from one address past its cap, and still serves another client', { timeout: 20_000 }, async () => {
    const port = Number(new URL(directoryUrl).port);
    const sockets: Socket[] = [];
    let closed = 0;
    let enoughClosed!: () => void;
    const fourClosed = new Promise<void>((resolve) => (enoughClosed = resolve));
    for (let index = 0; index < 12; index += 1) {
      const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        closed += 1;
        if (closed === 4) enoughClosed();
      });
      sockets.push(socket);
    }
    // Without a cap per address they would stay open until the handshake timeout.
    await fourClosed;
    const answer = await request('GET', directoryUrl);
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(answer.body).newAccount, `${directoryUrl.replace(/directory$/, '')}new-account`);
    assert.equal(closed, 4, 'the eight under the cap are still open');
    for (const socket of sockets) socket.destroy();
  });

  it('refuses an External Account Binding that cannot be right without opening the intermediate key', async () => {
    commitPolicy(true);
    try {
      await refusedUnopened();
    } finally {
      commitPolicy(false);
    }
  });

  async function refusedUnopened(): Promise<void> {
    const asked = passwordsAsked;
    const commits = commitCount(db);
    const key = es256();
    const url = (await directory()).newAccount!;
    const jwk = createPublicKey(key).export({ format: 'jwk' });
    const shaped = {
      protected: Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'AAAAAAAAAAAAAAAAAAAAAA', url })).toString('base64url'),
      payload: Buffer.from(JSON.stringify(jwk)).toString('base64url'),
      signature: Buffer.alloc(32).toString('base64url'),
    };
    const cases: [unknown, string, number][] = [
      ['garbage', 'malformed', 400],
      [{ protected: 'x', payload: 'y' }, 'malformed', 400],
      [shaped, 'unauthorized', 403],
    ];
    for (const [binding, type, status] of cases) {
      assertProblem(await post(key, url, { termsOfServiceAgreed: true, externalAccountBinding: binding }), type, status);
    }
    assert.equal(passwordsAsked, asked, 'the intermediate key was not opened again');
    assert.equal(commitCount(db), commits);
  }

  it('refuses an account more open orders than its limit, with Retry-After, and forgets only its own orders', async () => {
    const [keyA, keyB] = [es256(), es256()];
    const a = await newAccount(keyA);
    const b = await newAccount(keyB);
    assert.equal(a.answer.status, 201, a.answer.body);
    assert.equal(b.answer.status, 201, b.answer.body);
    const kept = await order(keyB, b.kid, 'b.example.test');
    assert.equal(kept.status, 201, kept.body);
    const keptUrl = String(kept.headers.location);

    // Account A makes orders and gives each up (an invalid order is finished): more than it may keep.
    for (let index = 0; index < 8; index += 1) {
      const made = await order(keyA, a.kid, `a${index}.example.test`);
      assert.equal(made.status, 201, made.body);
      const authz = (JSON.parse(made.body) as { authorizations: string[] }).authorizations[0]!;
      assert.equal((await post(keyA, authz, { status: 'deactivated' }, a.kid)).status, 200);
    }
    const stillThere = await post(keyB, keptUrl, '', b.kid);
    assert.equal(stillThere.status, 200, stillThere.body);
    assert.equal(JSON.parse(stillThere.body).status, 'pending');

    // Three open orders are A's limit: the fourth is rateLimited.
    for (let index = 0; index < 3; index += 1) assert.equal((await order(keyA, a.kid, `open${index}.example.test`)).status, 201);
    const refused = await order(keyA, a.kid, 'one-more.example.test');
    const problem = assertProblem(refused, 'rateLimited', 429);
    assert.match(String(problem.detail), /^this account has 3 orders not finished yet/);
    assert.match(String(refused.headers['retry-after']), /^[1-9][0-9]*$/);
    assert.equal((await order(keyB, b.kid, 'b2.example.test')).status, 201, 'another account is not limited by it');
  });

  it('rate-limits new accounts per client address, with Retry-After, and writes nothing', async () => {
    // Two accounts were made above from this address; the limit is three a minute.
    const third = await newAccount(es256());
    assert.equal(third.answer.status, 201, third.answer.body);
    const commits = commitCount(db);
    const refused = (await newAccount(es256())).answer;
    const problem = assertProblem(refused, 'rateLimited', 429);
    assert.match(String(problem.detail), /^this address registered 3 accounts in the last minute; try again in [0-9]+ s$/);
    assert.match(String(refused.headers['retry-after']), /^[1-9][0-9]*$/);
    assert.equal(commitCount(db), commits, 'no commit');
    assert.ok(!logged.some((line) => / 5\d\d /.test(line)), logged.join('\n'));
  });
});

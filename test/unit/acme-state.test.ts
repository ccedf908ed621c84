/**
 * The ACME handlers called in process on a real CA directory: the state of orders, authorizations
 * and challenges (expiry, one validation at a time, what a late result may change), accounts and
 * their keys, and the conformance details of signed requests.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { KeyObject, X509Certificate, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AcmeView } from '../../src/ca/acme/view.js';
import { readAcmePolicy } from '../../src/ca/acme/policy.js';
import { AcmeProblem, type ValidationTargets } from '../../src/ca/acme/types.js';
import { initCa } from '../../src/ca/authorities/init-ca.js';
import { openCaDirectory, type CaStore } from '../../src/ca/ca-directory.js';
import { issueAcmeCertificate } from '../../src/ca/acme/issue.js';
import { createCsr } from '../../src/pki/csr.js';
import { jwkThumbprint, publicJwk } from '../../src/pki/jws.js';
import { generateKeyPair } from '../../src/pki/keys.js';
import { accountKeys, accountResource, keyChange, newAccount } from '../../src/serve/acme/accounts.js';
import type { AcmeContext, Order } from '../../src/serve/acme/context.js';
import { revokeCert } from '../../src/serve/acme/certificates.js';
import { GroupCommitter } from '../../src/serve/acme/group-commit.js';
import { DEFAULT_LIMITS, PerMinute, ValidationSlots } from '../../src/serve/acme/limits.js';
import { NonceStore, type Reply } from '../../src/serve/acme/http.js';
import { authzResource, challengeResource, finalize, newOrder, orderResource } from '../../src/serve/acme/orders.js';
import { validateChallenge } from '../../src/serve/acme/validate.js';
import { signJws } from '../helpers/jws.js';

const BASE = 'https://acme.test:4443';
const u = (path: string): string => `${BASE}/acme/${path}`;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('ACME state, in process', () => {
  let store: CaStore;
  let db: string;
  let ctx: AcmeContext;
  let http: Server;
  /** What the http-01 responder does with a request for a token. */
  let answer: (token: string, response: ServerResponse) => void = (_token, response) => response.writeHead(404).end();
  const git = (...args: string[]) => execFileSync('git', ['-C', db, ...args], { encoding: 'utf8' }).trim();
  const commits = () => Number(git('rev-list', '--count', 'HEAD'));

  const jws = (key: KeyObject, url: string, payload: unknown, header: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify(signJws(key, { url, ...header }, payload)));
  const jwkOf = (key: KeyObject) => createPublicKey(key).export({ format: 'jwk' });
  /** A signed body for `url`, by kid (an account id) or by jwk. */
  const signed = (key: KeyObject, url: string, payload: unknown, account?: string, extra: Record<string, unknown> = {}): Buffer =>
    jws(key, url, payload, { nonce: ctx.nonces.next(), ...(account ? { kid: u(`acct/${account}`) } : { jwk: jwkOf(key) }), ...extra });
  async function problemOf(promise: Promise<unknown>): Promise<{ type: string; detail: string; status: number }> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof AcmeProblem, String(error));
      return { type: error.type, detail: error.message, status: error.status };
    }
    assert.fail('expected an ACME problem');
  }
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  async function register(key: KeyObject, payload: unknown = {}): Promise<string> {
    const reply = await newAccount(ctx, signed(key, u('new-account'), payload), u('new-account'));
    assert.equal(reply.status, 201);
    return String(reply.headers?.Location).split('/').pop()!;
  }
  async function order(key: KeyObject, account: string, names: string[]): Promise<Order> {
    const reply = await newOrder(ctx, signed(key, u('new-order'), { identifiers: names.map((value) => ({ type: 'dns', value })) }, account), u('new-order'));
    return ctx.orders.get(String(reply.headers?.Location).split('/').pop()!)!;
  }
  const body = (reply: Reply) => reply.body as Record<string, unknown>;
  async function settled(): Promise<void> {
    await Promise.allSettled([...ctx.pending]);
  }

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certified-acme-state-'));
    dirs.push(dir);
    db = join(dir, 'etc/ssl');
    store = openCaDirectory(db, { lockTimeoutMs: 10_000 });
    await initCa(store, { subject: { CN: 'ACME State CA' }, key: { type: 'ecdsa', curve: 'P-256' }, days: 400, rootPassword: 'root password', commandLine: 'certified init' });
    writeFileSync(join(db, 'certificates.yaml'), 'acme:\n  allow: [.example.test, 127.0.0.0/8]\n');
    git('add', 'certificates.yaml');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-q', '-m', 'ACME policy');
    http = createHttpServer((request: IncomingMessage, response: ServerResponse) => answer((request.url ?? '').split('/').pop() ?? '', response));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    ctx = {
      store,
      policy: await readAcmePolicy(store),
      targets: { httpPort: (http.address() as AddressInfo).port, tlsPort: 1, resolve: [{ pattern: '*.example.test', address: '127.0.0.1' }], timeoutMs: 5000 },
      askPassword: async () => undefined,
      commandLine: 'certified serve --acme-listen 127.0.0.1:4443',
      base: BASE,
      nonces: new NonceStore(),
      keys: new Map(),
      orders: new Map(),
      authorizations: new Map(),
      challenges: new Map(),
      pending: new Set(),
      committer: new GroupCommitter(store),
      limits: { ...DEFAULT_LIMITS, newAccountsPerMinute: 1000 },
      validations: new ValidationSlots(DEFAULT_LIMITS.validations, DEFAULT_LIMITS.validationsPerAccount),
      newAccounts: new PerMinute(1000),
      log: () => undefined,
      view: new AcmeView(store),
    };
  });
  after(() => {
    http.closeAllConnections();
    http.close();
  });

  describe('expiry', () => {
    it('turns a pending order past its expires invalid and its authorizations expired, and starts no validation', async () => {
      const key = ec();
      const account = await register(key);
      const made = await order(key, account, ['old.example.test']);
      const authz = made.authorizations[0]!;
      made.expires = authz.expires = new Date(Date.now() - 1000);
      const read = body(await orderResource(ctx, signed(key, u(`order/${made.id}`), '', account), u(`order/${made.id}`), made.id));
      assert.equal(read.status, 'invalid');
      assert.match(String((read.error as { detail: string }).detail), /^the order expired at /);
      const readAuthz = body(await authzResource(ctx, signed(key, u(`authz/${authz.id}`), '', account), u(`authz/${authz.id}`), authz.id));
      assert.equal(readAuthz.status, 'expired');
      const challenge = authz.challenges[0]!;
      const refused = await problemOf(challengeResource(ctx, signed(key, u(`chall/${challenge.id}`), {}, account), u(`chall/${challenge.id}`), challenge.id));
      assert.equal(refused.type, 'malformed');
      assert.match(refused.detail, /^the authorization expired at .*; make a new order$/);
      assert.equal(challenge.status, 'pending');
      assert.equal(ctx.pending.size, 0, 'no validation started');
    });

    it('refuses to finalize a ready order past its expires', async () => {
      const key = ec();
      const account = await register(key);
      const made = await order(key, account, ['ready.example.test']);
      made.status = 'ready';
      for (const authz of made.authorizations) authz.status = 'valid';
      made.expires = new Date(Date.now() - 1000);
      const before = commits();
      const refused = await problemOf(finalize(ctx, signed(key, u(`order/${made.id}/finalize`), { csr: 'AAAA' }, account), u(`order/${made.id}/finalize`), made.id));
      assert.equal(refused.type, 'orderNotReady');
      assert.match(refused.detail, /^the order is invalid, not ready: the order expired at /);
      assert.equal(made.status, 'invalid');
      assert.equal(commits(), before);
    });
  });

  describe('one validation per authorization', () => {
    it('refuses a second challenge while the first is processing, and a late failure leaves a deactivated authorization alone', async () => {
      const key = ec();
      const account = await register(key);
      const made = await order(key, account, ['two.example.test']);
      const authz = made.authorizations[0]!;
      const [first, second] = authz.challenges;
      assert.ok(first && second, 'two challenges offered');
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      answer = (_token, response) => void held.then(() => response.writeHead(404).end());
      await challengeResource(ctx, signed(key, u(`chall/${first.id}`), {}, account), u(`chall/${first.id}`), first.id);
      assert.equal(first.status, 'processing');
      const refused = await problemOf(challengeResource(ctx, signed(key, u(`chall/${second.id}`), {}, account), u(`chall/${second.id}`), second.id));
      assert.deepEqual(refused, { type: 'malformed', detail: 'another challenge of this authorization is being validated; wait for its result', status: 409 });
      assert.equal(second.status, 'pending');
      // Deactivated while the validation runs: its failure must not turn it invalid.
      await authzResource(ctx, signed(key, u(`authz/${authz.id}`), { status: 'deactivated' }, account), u(`authz/${authz.id}`), authz.id);
      release();
      await settled();
      assert.equal(first.status, 'invalid');
      assert.equal(authz.status, 'deactivated');
      assert.equal(made.status, 'invalid');
    });

    it('keeps an issued order valid when one of its authorizations is deactivated, and deactivates only once', async () => {
      const key = ec();
      const account = await register(key);
      const made = await order(key, account, ['done.example.test']);
      const authz = made.authorizations[0]!;
      authz.status = 'valid';
      made.status = 'valid';
      made.certificate = u('cert/01');
      await authzResource(ctx, signed(key, u(`authz/${authz.id}`), { status: 'deactivated' }, account), u(`authz/${authz.id}`), authz.id);
      assert.equal(authz.status, 'deactivated');
      assert.equal(made.status, 'valid', 'an issued order stays valid');
      const again = await problemOf(authzResource(ctx, signed(key, u(`authz/${authz.id}`), { status: 'deactivated' }, account), u(`authz/${authz.id}`), authz.id));
      assert.equal(again.type, 'malformed');
      assert.equal(again.status, 403);
    });

    it('does not make a valid authorization of a deactivated one when a validation succeeds late', async () => {
      const key = ec();
      const account = await register(key);
      const made = await order(key, account, ['late.example.test']);
      const authz = made.authorizations[0]!;
      const challenge = authz.challenges.find((each) => each.type === 'http-01')!;
      const keyAuthorization = `${challenge.token}.${jwkThumbprint(createPublicKey(key))}`;
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      answer = (_token, response) => void held.then(() => response.writeHead(200).end(keyAuthorization));
      await challengeResource(ctx, signed(key, u(`chall/${challenge.id}`), {}, account), u(`chall/${challenge.id}`), challenge.id);
      await authzResource(ctx, signed(key, u(`authz/${authz.id}`), { status: 'deactivated' }, account), u(`authz/${authz.id}`), authz.id);
      release();
      await settled();
      assert.equal(challenge.status, 'valid');
      assert.equal(authz.status, 'deactivated');
      assert.equal(made.status, 'invalid');
    });
  });

  describe('account keys', () => {
    /** Changes the account's key from `oldKey` to `newKey`. */
    async function changeKey(account: string, oldKey: KeyObject, newKey: KeyObject, innerHeader: Record<string, unknown> = {}): Promise<Reply> {
      const inner = JSON.parse(jws(newKey, u('key-change'), { account: u(`acct/${account}`), oldKey: jwkOf(oldKey) }, { jwk: jwkOf(newKey), ...innerHeader }).toString('utf8')) as unknown;
      return keyChange(ctx, signed(oldKey, u('key-change'), inner, account), u('key-change'));
    }

    it('refuses to register the current or an earlier key of a deactivated account, also after a restart', async () => {
      const [first, second] = [ec(), ec()];
      const account = await register(first);
      assert.equal((await changeKey(account, first, second)).status, 200);
      const deactivated = await accountResource(ctx, signed(second, u(`acct/${account}`), { status: 'deactivated' }, account), u(`acct/${account}`), account);
      assert.equal(body(deactivated).status, 'deactivated');
      const restarted = { ...ctx, keys: await accountKeys(store) };
      for (const [key, context] of [[second, ctx], [first, ctx], [second, restarted], [first, restarted]] as const) {
        const before = commits();
        const refused = await problemOf(newAccount(context, signed(key, u('new-account'), {}), u('new-account')));
        assert.equal(refused.type, 'unauthorized');
        assert.match(refused.detail, /^the account of this key is deactivated$/);
        assert.equal(commits(), before, 'nothing committed');
      }
    });

    it('refuses to register an earlier key of a valid account, also after a restart', async () => {
      const [first, second] = [ec(), ec()];
      const account = await register(first);
      await changeKey(account, first, second);
      for (const context of [ctx, { ...ctx, keys: await accountKeys(store) }]) {
        const refused = await problemOf(newAccount(context, signed(first, u('new-account'), {}), u('new-account')));
        assert.deepEqual([refused.type, refused.detail], ['unauthorized', 'an account was registered with this key and has changed keys since']);
        const found = await newAccount(context, signed(second, u('new-account'), { onlyReturnExisting: true }), u('new-account'));
        assert.equal(found.status, 200);
        assert.equal(found.headers?.Location, u(`acct/${account}`));
      }
    });
  });

  describe('the CSR of a finalize', () => {
    const account = { account: 'acct', order: 'order', days: 30, askPassword: async () => undefined, commandLine: 'certified serve' };
    async function csrOf(subject: Record<string, string>, names: string[], keys?: Awaited<ReturnType<typeof generateKeyPair>>): Promise<Uint8Array> {
      const pem = await createCsr({ subject, sans: names.map((value) => ({ type: 'dns' as const, value })), keyPair: keys ?? (await generateKeyPair({ type: 'ecdsa', curve: 'P-256' })) });
      return new Uint8Array(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
    }
    const long = `${'a'.repeat(60)}.example.test`;
    const cnOf = (pem: string) => (new X509Certificate(pem).subject ?? '').split('\n').find((line) => line.startsWith('CN='))?.slice(3);

    it('makes the CN the first name of at most 64 characters, in canonical spelling, or leaves it out', async () => {
      const cases: [subject: Record<string, string>, names: string[], cn: string | undefined][] = [
        [{}, [long, 'short.example.test'], 'short.example.test'],
        [{ CN: 'WWW.Example.TEST' }, [long, 'www.example.test'], 'www.example.test'],
        [{}, [long], undefined],
      ];
      for (const [subject, names, cn] of cases) {
        const issued = await issueAcmeCertificate(store, { ...account, csr: await csrOf(subject, names), identifiers: names.map((value) => ({ type: 'dns', value: value.toLowerCase() })), accountKeys: [] });
        assert.equal(cnOf(issued.certificate.pem), cn, JSON.stringify(subject));
        assert.ok(new X509Certificate(issued.certificate.pem).subjectAltName?.includes(`DNS:${names[0]!.toLowerCase()}`));
      }
    });

    it("refuses the account's current or earlier key as the certificate's key, writing nothing", async () => {
      const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
      const jwk = publicJwk(createPublicKey(keys.privateKey));
      for (const accountKeys of [[jwk], [jwkOf(ec()), jwk]]) {
        const before = commits();
        const refused = await problemOf(issueAcmeCertificate(store, { ...account, csr: await csrOf({}, ['self.example.test'], keys), identifiers: [{ type: 'dns', value: 'self.example.test' }], accountKeys }));
        assert.deepEqual([refused.type, refused.detail], ['badCSR', "the CSR's key is the account's key; make the certificate a key of its own"]);
        assert.equal(commits(), before);
      }
    });
  });

  describe('contacts', () => {
    it('refuses contacts with control, bidi or other non-ASCII characters, writing nothing', async () => {
      for (const contact of ['mailto:a\u001b[31mb@example.test', 'mailto:admin\u202e@example.test', 'mailto:ops\u0085@example.test', 'mailto:bücher@example.test']) {
        const before = commits();
        const refused = await problemOf(newAccount(ctx, signed(ec(), u('new-account'), { contact: [contact] }), u('new-account')));
        assert.equal(refused.type, 'invalidContact');
        assert.match(refused.detail, /^"mailto:[\x20-\x7e]+" is not a single e-mail address in printable ASCII$/);
        assert.equal(commits(), before);
      }
    });
  });

  describe('conformance of signed requests', () => {
    it('refuses a protected header with crit, and an inner key-change JWS with kid', async () => {
      const crit = await problemOf(newAccount(ctx, signed(ec(), u('new-account'), {}, undefined, { crit: ['exp'], exp: 1 }), u('new-account')));
      assert.deepEqual([crit.type, crit.detail], ['malformed', 'the protected header has "crit", and no JWS extension is understood here']);
      const [first, second] = [ec(), ec()];
      const account = await register(first);
      const inner = JSON.parse(jws(second, u('key-change'), { account: u(`acct/${account}`), oldKey: jwkOf(first) }, { jwk: jwkOf(second), kid: u(`acct/${account}`) }).toString('utf8')) as unknown;
      const before = commits();
      const kid = await problemOf(keyChange(ctx, signed(first, u('key-change'), inner, account), u('key-change')));
      assert.deepEqual([kid.type, kid.detail], ['malformed', 'the inner JWS must carry the new key as jwk, not a kid']);
      assert.equal(commits(), before);
    });

    it('calls a request signed with a replaced key of another type unauthorized (403), and answers unauthorized with 403 throughout', async () => {
      const first = ec();
      const second = generateKeyPairSync('ed25519').privateKey;
      const account = await register(first);
      const inner = JSON.parse(jws(second, u('key-change'), { account: u(`acct/${account}`), oldKey: jwkOf(first) }, { jwk: jwkOf(second) }).toString('utf8')) as unknown;
      assert.equal((await keyChange(ctx, signed(first, u('key-change'), inner, account), u('key-change'))).status, 200);
      const old = await problemOf(newOrder(ctx, signed(first, u('new-order'), { identifiers: [{ type: 'dns', value: 'x.example.test' }] }, account), u('new-order')));
      assert.deepEqual(old, { type: 'unauthorized', detail: 'the request is signed with a key this account has replaced', status: 403 });
      const wrongUrl = await problemOf(newOrder(ctx, signed(second, u('new-account'), { identifiers: [] }, account), u('new-order')));
      assert.deepEqual([wrongUrl.type, wrongUrl.status], ['unauthorized', 403]);
      const other = await register(ec());
      const foreign = await problemOf(accountResource(ctx, signed(second, u(`acct/${other}`), '', account), u(`acct/${other}`), other));
      assert.deepEqual([foreign.type, foreign.status], ['unauthorized', 403]);
    });

    it('lets an account holding valid authorizations for every name revoke a certificate another account ordered', async () => {
      const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
      const pem = await createCsr({ subject: {}, sans: [{ type: 'dns', value: 'shared.example.test' }, { type: 'dns', value: '*.shared.example.test' }], keyPair: keys });
      const issued = await issueAcmeCertificate(store, {
        account: 'someone-else', order: 'o', days: 30, askPassword: async () => undefined, commandLine: 'certified serve', accountKeys: [],
        csr: new Uint8Array(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')),
        identifiers: [{ type: 'dns', value: 'shared.example.test' }, { type: 'dns', value: '*.shared.example.test' }],
      });
      const der = new X509Certificate(issued.certificate.pem).raw.toString('base64url');
      const key = ec();
      const holder = await register(key);
      const revoke = () => revokeCert(ctx, signed(key, u('revoke-cert'), { certificate: der }, holder), u('revoke-cert'));
      // One of the two names only: refused.
      const made = await order(key, holder, ['shared.example.test', '*.shared.example.test']);
      made.authorizations[0]!.status = 'valid';
      const partly = await problemOf(revoke());
      assert.deepEqual([partly.type, partly.status], ['unauthorized', 403]);
      for (const authz of made.authorizations) authz.status = 'valid';
      const before = commits();
      assert.equal((await revoke()).status, 200);
      assert.equal(commits(), before + 1);
      assert.match(git('log', '-1', '--format=%s'), /^Revoke /);
    });
  });

});

describe('http-01 redirects', () => {
  const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
  const KEY_AUTHORIZATION = `${TOKEN}.thumbprint`;
  let http: Server;
  let targets: ValidationTargets;
  /** "host path" -> what it answers: a redirect ("> URL"), or a status and body ("404 text"). */
  let routes: Record<string, string> = {};
  const seen: string[] = [];
  const outcome = async (identifier: string, redirectAllow?: string[]): Promise<'valid' | string> => {
    try {
      await validateChallenge('http-01', { type: identifier.includes(':') || /^[0-9.]+$/.test(identifier) ? 'ip' : 'dns', value: identifier }, TOKEN, KEY_AUTHORIZATION, { ...targets, ...(redirectAllow ? { redirectAllow } : {}) });
      return 'valid';
    } catch (error) {
      assert.ok(error instanceof AcmeProblem, String(error));
      return `${error.type}: ${error.message}`;
    }
  };
  const path = `/.well-known/acme-challenge/${TOKEN}`;

  before(async () => {
    http = createHttpServer((request, response) => {
      const where = `${request.headers.host} ${request.url}`;
      seen.push(where);
      const route = routes[where];
      if (route === undefined) response.writeHead(404).end('nothing here');
      else if (route.startsWith('> ')) response.writeHead(302, { Location: route.slice(2) }).end();
      else response.writeHead(Number(route.slice(0, 3))).end(route.slice(4));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    targets = { httpPort: (http.address() as AddressInfo).port, tlsPort: 1, resolve: [{ pattern: '*.example.test', address: '127.0.0.1' }, { pattern: '*.inside.corp', address: '127.0.0.1' }, { pattern: '*.closed.test', address: '127.0.0.2' }], timeoutMs: 5000 };
  });
  after(() => {
    http.closeAllConnections();
    http.close();
  });

  it('follows a redirect on the same host and to a name the allow list covers', async () => {
    routes = { [`a.example.test ${path}`]: '> /moved', 'a.example.test /moved': `200 ${KEY_AUTHORIZATION}` };
    assert.equal(await outcome('a.example.test'), 'valid');
    routes = { [`a.example.test ${path}`]: '> http://b.example.test/there', 'b.example.test /there': `200 ${KEY_AUTHORIZATION}` };
    assert.equal(await outcome('a.example.test', ['.example.test']), 'valid');
  });

  it('refuses a redirect to a host outside the allow list (loopback, link-local, internal names) without connecting to it', async () => {
    for (const location of ['http://secret.inside.corp/admin', 'http://127.0.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://b.example.test/there']) {
      routes = { [`a.example.test ${path}`]: `> ${location}`, 'secret.inside.corp /admin': '200 secret' };
      seen.length = 0;
      assert.equal(await outcome('a.example.test', location.includes('example.test') ? ['a.example.test'] : ['.example.test']), `incorrectResponse: http://a.example.test${path} redirected to "${location}", which is neither the same host nor a name the ACME policy allows`);
      assert.deepEqual(seen, [`a.example.test ${path}`], 'only the identifier was asked');
    }
  });

  it('says nothing of the status, size or connection of a host behind a redirect', async () => {
    const generic = `incorrectResponse: the redirects from http://a.example.test${path} did not lead to the key authorization of the challenge`;
    for (const target of ['404 not found here', '500 a stack trace', `200 ${'x'.repeat(100)}`, `200 ${'y'.repeat(9000)}`]) {
      routes = { [`a.example.test ${path}`]: '> http://b.example.test/there', 'b.example.test /there': target };
      assert.equal(await outcome('a.example.test', ['.example.test']), generic, target.slice(0, 20));
    }
    // A second hop refused, and a host that does not answer: the same words.
    routes = { [`a.example.test ${path}`]: '> http://b.example.test/there', 'b.example.test /there': '> http://secret.inside.corp/admin' };
    assert.equal(await outcome('a.example.test', ['.example.test']), generic);
    routes = { [`a.example.test ${path}`]: '> http://x.closed.test/there' };
    assert.equal(await outcome('a.example.test', ['.example.test', '.closed.test']), generic);
  });
});

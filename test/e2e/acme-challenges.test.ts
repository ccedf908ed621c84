/**
 * The ACME server run as `certified serve --acme-listen` and driven by acme-client: dns-01 through
 * a test DNS server (a name and a wildcard), tls-alpn-01 against a TLS server here, External
 * Account Binding, account keys of every accepted kind with a key change, policy commits that take
 * effect while the server runs, and a restart that keeps accounts and forgets orders. One CA and
 * one server (started twice) for the whole file.
 */
import acme from 'acme-client';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, baseEnv, freshCa, git, openssl, run } from '../helpers/cli.js';
import { DnsResponder } from '../helpers/dns-responder.js';
import { freePort } from '../helpers/serve.js';
import { commitAcmePolicy, httpsRequest, type Answer } from '../helpers/acme.js';
import { signJws } from '../helpers/jws.js';

const CA_PASSWORD = 'intermediate secret for acme challenges';
const policy = (allow: string, eab = false) => `acme:\n  allow: [${allow}]\n  days: 30\n${eab ? '  eab: true\n' : ''}`;
const ALLOW = '.example.test, 127.0.0.0/8, gone.example.net';

describe('the ACME server end to end: dns-01, tls-alpn-01, EAB, account keys, policy commits, restarts', () => {
  let cwd: string;
  let db: string;
  let rootPem: string;
  let port: number;
  let directoryUrl: string;
  let child: ChildProcess | undefined;
  let log = '';
  let dns: DnsResponder;
  let alpnServer: tls.Server;
  let alpnPort: number;
  const txt = new Map<string, string[]>();
  const alpnContexts = new Map<string, tls.SecureContext>();
  /** Accounts made before the restart: one whose key changed, one Ed25519. */
  const kept: { changedUrl?: string; changedPem?: string; edUrl?: string; ed?: KeyObject } = {};

  const head = () => git(db, ['rev-parse', 'HEAD']).trim();
  const commits = () => Number(git(db, ['rev-list', '--count', 'HEAD']).trim());
  const newClient = (accountKey: string | Buffer, extra: Partial<acme.ClientOptions> = {}) =>
    new acme.Client({ directoryUrl, accountKey, backoffMin: 50, backoffMax: 500, backoffAttempts: 40, ...extra });

  const request = (method: string, url: string, body?: string): Promise<Answer> => httpsRequest(method, url, { ca: rootPem, ...(body === undefined ? {} : { body }) });
  const directory = async () => JSON.parse((await request('GET', directoryUrl)).body) as { newNonce: string; newAccount: string; newOrder: string; keyChange: string; meta: Record<string, unknown> };
  // From the URL, not the directory: a request must not make the server read its policy first.
  const nonce = async () => String((await request('HEAD', directoryUrl.replace(/directory$/, 'new-nonce'))).headers['replay-nonce']);
  const jwkOf = (key: KeyObject) => createPublicKey(key).export({ format: 'jwk' });
  const b64 = (value: unknown) => (value === '' ? '' : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url'));

  /** POSTs `payload` ('' for POST-as-GET) signed by `key`, naming the account by kid or carrying the jwk. */
  async function post(key: KeyObject, url: string, payload: unknown, account?: string): Promise<Answer> {
    const header = { nonce: await nonce(), url, ...(account ? { kid: account } : { jwk: jwkOf(key) }) };
    return request('POST', url, JSON.stringify(signJws(key, header, payload)));
  }
  function assertProblem(answer: Answer, type: string, status = 400): Record<string, unknown> {
    assert.equal(answer.headers['content-type'], 'application/problem+json', answer.body);
    const problem = JSON.parse(answer.body) as Record<string, unknown>;
    assert.equal(problem.type, `urn:ietf:params:acme:error:${type}`, answer.body);
    assert.equal(answer.status, status, answer.body);
    return problem;
  }

  async function startServer(): Promise<void> {
    log = '';
    child = spawn(
      process.execPath,
      [BIN, 'serve', '--acme-listen', `127.0.0.1:${port}`, '--acme-dns', `127.0.0.1:${dns.port}`, '--acme-tls-port', String(alpnPort), '--acme-http-port', '9'],
      { cwd, env: baseEnv({ CERTIFIED_CA_PASSWORD: CA_PASSWORD }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr!.on('data', (chunk) => (log += chunk));
    for (let i = 0; i < 300 && !log.includes('Serving ACME') && child.exitCode === null; i++) await sleep(100);
    assert.match(log, /Serving ACME at https:\/\/127\.0\.0\.1:\d+\/acme\/directory\./);
  }
  async function killServer(signal: NodeJS.Signals): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  }
  async function commitPolicy(text: string, message: string): Promise<void> {
    commitAcmePolicy(db, text, message);
  }

  /** Proves every authorization of `order` with `type`. */
  async function prove(client: acme.Client, order: acme.Order, type: 'dns-01' | 'tls-alpn-01'): Promise<void> {
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.wildcard) assert.deepEqual(authz.challenges.map((each) => each.type), ['dns-01'], 'a wildcard is offered dns-01 only');
      const challenge = authz.challenges.find((each) => each.type === type);
      assert.ok(challenge, `${type} offered for ${authz.identifier.value}`);
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      if (type === 'dns-01') {
        const name = `_acme-challenge.${authz.identifier.value}`;
        txt.set(name, [...(txt.get(name) ?? []), keyAuthorization]);
        dns.set(name, { txt: txt.get(name)! });
      } else {
        const [key, certificate] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
        // An IP address is asked for by its reverse-DNS name as SNI (RFC 8738).
        const sni = authz.identifier.type === 'ip' ? `${authz.identifier.value.split('.').reverse().join('.')}.in-addr.arpa` : authz.identifier.value;
        alpnContexts.set(sni, tls.createSecureContext({ key, cert: certificate }));
      }
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    }
  }

  /** Proves every authorization of `order` with `type`, then finalizes with a fresh key and returns the PEM chain. */
  async function certify(client: acme.Client, order: acme.Order, type: 'dns-01' | 'tls-alpn-01', names: string[]): Promise<string> {
    await prove(client, order, type);
    const [, csr] = await acme.crypto.createCsr({ altNames: names });
    return client.getCertificate(await client.finalizeOrder(order, csr));
  }

  /** openssl verify of the leaf against the root, its SANs, and its record and commit in the CA. */
  function assertIssued(pem: string, sans: RegExp, account: string): string {
    const leaf = join(cwd, 'leaf.pem');
    const chain = join(cwd, 'chain.pem');
    writeFileSync(leaf, pem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
    writeFileSync(chain, pem);
    const verified = openssl(['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', chain, '-purpose', 'sslserver', leaf]);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(openssl(['x509', '-in', leaf, '-noout', '-ext', 'subjectAltName']).stdout, sans);
    const serial = openssl(['x509', '-in', leaf, '-noout', '-serial']).stdout.trim().split('=')[1]!.toLowerCase().replace(/^(00)+/, '');
    const record = JSON.parse(readFileSync(join(db, `records/ca/${serial}.json`), 'utf8'));
    assert.equal(record.acme.account, account);
    assert.equal(record.name, `acme-${serial}`);
    assert.deepEqual(git(db, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort(), [`certs/acme-${serial}.chain.crt`, `certs/acme-${serial}.crt`, `records/ca/${serial}.json`]);
    assert.equal(git(db, ['status', '--porcelain']), '');
    return serial;
  }

  before(async () => {
    ({ cwd, db } = await freshCa(['--intermediate-password', CA_PASSWORD]));
    await commitPolicy(policy(ALLOW), 'ACME policy');
    rootPem = readFileSync(join(db, 'certs/root-ca.crt'), 'utf8');
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: rootPem });
    dns = await DnsResponder.start();
    alpnServer = tls.createServer({
      ALPNProtocols: ['acme-tls/1'],
      SNICallback: (name, done) => done(null, alpnContexts.get(name)),
    });
    alpnServer.on('secureConnection', (socket) => socket.end());
    alpnServer.on('tlsClientError', () => undefined);
    alpnPort = await freePort();
    await new Promise<void>((resolve) => alpnServer.listen(alpnPort, '127.0.0.1', resolve));
    port = await freePort();
    directoryUrl = `https://127.0.0.1:${port}/acme/directory`;
    await startServer();
  });
  after(async () => {
    await killServer('SIGTERM');
    assert.doesNotMatch(log, /internal error/);
    alpnServer?.close();
    await dns?.close();
  });

  it('issues over dns-01 for a name and a wildcard, the TXT records served by the --acme-dns server', async () => {
    const client = newClient(await acme.crypto.createPrivateEcdsaKey());
    await client.createAccount({ termsOfServiceAgreed: true });
    const account = client.getAccountUrl().split('/').pop()!;
    // The wildcard and its base name: two authorizations of one name, two TXT records side by side.
    const names = ['dns.example.test', '*.wild.example.test', 'wild.example.test'];
    const order = await client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })) });
    const before = commits();
    const pem = await certify(client, order, 'dns-01', names);
    assert.equal(commits(), before + 1, 'one commit for the certificate');
    assert.equal(txt.get('_acme-challenge.wild.example.test')?.length, 2);
    assertIssued(pem, /DNS:dns\.example\.test, DNS:\*\.wild\.example\.test, DNS:wild\.example\.test/, account);
    assert.ok(dns.queries.includes('_acme-challenge.wild.example.test'), dns.queries.join(' '));
    assert.ok(dns.queries.includes('_acme-challenge.dns.example.test'), dns.queries.join(' '));
    assert.match(git(db, ['log', '-1', '--format=%B']), /^Issue acme-[0-9a-f]+ over ACME/);
  });

  it('issues over tls-alpn-01 against a TLS server presenting acme-client’s certificate, its address from --acme-dns', async () => {
    dns.set('alpn.example.test', { a: ['127.0.0.1'] });
    const client = newClient(await acme.crypto.createPrivateKey());
    await client.createAccount({ termsOfServiceAgreed: true });
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'alpn.example.test' }] });
    const pem = await certify(client, order, 'tls-alpn-01', ['alpn.example.test']);
    assertIssued(pem, /DNS:alpn\.example\.test/, client.getAccountUrl().split('/').pop()!);

    // An IP address (RFC 8738) over tls-alpn-01.
    const ipOrder = await client.createOrder({ identifiers: [{ type: 'ip', value: '127.0.0.1' }] });
    assertIssued(await certify(client, ipOrder, 'tls-alpn-01', ['127.0.0.1']), /IP Address:127\.0\.0\.1/, client.getAccountUrl().split('/').pop()!);

    // Two finalizes of one ready order at once: one certificate, the other orderNotReady.
    const twice = await client.createOrder({ identifiers: [{ type: 'dns', value: 'alpn.example.test' }] });
    await prove(client, twice, 'tls-alpn-01');
    const [, csr] = await acme.crypto.createCsr({ altNames: ['alpn.example.test'] });
    const before = commits();
    const results = await Promise.allSettled([client.finalizeOrder(twice, csr), client.finalizeOrder(twice, csr)]);
    assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
    assert.match(String((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason), /the order is (processing|valid), not ready/);
    assert.equal(commits(), before + 1, 'one certificate for one order');
  });

  it('accepts ES384, RS256 and EdDSA account keys; a key change to a key another account holds is a 409 with its Location', async () => {
    const dir = await directory();
    // ES384 and RS256 through acme-client: an account, then an order signed with kid.
    for (const [what, key, kty] of [['ES384', await acme.crypto.createPrivateEcdsaKey('P-384'), 'EC'], ['RS256', await acme.crypto.createPrivateRsaKey(), 'RSA']] as const) {
      const client = newClient(key);
      await client.createAccount({ termsOfServiceAgreed: true });
      const record = JSON.parse(readFileSync(join(db, `acme/accounts/${client.getAccountUrl().split('/').pop()}.json`), 'utf8'));
      assert.equal(record.jwk.kty, kty, what);
      if (what === 'ES384') assert.equal(record.jwk.crv, 'P-384');
      const order = await client.createOrder({ identifiers: [{ type: 'dns', value: `${what.toLowerCase()}.example.test` }] });
      assert.equal(order.status, 'pending', what);
    }

    // EdDSA (Ed25519), which acme-client cannot sign: newAccount and POST-as-GET by hand.
    const ed = generateKeyPairSync('ed25519').privateKey;
    const created = await post(ed, dir.newAccount, { termsOfServiceAgreed: true });
    assert.equal(created.status, 201, created.body);
    const edUrl = String(created.headers.location);
    const edRecord = JSON.parse(readFileSync(join(db, `acme/accounts/${edUrl.split('/').pop()}.json`), 'utf8'));
    assert.deepEqual(edRecord.jwk, { kty: 'OKP', crv: 'Ed25519', x: jwkOf(ed).x });
    const read = await post(ed, edUrl, '', edUrl);
    assert.equal(read.status, 200, read.body);
    assert.equal(JSON.parse(read.body).status, 'valid');
    const edOrder = await post(ed, dir.newOrder, { identifiers: [{ type: 'dns', value: 'eddsa.example.test' }] }, edUrl);
    assert.equal(edOrder.status, 201, edOrder.body);

    // Key change: to the Ed25519 account's key, 409 with that account's URL and nothing written.
    const oldPem = await acme.crypto.createPrivateEcdsaKey();
    const client = newClient(oldPem);
    await client.createAccount({ termsOfServiceAgreed: true });
    const accountUrl = client.getAccountUrl();
    const oldKey = createPrivateKey(oldPem);
    const keyChange = async (newKey: KeyObject) => {
      const inner = signJws(newKey, { jwk: jwkOf(newKey), url: dir.keyChange }, { account: accountUrl, oldKey: jwkOf(oldKey) });
      return post(oldKey, dir.keyChange, inner, accountUrl);
    };
    const before = head();
    const conflict = await keyChange(ed);
    assertProblem(conflict, 'malformed', 409);
    assert.equal(conflict.headers.location, edUrl);
    assert.equal(head(), before, 'a refused key change writes nothing');

    // A real change through acme-client: the old key then opens nothing.
    const newPem = await acme.crypto.createPrivateEcdsaKey();
    await client.updateAccountKey(newPem);
    assert.equal(commits(), Number(git(db, ['rev-list', '--count', before]).trim()) + 1);
    assertProblem(await post(oldKey, accountUrl, '', accountUrl), 'unauthorized', 403);
    assertProblem(await post(oldKey, dir.newOrder, { identifiers: [{ type: 'dns', value: 'old.example.test' }] }, accountUrl), 'unauthorized', 403);
    assertProblem(await post(oldKey, dir.newAccount, { onlyReturnExisting: true }), 'accountDoesNotExist');
    assertProblem(await post(oldKey, dir.newAccount, { termsOfServiceAgreed: true }), 'unauthorized', 403);
    assert.equal(commits(), Number(git(db, ['rev-list', '--count', before]).trim()) + 1, 'the old key registers nothing');
    const again = newClient(newPem);
    await again.createAccount({ onlyReturnExisting: true });
    assert.equal(again.getAccountUrl(), accountUrl);
    Object.assign(kept, { changedUrl: accountUrl, changedPem: newPem, edUrl, ed });
    // The new key is now held: another account cannot take it either.
    const other = newClient(await acme.crypto.createPrivateEcdsaKey());
    await other.createAccount({ termsOfServiceAgreed: true });
    await assert.rejects(other.updateAccountKey(newPem));

    // Two accounts asking for one new key at the same moment: one gets it, the other a 409.
    const contested = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const signed = await Promise.all(
      [0, 1].map(async () => {
        const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
        const made = await post(key, dir.newAccount, { termsOfServiceAgreed: true });
        const kid = String(made.headers.location);
        const inner = signJws(contested, { jwk: jwkOf(contested), url: dir.keyChange }, { account: kid, oldKey: jwkOf(key) });
        return { kid, body: JSON.stringify(signJws(key, { nonce: await nonce(), url: dir.keyChange, kid }, inner)) };
      }),
    );
    const raced = head();
    const answers = await Promise.all(signed.map(({ body }) => request('POST', dir.keyChange, body)));
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 409], answers.map((answer) => answer.body).join('\n'));
    assert.equal(commits(), Number(git(db, ['rev-list', '--count', raced]).trim()) + 1, 'one key change committed');
    const holders = signed.filter(({ kid }) => JSON.parse(readFileSync(join(db, `acme/accounts/${kid.split('/').pop()}.json`), 'utf8')).jwk.x === jwkOf(contested).x);
    assert.equal(holders.length, 1);

    // One account changing to two new keys at the same moment: one change, and the other key opens nothing.
    const owner = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const ownerUrl = String((await post(owner, dir.newAccount, { termsOfServiceAgreed: true })).headers.location);
    const candidates = [0, 1].map(() => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const changes = await Promise.all(
      candidates.map(async (candidate) => {
        const inner = signJws(candidate, { jwk: jwkOf(candidate), url: dir.keyChange }, { account: ownerUrl, oldKey: jwkOf(owner) });
        return JSON.stringify(signJws(owner, { nonce: await nonce(), url: dir.keyChange, kid: ownerUrl }, inner));
      }),
    );
    const both = await Promise.all(changes.map((body) => request('POST', dir.keyChange, body)));
    assert.deepEqual(both.map((answer) => answer.status).sort(), [200, 409], both.map((answer) => answer.body).join('\n'));
    const winner = candidates[both.findIndex((answer) => answer.status === 200)]!;
    const loser = candidates[both.findIndex((answer) => answer.status !== 200)]!;
    assert.equal(JSON.parse(readFileSync(join(db, `acme/accounts/${ownerUrl.split('/').pop()}.json`), 'utf8')).jwk.x, jwkOf(winner).x);
    assertProblem(await post(loser, dir.newAccount, { onlyReturnExisting: true }), 'accountDoesNotExist');
    assert.equal((await post(winner, ownerUrl, '', ownerUrl)).status, 200);
  });

  it('takes a name out of acme.allow by a commit while the server runs: the next order, and a finalize, are refused', async () => {
    const clientKey = await acme.crypto.createPrivateEcdsaKey();
    const client = newClient(clientKey);
    await client.createAccount({ termsOfServiceAgreed: true });
    dns.set('gone.example.net', { a: ['127.0.0.1'] });
    const ready = await client.createOrder({ identifiers: [{ type: 'dns', value: 'gone.example.net' }] });
    for (const authz of await client.getAuthorizations(ready)) {
      const challenge = authz.challenges.find((each) => each.type === 'dns-01')!;
      dns.set(`_acme-challenge.${authz.identifier.value}`, { txt: [await client.getChallengeKeyAuthorization(challenge)] });
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    }
    assert.equal((await client.getOrder(ready)).status, 'ready');

    await commitPolicy(policy(ALLOW.replace(', gone.example.net', '')), 'ACME policy without gone.example.net');
    const before = head();
    await assert.rejects(client.createOrder({ identifiers: [{ type: 'dns', value: 'gone.example.net' }] }), /gone\.example\.net" is not allowed by the ACME policy/);
    // The order validated before the commit cannot be finalized either.
    const [, csr] = await acme.crypto.createCsr({ altNames: ['gone.example.net'] });
    await assert.rejects(client.finalizeOrder(ready, csr), /gone\.example\.net" is not allowed by the ACME policy/);
    assert.equal(head(), before, 'nothing issued');
    assert.equal((await client.getOrder(ready)).status, 'invalid');

    // days: 7 committed: the next certificate lives 7 days.
    await commitPolicy(policy(ALLOW).replace('days: 30', 'days: 7'), 'ACME certificates for 7 days');
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'days.example.test' }] });
    const serial = assertIssued(await certify(client, order, 'dns-01', ['days.example.test']), /DNS:days\.example\.test/, client.getAccountUrl().split('/').pop()!);
    const record = JSON.parse(readFileSync(join(db, `records/ca/${serial}.json`), 'utf8'));
    // (notBefore is a minute early for clocks behind ours.)
    assert.equal(Math.round((Date.parse(record.notAfter) - Date.parse(record.notBefore)) / 86_400_000), 7);
    await commitPolicy(policy(ALLOW), 'ACME policy back to 30 days');

    // dns-01 taken out of challenges: a dns-01 challenge offered before is no longer validated.
    const offered = await client.createOrder({ identifiers: [{ type: 'dns', value: 'nodns.example.test' }] });
    const [authz] = await client.getAuthorizations(offered);
    const challenge = authz!.challenges.find((each) => each.type === 'dns-01')!;
    dns.set('_acme-challenge.nodns.example.test', { txt: [await client.getChallengeKeyAuthorization(challenge)] });
    await commitPolicy(`${policy(ALLOW)}  challenges: [http-01, tls-alpn-01]\n`, 'ACME policy without dns-01');
    await assert.rejects(client.createOrder({ identifiers: [{ type: 'dns', value: '*.wild.example.test' }] }), /only dns-01 validates/);
    await client.completeChallenge(challenge);
    await assert.rejects(client.waitForValidStatus(challenge));
    const refused = (await client.getAuthorizations(offered))[0]!.challenges.find((each) => each.type === 'dns-01') as { status: string; error?: { type: string; detail: string } };
    assert.equal(refused.status, 'invalid');
    assert.equal(refused.error?.type, 'urn:ietf:params:acme:error:unauthorized');
    assert.match(refused.error?.detail ?? '', /no longer offers dns-01/);
    await commitPolicy(policy(ALLOW), 'ACME policy with every challenge');

    // A policy that does not parse: requests that need it are refused (serverInternal), nothing
    // else changes, and the next good commit serves again.
    await commitPolicy('acme:\n  allow: 5\n', 'A broken ACME policy');
    const broken = head();
    const key = createPrivateKey(await acme.crypto.createPrivateEcdsaKey());
    const dir = await directory();
    assert.equal(dir.meta.externalAccountRequired, false, 'the directory keeps the last good policy');
    assertProblem(await post(key, dir.newAccount, { termsOfServiceAgreed: true }), 'serverInternal', 500);
    // (By hand: acme-client answers a 500 by sending the same JWS again, whose nonce is spent.)
    const brokenOrder = await post(createPrivateKey(clientKey), dir.newOrder, { identifiers: [{ type: 'dns', value: 'broken.example.test' }] }, client.getAccountUrl());
    assert.match(String(assertProblem(brokenOrder, 'serverInternal', 500).detail), /^the ACME policy cannot be read; the server's log says why$/);
    assert.equal(head(), broken);
    await commitPolicy(policy(ALLOW), 'ACME policy repaired');
    assert.equal((await post(key, dir.newAccount, { termsOfServiceAgreed: true })).status, 201);
  });

  it('keeps accounts and forgets pending orders across a restart; the client starts over and succeeds', async () => {
    const keyPem = await acme.crypto.createPrivateEcdsaKey();
    const client = newClient(keyPem);
    await client.createAccount({ termsOfServiceAgreed: true });
    const accountUrl = client.getAccountUrl();
    const pending = await client.createOrder({ identifiers: [{ type: 'dns', value: 'restart.example.test' }] });
    const [authz] = await client.getAuthorizations(pending);

    await killServer('SIGKILL');
    assert.doesNotMatch(log, /internal error/);
    await startServer();
    assert.equal(git(db, ['status', '--porcelain']), '');

    const accountKey = createPrivateKey(keyPem);
    assertProblem(await post(accountKey, pending.url, '', accountUrl), 'malformed', 404);
    assertProblem(await post(accountKey, authz!.url, '', accountUrl), 'malformed', 404);
    assertProblem(await post(accountKey, pending.finalize, { csr: 'AA' }, accountUrl), 'malformed', 404);

    const again = newClient(keyPem);
    await again.createAccount({ onlyReturnExisting: true });
    assert.equal(again.getAccountUrl(), accountUrl);
    // The account whose key changed is found by its new key; the Ed25519 account still signs.
    const changed = newClient(kept.changedPem!);
    await changed.createAccount({ onlyReturnExisting: true });
    assert.equal(changed.getAccountUrl(), kept.changedUrl);
    const edRead = await post(kept.ed!, kept.edUrl!, '', kept.edUrl);
    assert.equal(edRead.status, 200, edRead.body);
    const order = await again.createOrder({ identifiers: [{ type: 'dns', value: 'restart.example.test' }] });
    const pem = await certify(again, order, 'dns-01', ['restart.example.test']);
    assertIssued(pem, /DNS:restart\.example\.test/, accountUrl.split('/').pop()!);
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  it('requires an External Account Binding once eab: true is committed; a binding serves one account', async () => {
    const made = await run(['acme', 'eab', '--name', 'ci'], { cwd, env: { CERTIFIED_CA_PASSWORD: CA_PASSWORD } });
    assert.equal(made.code, 0, made.stderr);
    const [, kid = '', hmacKey = ''] = /^Key ID: {3}(\S+)\nHMAC key: (\S+)\n$/.exec(made.stdout) ?? [];
    assert.ok(kid && hmacKey, made.stdout);
    const dir = await directory();
    assert.equal(dir.meta.externalAccountRequired, false);
    await commitPolicy(policy(ALLOW, true), 'ACME policy with EAB');

    // Without a binding: refused at once (the first request after the commit), nothing written.
    const before = head();
    const bare = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    assertProblem(await post(bare, dir.newAccount, { termsOfServiceAgreed: true }), 'externalAccountRequired');
    assert.equal((await directory()).meta.externalAccountRequired, true);
    await assert.rejects(newClient(await acme.crypto.createPrivateEcdsaKey()).createAccount({ termsOfServiceAgreed: true }), /External Account Binding/);
    assert.equal(head(), before);

    // With { kid, hmacKey }: the account, and the binding marked used, in one commit.
    const client = newClient(await acme.crypto.createPrivateEcdsaKey(), { externalAccountBinding: { kid, hmacKey } });
    await client.createAccount({ termsOfServiceAgreed: true });
    const account = client.getAccountUrl().split('/').pop()!;
    assert.equal(commits(), Number(git(db, ['rev-list', '--count', before]).trim()) + 1);
    assert.deepEqual(git(db, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort(), [`acme/accounts/${account}.json`, `acme/eab/${kid}.json`]);
    assert.equal(JSON.parse(readFileSync(join(db, `acme/eab/${kid}.json`), 'utf8')).status, 'used');
    assert.equal(JSON.parse(readFileSync(join(db, `acme/accounts/${account}.json`), 'utf8')).eabKid, kid);

    // The same kid for a second account: unauthorized, nothing written.
    const used = head();
    const second = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const binding = { protected: b64({ alg: 'HS256', kid, url: dir.newAccount }), payload: b64(jwkOf(second)) };
    const mac = createHmac('sha256', Buffer.from(hmacKey, 'base64url')).update(`${binding.protected}.${binding.payload}`).digest('base64url');
    assertProblem(await post(second, dir.newAccount, { termsOfServiceAgreed: true, externalAccountBinding: { ...binding, signature: mac } }), 'unauthorized', 403);
    await assert.rejects(newClient(await acme.crypto.createPrivateEcdsaKey(), { externalAccountBinding: { kid, hmacKey } }).createAccount({ termsOfServiceAgreed: true }));
    assert.equal(head(), used);
    assert.equal(git(db, ['status', '--porcelain']), '');

    // One fresh binding sent by two new accounts at the same moment: one account, one 403.
    const fresh = await run(['acme', 'eab', '--name', 'race', '--json'], { cwd, env: { CERTIFIED_CA_PASSWORD: CA_PASSWORD } });
    assert.equal(fresh.code, 0, fresh.stderr);
    const { kid: raceKid, hmacKey: raceKey } = JSON.parse(fresh.stdout) as { kid: string; hmacKey: string };
    const bodies = await Promise.all(
      [0, 1].map(async () => {
        const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
        const eab = { protected: b64({ alg: 'HS256', kid: raceKid, url: dir.newAccount }), payload: b64(jwkOf(key)) };
        const signature = createHmac('sha256', Buffer.from(raceKey, 'base64url')).update(`${eab.protected}.${eab.payload}`).digest('base64url');
        return JSON.stringify(signJws(key, { nonce: await nonce(), url: dir.newAccount, jwk: jwkOf(key) }, { termsOfServiceAgreed: true, externalAccountBinding: { ...eab, signature } }));
      }),
    );
    const raced = head();
    const answers = await Promise.all(bodies.map((body) => request('POST', dir.newAccount, body)));
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [201, 403], answers.map((answer) => answer.body).join('\n'));
    assert.equal(commits(), Number(git(db, ['rev-list', '--count', raced]).trim()) + 1);
    assert.equal(JSON.parse(readFileSync(join(db, `acme/eab/${raceKid}.json`), 'utf8')).accountId, String(answers.find((answer) => answer.status === 201)!.headers.location).split('/').pop());
  });
});

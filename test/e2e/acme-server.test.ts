/**
 * The ACME server judged by a real client (acme-client from npm) and by OpenSSL: accounts with
 * RS256 and ES256 keys, http-01 answered by a small HTTP server here, certificates verified and
 * revoked, and refusals as RFC 8555 problem documents that write nothing.
 */
import acme from 'acme-client';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { git, makeCa, openssl, run, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/serve.js';
import { commitAcmePolicy, startAcmeServer, type AcmeTestServer, httpsRequest, type Answer } from '../helpers/acme.js';
import { signJws } from '../helpers/jws.js';

const POLICY = `acme:
  allow: [.example.test, 127.0.0.0/8]
  days: 30
`;

describe('certified serve --acme-listen (an ACME server)', () => {
  let cwd: string;
  let db: string;
  let rootPem: string;
  let directoryUrl: string;
  let server: AcmeTestServer;
  let child: ChildProcess;
  const tokens = new Map<string, string>();

  const head = () => git(db, ['rev-parse', 'HEAD']).trim();
  const request = (method: string, url: string, body?: string | Buffer, contentType?: string): Promise<Answer> =>
    httpsRequest(method, url, { ca: rootPem, ...(body === undefined ? {} : { body }), ...(contentType ? { contentType } : {}) });
  const directory = async () => JSON.parse((await request('GET', directoryUrl)).body) as Record<string, string>;
  const nonce = async () => String((await request('HEAD', (await directory()).newNonce!)).headers['replay-nonce']);

  /** A JWS signed by `key` (RS256, ES256 or EdDSA by its type), with kid or the key's jwk. */
  const jws = (key: KeyObject, url: string, payload: unknown, header: Record<string, unknown>): string => JSON.stringify(signJws(key, { url, ...header }, payload));
  const jwkOf = (key: KeyObject) => createPublicKey(key).export({ format: 'jwk' });
  async function post(key: KeyObject, url: string, payload: unknown, account?: string, extra: Record<string, unknown> = {}): Promise<Answer> {
    const header = { nonce: await nonce(), ...(account ? { kid: account } : { jwk: jwkOf(key) }), ...extra };
    return request('POST', url, jws(key, url, payload, header));
  }
  function assertProblem(answer: Answer, type: string, status = 400): Record<string, unknown> {
    assert.equal(answer.headers['content-type'], 'application/problem+json', answer.body);
    const problem = JSON.parse(answer.body) as Record<string, unknown>;
    assert.equal(problem.type, `urn:ietf:params:acme:error:${type}`, answer.body);
    assert.equal(answer.status, status, answer.body);
    assert.ok(answer.headers['replay-nonce'], 'a problem carries a fresh nonce');
    return problem;
  }

  /** An order through http-01 with `client`, up to a ready order (not finalized). */
  async function readyOrder(client: acme.Client, identifiers: { type: 'dns' | 'ip'; value: string }[]) {
    const order = await client.createOrder({ identifiers });
    for (const authz of await client.getAuthorizations(order)) {
      const challenge = authz.challenges.find((each) => each.type === 'http-01');
      assert.ok(challenge, `http-01 offered for ${authz.identifier.value}`);
      tokens.set(challenge.token, await client.getChallengeKeyAuthorization(challenge));
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    }
    return client.getOrder(order);
  }

  before(async () => {
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    await makeCa(cwd);
    commitAcmePolicy(db, POLICY);
    rootPem = readFileSync(join(db, 'certs/root-ca.crt'), 'utf8');
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: rootPem });

    server = await startAcmeServer(cwd, '*.example.test', tokens);
    child = server.child;
    directoryUrl = server.directoryUrl;
  });
  after(async () => {
    await server?.stop();
  });

  it('serves a certificate to an RS256 account over http-01, then downloads and revokes it', async () => {
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateKey() });
    await client.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'] });
    const accountId = client.getAccountUrl().split('/').pop()!;
    const accountRecord = JSON.parse(readFileSync(join(db, `acme/accounts/${accountId}.json`), 'utf8'));
    assert.deepEqual(accountRecord.contact, ['mailto:ops@example.test']);
    assert.equal(accountRecord.jwk.kty, 'RSA');

    const order = await readyOrder(client, [{ type: 'dns', value: 'web.example.test' }, { type: 'dns', value: 'www.example.test' }]);
    assert.equal(order.status, 'ready');
    const [, csr] = await acme.crypto.createCsr({ commonName: 'web.example.test', altNames: ['web.example.test', 'www.example.test'] });
    const before = head();
    const finalized = await client.finalizeOrder(order, csr);
    const pem = await client.getCertificate(finalized);

    const leafPem = pem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!;
    const leafFile = join(cwd, 'leaf.pem');
    writeFileSync(leafFile, leafPem);
    const serial = openssl(['x509', '-in', leafFile, '-noout', '-serial']).stdout.trim().split('=')[1]!.toLowerCase().replace(/^(00)+/, '');
    const chainFile = join(cwd, 'chain.pem');
    writeFileSync(chainFile, pem);
    const verified = openssl(['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', chainFile, '-purpose', 'sslserver', leafFile]);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(openssl(['x509', '-in', leafFile, '-noout', '-ext', 'subjectAltName']).stdout, /DNS:web\.example\.test, DNS:www\.example\.test/);

    assert.equal(readFileSync(join(db, `certs/acme-${serial}.crt`), 'utf8'), leafPem);
    assert.equal(readFileSync(join(db, `certs/acme-${serial}.chain.crt`), 'utf8'), pem);
    assert.equal(existsSync(join(db, `private/acme-${serial}.key`)), false);
    const record = JSON.parse(readFileSync(join(db, `records/ca/${serial}.json`), 'utf8'));
    assert.deepEqual(record.acme, { account: accountId, order: finalized.url.split('/').pop() });
    assert.equal(record.profile, 'server');
    assert.equal(git(db, ['rev-list', '--count', `${before}..HEAD`]).trim(), '1');
    assert.deepEqual(git(db, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort(), [`certs/acme-${serial}.chain.crt`, `certs/acme-${serial}.crt`, `records/ca/${serial}.json`]);
    assert.match(git(db, ['log', '-1', '--format=%B']), /^Issue acme-[0-9a-f]+ over ACME \(server, expires .*\n[\s\S]*Certified-Acme-Account: /);

    const check = await run(['check'], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const listed = await run(['ls'], { cwd });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`acme-${serial}`));

    // Downloaded again: the same chain.
    assert.equal(await client.getCertificate(finalized), pem);

    // RFC 9773: the suggested window is the last third of the lifetime.
    const aki = openssl(['x509', '-in', leafFile, '-noout', '-ext', 'authorityKeyIdentifier']).stdout.match(/([0-9A-F]{2}(?::[0-9A-F]{2})+)/)![1]!.replaceAll(':', '');
    const serialBytes = Buffer.from(serial, 'hex');
    const certId = `${Buffer.from(aki, 'hex').toString('base64url')}.${Buffer.from(serialBytes[0]! > 0x7f ? [0, ...serialBytes] : serialBytes).toString('base64url')}`;
    const ari = await request('GET', `${(await directory()).renewalInfo}/${certId}`);
    assert.equal(ari.status, 200, ari.body);
    assert.equal(ari.headers['retry-after'], '21600');
    const window = JSON.parse(ari.body).suggestedWindow;
    const notBefore = Date.parse(record.notBefore);
    const notAfter = Date.parse(record.notAfter);
    assert.equal(Date.parse(window.start), notBefore + Math.round(((notAfter - notBefore) * 2) / 3));
    assert.equal(Date.parse(window.end), notAfter);

    // Revoked by the account: the CRL (rebuilt and committed) says so.
    const beforeRevoke = head();
    await client.revokeCertificate(pem, { reason: 4 });
    assert.equal(git(db, ['rev-list', '--count', `${beforeRevoke}..HEAD`]).trim(), '1');
    assert.equal(JSON.parse(readFileSync(join(db, `records/ca/${serial}.json`), 'utf8')).revocation.reason, 'superseded');
    const crls = join(cwd, 'crls.pem');
    writeFileSync(crls, readFileSync(join(db, 'crl/ca.crl'), 'utf8') + readFileSync(join(db, 'crl/root-ca.crl'), 'utf8'));
    const revoked = openssl(['verify', '-crl_check_all', '-CRLfile', crls, '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', chainFile, leafFile]);
    assert.notEqual(revoked.status, 0);
    assert.match(revoked.stdout + revoked.stderr, /certificate revoked/);
    assert.equal(await client.getCertificate(finalized), pem, 'a revoked certificate can still be downloaded');
    await assert.rejects(client.revokeCertificate(pem), /already revoked/);
    const checkAfter = await run(['check'], { cwd });
    assert.equal(checkAfter.code, 0, checkAfter.stdout + checkAfter.stderr);
  });

  it('serves an ES256 account an IP address, and revokes by the certificate key', async () => {
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await client.createAccount({ termsOfServiceAgreed: true });
    const order = await readyOrder(client, [{ type: 'ip', value: '127.0.0.1' }]);
    const certKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const [, csr] = await acme.crypto.createCsr({ altNames: ['127.0.0.1'] }, certKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const pem = await client.getCertificate(await client.finalizeOrder(order, csr));
    const leafFile = join(cwd, 'ip.pem');
    writeFileSync(leafFile, pem);
    assert.match(openssl(['x509', '-in', leafFile, '-noout', '-ext', 'subjectAltName']).stdout, /IP Address:127\.0\.0\.1/);
    const der = Buffer.from(pem.split('-----')[2]!.replace(/\s+/g, ''), 'base64');

    // Another key may not revoke it.
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const dir = await directory();
    const before = head();
    assertProblem(await post(stranger, dir.revokeCert!, { certificate: der.toString('base64url') }), 'unauthorized', 403);
    assertProblem(await post(certKey, dir.revokeCert!, { certificate: der.toString('base64url'), reason: 2 }), 'badRevocationReason');
    assert.equal(head(), before);
    const revoked = await post(certKey, dir.revokeCert!, { certificate: der.toString('base64url'), reason: 1 });
    assert.equal(revoked.status, 200, revoked.body);
    assert.notEqual(head(), before);
    assertProblem(await post(certKey, dir.revokeCert!, { certificate: der.toString('base64url') }), 'alreadyRevoked');
  });

  it('refuses with problem documents and writes nothing', async () => {
    const accountKey = createPrivateKey(await acme.crypto.createPrivateEcdsaKey());
    const dir = await directory();
    const created = await post(accountKey, dir.newAccount!, { termsOfServiceAgreed: true });
    assert.equal(created.status, 201, created.body);
    const kid = String(created.headers.location);
    let before = head();

    const fresh = await request('GET', dir.newNonce!);
    assert.equal(fresh.status, 204);
    assert.match(String(fresh.headers['replay-nonce']), /^[A-Za-z0-9_-]+$/);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    assertProblem(await post(other, dir.newAccount!, { contact: ['tel:+15555550100'] }), 'unsupportedContact');
    assertProblem(await post(other, dir.newAccount!, { contact: ['mailto:a@example.test,b@example.test'] }), 'invalidContact');

    assertProblem(await post(accountKey, dir.newOrder!, { identifiers: [{ type: 'dns', value: 'evil.example.org' }] }, kid), 'rejectedIdentifier');
    assertProblem(await post(accountKey, dir.newOrder!, { identifiers: [{ type: 'ip', value: '10.1.2.3' }] }, kid), 'rejectedIdentifier');
    assertProblem(await post(accountKey, dir.newOrder!, { identifiers: [{ type: 'dns', value: 'example.test' }] }, kid), 'rejectedIdentifier');

    const badNonce = await request('POST', dir.newOrder!, jws(accountKey, dir.newOrder!, { identifiers: [{ type: 'dns', value: 'a.example.test' }] }, { nonce: 'bm90LWEtbm9uY2U', kid }));
    assertProblem(badNonce, 'badNonce');
    const used = await nonce();
    const first = await request('POST', kid, jws(accountKey, kid, '', { nonce: used, kid }));
    assert.equal(first.status, 200, first.body);
    assertProblem(await request('POST', kid, jws(accountKey, kid, '', { nonce: used, kid })), 'badNonce');

    assertProblem(await post(accountKey, dir.newOrder!, { identifiers: [{ type: 'dns', value: 'a.example.test' }] }, kid, { url: dir.newAccount }), 'unauthorized', 403);
    assertProblem(await request('POST', dir.newOrder!, '{"protected": 1}'), 'malformed');
    assertProblem(await request('POST', dir.newOrder!, 'not json'), 'malformed');

    // A wildcard is validated only by dns-01.
    const wildcard = await post(accountKey, dir.newOrder!, { identifiers: [{ type: 'dns', value: '*.wild.example.test' }] }, kid);
    assert.equal(wildcard.status, 201, wildcard.body);
    const authzUrl = JSON.parse(wildcard.body).authorizations[0];
    const authz = JSON.parse((await post(accountKey, authzUrl, '', kid)).body);
    assert.deepEqual(authz.challenges.map((challenge: { type: string }) => challenge.type), ['dns-01']);
    assert.equal(authz.wildcard, true);
    assert.deepEqual(authz.identifier, { type: 'dns', value: 'wild.example.test' });
    assertProblem(await post(accountKey, JSON.parse(wildcard.body).finalize, { csr: 'AA' }, kid), 'orderNotReady', 403);
    assertProblem(await request('POST', JSON.parse(wildcard.body).finalize, jws(accountKey, JSON.parse(wildcard.body).finalize, {}, { nonce: await nonce(), kid })), 'orderNotReady', 403);
    assertProblem(await request('POST', dir.newOrder!, jws(accountKey, dir.newOrder!, { identifiers: [] }, { nonce: await nonce(), kid }), 'application/json'), 'malformed', 415);

    assert.equal(head(), before, 'no refusal wrote anything');

    // The policy is the committed certificates.yaml, read at each order: an edit takes effect
    // once committed (not before), and a name taken out of it is refused at once.
    const withLater = POLICY.replace('.example.test, ', '.example.test, .later.test, ');
    writeFileSync(join(db, 'certificates.yaml'), withLater);
    assertProblem(await post(accountKey, dir.newOrder!, { identifiers: [{ type: 'dns', value: 'a.later.test' }] }, kid), 'rejectedIdentifier');
    commitAcmePolicy(db, withLater, 'ACME policy: allow .later.test');
    const later = await post(accountKey, dir.newOrder!, { identifiers: [{ type: 'dns', value: 'a.later.test' }] }, kid);
    assert.equal(later.status, 201, later.body);
    commitAcmePolicy(db, POLICY, 'ACME policy: take .later.test out');
    assertProblem(await post(accountKey, dir.newOrder!, { identifiers: [{ type: 'dns', value: 'a.later.test' }] }, kid), 'rejectedIdentifier');
    before = head();

    // Unknown accounts.
    const stranger = generateKeyPairSync('ed25519').privateKey;
    assertProblem(await post(stranger, dir.newAccount!, { onlyReturnExisting: true }), 'accountDoesNotExist');
    assertProblem(await post(stranger, dir.newOrder!, { identifiers: [{ type: 'dns', value: 'a.example.test' }] }, kid.replace(/[^/]+$/, 'A'.repeat(43))), 'accountDoesNotExist');
    // An RSA key may not sign ES256.
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const header = { alg: 'ES256', nonce: await nonce(), url: dir.newAccount, jwk: jwkOf(rsa) };
    const forged = JSON.stringify({ protected: Buffer.from(JSON.stringify(header)).toString('base64url'), payload: '', signature: Buffer.alloc(64).toString('base64url') });
    assertProblem(await request('POST', dir.newAccount!, forged), 'badSignatureAlgorithm');

    // ES384 accounts are accepted too.
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const header384 = { alg: 'ES384', nonce: await nonce(), url: dir.newAccount, jwk: jwkOf(p384) };
    const protected384 = Buffer.from(JSON.stringify(header384)).toString('base64url');
    const payload384 = Buffer.from(JSON.stringify({ onlyReturnExisting: true })).toString('base64url');
    const signature384 = sign('sha384', Buffer.from(`${protected384}.${payload384}`), { key: p384, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    assertProblem(await request('POST', dir.newAccount!, JSON.stringify({ protected: protected384, payload: payload384, signature: signature384 })), 'accountDoesNotExist');

    // Too large a body, then the server still answers.
    assertProblem(await request('POST', dir.newOrder!, Buffer.alloc(65 * 1024, 0x20)), 'malformed', 413);
    assert.equal((await request('GET', directoryUrl)).status, 200);
    assert.equal(head(), before, 'no refusal wrote anything');
  });

  it("answers a challenge's POST with the outcome of a validation that ends at once, so the first poll finds the order ready", async () => {
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await client.createAccount({ termsOfServiceAgreed: true });
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'quick.example.test' }] });
    const [authz] = await client.getAuthorizations(order);
    const challenge = authz!.challenges.find((each) => each.type === 'http-01')!;
    tokens.set(challenge.token, await client.getChallengeKeyAuthorization(challenge));
    const answered = await client.completeChallenge(challenge);
    assert.equal(answered.status, 'valid');
    assert.equal((await client.getOrder(order)).status, 'ready');
    // One that fails at once is answered as invalid, with its error.
    const failing = await client.createOrder({ identifiers: [{ type: 'dns', value: 'nothing-here-either.example.test' }] });
    const failed = await client.completeChallenge((await client.getAuthorizations(failing))[0]!.challenges.find((each) => each.type === 'http-01')!);
    assert.equal(failed.status, 'invalid');
    assert.equal((failed as { error?: { type: string } }).error?.type, 'urn:ietf:params:acme:error:incorrectResponse');
  });

  it('marks a failed validation invalid, and keeps answering while a client is slow', async () => {
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await client.createAccount({ termsOfServiceAgreed: true });
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'nothing-here.example.test' }] });
    const [authz] = await client.getAuthorizations(order);
    const challenge = authz!.challenges.find((each) => each.type === 'http-01')!;
    // A slow client holds a connection with half a request meanwhile.
    const slow = tls.connect({ host: '127.0.0.1', port: Number(new URL(directoryUrl).port), ca: rootPem });
    await new Promise((resolve) => slow.once('secureConnect', resolve));
    slow.write('POST /acme/new-order HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{');
    await client.completeChallenge(challenge);
    await assert.rejects(client.waitForValidStatus(challenge));
    const after = (await client.getAuthorizations(order))[0]!.challenges.find((each) => each.type === 'http-01')!;
    assert.equal(after.status, 'invalid');
    assert.equal((after as { error?: { type: string } }).error?.type, 'urn:ietf:params:acme:error:incorrectResponse');
    assert.equal((await client.getOrder(order)).status, 'invalid');
    slow.destroy();
  });

  it('refuses to start without an acme: policy, and ACME flags without --acme-listen', async () => {
    const copy = join(tempDir(), 'ssl');
    cpSync(db, copy, { recursive: true });
    git(copy, ['rm', '-q', 'certificates.yaml']);
    git(copy, ['commit', '-q', '-m', 'no ACME policy']);
    const port = await freePort();
    const refused = await run(['serve', '--db', copy, '--acme-listen', `127.0.0.1:${port}`], { cwd, timeoutMs: 20_000 });
    assert.equal(refused.code, 1, refused.stderr);
    // One line that names the missing policy (its exact words are the policy module's).
    assert.match(refused.stderr, /^certified: [^\n]*(certificates\.yaml|acme)[^\n]*\n/m);
    assert.doesNotMatch(refused.stderr, /Serving ACME/);
    // A policy written and not committed is not one yet: it has not been reviewed.
    writeFileSync(join(copy, 'certificates.yaml'), POLICY);
    const uncommitted = await run(['serve', '--db', copy, '--acme-listen', `127.0.0.1:${port}`], { cwd, timeoutMs: 20_000 });
    assert.equal(uncommitted.code, 1, uncommitted.stderr);
    assert.match(uncommitted.stderr, /^certified: serve --acme-listen needs an acme: section in certificates\.yaml \(certificates\.yaml is not committed yet\)\. Add one [^\n]*, commit it, and start the server again\.\n$/);
    const usage = await run(['serve', '--db', copy, '--acme-http-port', '8080'], { cwd });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /option '--acme-http-port <port>' can only be used with option '--acme-listen <address>'/);
  });

  it('refuses a CSR whose names are not the order’s, then issues the right one', async () => {
    const keyPem = await acme.crypto.createPrivateEcdsaKey();
    const client = new acme.Client({ directoryUrl, accountKey: keyPem });
    await client.createAccount({ termsOfServiceAgreed: true });
    const order = await readyOrder(client, [{ type: 'dns', value: 'csr.example.test' }]);
    const accountKey = createPrivateKey(keyPem);
    const before = head();
    for (const names of [['other.example.test'], ['csr.example.test', 'extra.example.test']]) {
      const [, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names });
      const der = Buffer.from(csr.toString().split('-----')[2]!.replace(/\s+/g, ''), 'base64');
      assertProblem(await post(accountKey, order.finalize, { csr: der.toString('base64url') }, client.getAccountUrl()), 'badCSR');
    }
    assert.equal(head(), before);
    const [, csr] = await acme.crypto.createCsr({ commonName: 'csr.example.test' });
    const finalized = await client.finalizeOrder(order, csr);
    assert.equal(finalized.status, 'valid');
  });

  it('changes an account key, updates the contact, and deactivates the account', async () => {
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await client.createAccount({ termsOfServiceAgreed: true });
    const id = client.getAccountUrl().split('/').pop()!;
    const newKey = await acme.crypto.createPrivateKey();
    await client.updateAccountKey(newKey);
    const record = JSON.parse(readFileSync(join(db, `acme/accounts/${id}.json`), 'utf8'));
    assert.equal(record.jwk.kty, 'RSA');
    assert.equal(record.previousKeys.length, 1);
    assert.equal(record.previousKeys[0].jwk.kty, 'EC');
    // The new key finds the same account.
    const again = new acme.Client({ directoryUrl, accountKey: newKey });
    await again.createAccount({ onlyReturnExisting: true });
    assert.equal(again.getAccountUrl(), client.getAccountUrl());

    await again.updateAccount({ contact: ['mailto:new@example.test'] });
    assert.deepEqual(JSON.parse(readFileSync(join(db, `acme/accounts/${id}.json`), 'utf8')).contact, ['mailto:new@example.test']);
    await again.updateAccount({ status: 'deactivated' });
    assert.equal(JSON.parse(readFileSync(join(db, `acme/accounts/${id}.json`), 'utf8')).status, 'deactivated');
    await assert.rejects(again.createOrder({ identifiers: [{ type: 'dns', value: 'gone.example.test' }] }), /deactivated/);
  });
});

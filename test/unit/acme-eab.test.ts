/**
 * External Account Binding: verifyEab judged on bindings made by acme-client's own code and by
 * hand with node:crypto, and the sealing of the HMAC key to the intermediate's private key.
 */
import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEab, eabUsedWrite, loadEabKey, verifyEab } from '../../src/ca/acme/eab.js';
import { AcmeProblem } from '../../src/ca/acme/types.js';
import { initCa } from '../../src/ca/authorities/init-ca.js';
import { openCaDirectory, type CaStore } from '../../src/ca/ca-directory.js';
import { noPassword } from '../../src/ca/passwords.js';
import { openSecret, randomEabKid, randomHmacKey, sealSecret } from '../../src/pki/eab.js';
import { jwkThumbprintOf } from '../../src/pki/jws.js';

/** acme-client's HTTP client: its createSignedHmacBody is what it sends as externalAccountBinding. */
interface AcmeHttpClient {
  getJwk(): JsonWebKey;
  createSignedHmacBody(hmacKey: string, url: string, payload: unknown, options: { kid: string; nonce?: string }): { protected: string; payload: string; signature: string };
}
const HttpClient = createRequire(import.meta.url)('acme-client/src/http.js') as new (directoryUrl: string, accountKey: Buffer, eab: { kid: string; hmacKey: string }) => AcmeHttpClient;

const URL_NEW_ACCOUNT = 'https://acme.internal.example.com:8443/acme/new-account';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function newCa(): Promise<CaStore> {
  const dir = mkdtempSync(join(tmpdir(), 'certified-eab-'));
  dirs.push(dir);
  const store = openCaDirectory(join(dir, 'etc/ssl'), { lockTimeoutMs: 10_000 });
  await initCa(store, { subject: { CN: 'EAB Unit CA' }, key: { type: 'ecdsa', curve: 'P-256' }, days: 30, rootPassword: 'root password', commandLine: 'certified init CN="EAB Unit CA"' });
  return store;
}

function accountKey(type: 'ec' | 'rsa' | 'ed25519' = 'ec'): { pem: Buffer; jwk: JsonWebKey } {
  const pair =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { pem: Buffer.from(pair.privateKey.export({ type: 'pkcs8', format: 'pem' })), jwk: pair.publicKey.export({ format: 'jwk' }) };
}

const b64u = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A binding made by hand: `header` and `payload` as given, MACed with `key` (base64url). */
function handMade(header: Record<string, unknown>, payload: unknown, key: string, hash = 'sha256'): { protected: string; payload: string; signature: string } {
  const protectedB64 = b64u(header);
  const payloadB64 = b64u(payload);
  const signature = createHmac(hash, Buffer.from(key, 'base64url')).update(`${protectedB64}.${payloadB64}`).digest('base64url');
  return { protected: protectedB64, payload: payloadB64, signature };
}

async function problemOf(promise: Promise<unknown>): Promise<AcmeProblem> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AcmeProblem, `expected an AcmeProblem, got ${String(error)}`);
  return error;
}

describe('verifyEab', () => {
  let store: CaStore;
  let caKey: KeyObject;
  let kid: string;
  let hmacKey: string;
  const account = accountKey();

  before(async () => {
    store = await newCa();
    caKey = await loadEabKey(store, noPassword);
    ({ kid, hmacKey } = await createEab(store, { name: 'unit', caKey, commandLine: 'certified acme eab --name unit' }));
  });

  it('accepts the binding acme-client sends, for EC, RSA and Ed25519 account keys', async () => {
    for (const type of ['ec', 'rsa', 'ed25519'] as const) {
      const key = accountKey(type);
      const client = new HttpClient('https://acme.internal.example.com:8443/acme/directory', key.pem, { kid, hmacKey });
      const binding = client.createSignedHmacBody(hmacKey, URL_NEW_ACCOUNT, client.getJwk(), { kid });
      assert.deepEqual(await verifyEab(store, { binding, accountJwk: key.jwk, url: URL_NEW_ACCOUNT, caKey }), { kid }, type);
    }
  });

  it('accepts HS384 and HS512 MACs', async () => {
    for (const [alg, hash] of [['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
      const binding = handMade({ alg, kid, url: URL_NEW_ACCOUNT }, account.jwk, hmacKey, hash);
      assert.deepEqual(await verifyEab(store, { binding, accountJwk: account.jwk, url: URL_NEW_ACCOUNT, caKey }), { kid }, alg);
    }
  });

  const header = () => ({ alg: 'HS256', kid, url: URL_NEW_ACCOUNT });
  const otherKey = Buffer.alloc(32, 7).toString('base64url');
  const cases: [string, () => unknown, string, RegExp][] = [
    ['a MAC made with another key', () => handMade(header(), account.jwk, otherKey), 'unauthorized', /MAC does not match/],
    [
      'a MAC with one bit flipped',
      () => {
        const binding = handMade(header(), account.jwk, hmacKey);
        const signature = Buffer.from(binding.signature, 'base64url');
        signature[0]! ^= 1;
        return { ...binding, signature: signature.toString('base64url') };
      },
      'unauthorized',
      /MAC does not match/,
    ],
    ['a truncated MAC', () => ({ ...handMade(header(), account.jwk, hmacKey), signature: 'AAAA' }), 'unauthorized', /MAC does not match/],
    ['an unknown kid', () => handMade({ ...header(), kid: 'AAAAAAAAAAAAAAAAAAAAAA' }, account.jwk, hmacKey), 'unauthorized', /is not an external account binding key ID/],
    ['a kid that is a path', () => handMade({ ...header(), kid: '../../certified' }, account.jwk, hmacKey), 'unauthorized', /is not an external account binding key ID/],
    ['another URL', () => handMade({ ...header(), url: 'https://elsewhere.example.com/acme/new-account' }, account.jwk, hmacKey), 'unauthorized', /was made for the URL/],
    ['a payload key that is not the account key', () => handMade(header(), accountKey().jwk, hmacKey), 'unauthorized', /binds another key/],
    ['a nonce in the header', () => handMade({ ...header(), nonce: 'abc' }, account.jwk, hmacKey), 'malformed', /must not contain a nonce/],
    ['alg RS256', () => handMade({ ...header(), alg: 'RS256' }, account.jwk, hmacKey), 'malformed', /HS256, HS384 or HS512/],
    ['alg none', () => ({ ...handMade({ ...header(), alg: 'none' }, account.jwk, hmacKey), signature: 'x' }), 'malformed', /HS256, HS384 or HS512/],
    ['no kid', () => handMade({ alg: 'HS256', url: URL_NEW_ACCOUNT }, account.jwk, hmacKey), 'malformed', /no "kid"/],
    ['no url', () => handMade({ alg: 'HS256', kid }, account.jwk, hmacKey), 'malformed', /no "url"/],
    ['a payload that is not a JWK', () => handMade(header(), { hello: 'world' }, hmacKey), 'malformed', /not a public JWK/],
    ['no binding at all', () => undefined, 'externalAccountRequired', /only with an External Account Binding/],
    ['a string', () => 'header.payload.signature', 'malformed', /flattened JWS/],
    ['no signature', () => ({ protected: b64u(header()), payload: b64u(account.jwk) }), 'malformed', /"signature" must be/],
    ['a header that is not base64url', () => ({ ...handMade(header(), account.jwk, hmacKey), protected: 'e30=' }), 'malformed', /"protected" must be/],
    ['a header that is not JSON', () => ({ ...handMade(header(), account.jwk, hmacKey), protected: b64u('not json') }), 'malformed', /not base64url JSON/],
  ];
  for (const [what, binding, type, detail] of cases) {
    it(`refuses ${what}: ${type}`, async () => {
      const problem = await problemOf(verifyEab(store, { binding: binding(), accountJwk: account.jwk, url: URL_NEW_ACCOUNT, caKey }));
      assert.equal(problem.type, type);
      assert.equal(problem.status, type === 'unauthorized' ? 403 : 400);
      assert.match(problem.message, detail);
      assert.doesNotMatch(problem.message, new RegExp(hmacKey));
    });
  }

  it('refuses a binding when the HMAC key cannot be opened with the current intermediate key', async () => {
    const { privateKey: anotherCaKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const binding = handMade(header(), account.jwk, hmacKey);
    const problem = await problemOf(verifyEab(store, { binding, accountJwk: account.jwk, url: URL_NEW_ACCOUNT, caKey: anotherCaKey }));
    assert.equal(problem.type, 'unauthorized');
    assert.match(problem.message, /cannot be opened with the current intermediate key/);
  });

  it('once used by an account, refuses the kid to any other account, not to that one', async () => {
    const own = await createEab(store, { caKey, commandLine: 'certified acme eab' });
    const first = accountKey();
    const second = accountKey();
    const firstId = jwkThumbprintOf(first.jwk)!;
    const write = await eabUsedWrite(store, own.kid, firstId, new Date('2026-01-02T03:04:05Z'));
    assert.equal(write.path, `acme/eab/${own.kid}.json`);
    assert.equal(write.commit, true);
    const entry = JSON.parse(write.content) as Record<string, unknown>;
    assert.equal(entry.status, 'used');
    assert.equal(entry.accountId, firstId);
    assert.equal(entry.usedAt, '2026-01-02T03:04:05.000Z');
    await store.locked(() => store.apply({ message: 'test: mark the binding used\n', writes: [write] }));

    const mine = handMade({ alg: 'HS256', kid: own.kid, url: URL_NEW_ACCOUNT }, first.jwk, own.hmacKey);
    assert.deepEqual(await verifyEab(store, { binding: mine, accountJwk: first.jwk, url: URL_NEW_ACCOUNT, caKey }), { kid: own.kid });
    const theirs = handMade({ alg: 'HS256', kid: own.kid, url: URL_NEW_ACCOUNT }, second.jwk, own.hmacKey);
    const problem = await problemOf(verifyEab(store, { binding: theirs, accountJwk: second.jwk, url: URL_NEW_ACCOUNT, caKey }));
    assert.equal(problem.type, 'unauthorized');
    assert.match(problem.message, /already used by another account/);
    const late = await problemOf(eabUsedWrite(store, own.kid, jwkThumbprintOf(second.jwk)!));
    assert.equal(late.type, 'unauthorized');
  });

  it('stores the HMAC key only sealed: not in the entry in any common encoding', () => {
    const text = readFileSync(store.path(`acme/eab/${kid}.json`), 'utf8');
    const raw = Buffer.from(hmacKey, 'base64url');
    for (const encoded of [hmacKey, raw.toString('base64'), raw.toString('hex')]) assert.ok(!text.includes(encoded), encoded);
    const entry = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(entry).sort(), ['createdAt', 'encryptedKey', 'kid', 'name', 'status']);
    assert.equal(entry.status, 'unused');
    assert.equal(entry.name, 'unit');
  });
});

describe('sealing a secret to a CA key', () => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef');

  it('opens with the same key, however it was stored, for EC and RSA keys', () => {
    for (const pair of [generateKeyPairSync('ec', { namedCurve: 'P-384' }), generateKeyPairSync('rsa', { modulusLength: 2048 })]) {
      const sealed = sealSecret(pair.privateKey, secret, 'certified acme eab k1');
      // Read back from a traditional (not PKCS#8) PEM: the derivation uses the key, not the file's bytes.
      const traditional = pair.privateKey.asymmetricKeyType === 'ec' ? pair.privateKey.export({ type: 'sec1', format: 'pem' }) : pair.privateKey.export({ type: 'pkcs1', format: 'pem' });
      const reloaded = createPrivateKey(traditional);
      assert.deepEqual(openSecret(reloaded, sealed, 'certified acme eab k1'), secret);
      // Another kid's info, another key, or a changed byte: nothing.
      assert.equal(openSecret(pair.privateKey, sealed, 'certified acme eab k2'), undefined);
      assert.equal(openSecret(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, sealed, 'certified acme eab k1'), undefined);
      const ciphertext = Buffer.from(sealed.ciphertext, 'base64url');
      ciphertext[0]! ^= 1;
      assert.equal(openSecret(pair.privateKey, { ...sealed, ciphertext: ciphertext.toString('base64url') }, 'certified acme eab k1'), undefined);
    }
  });

  it('uses a fresh salt and nonce each time', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const a = sealSecret(privateKey, secret, 'i');
    const b = sealSecret(privateKey, secret, 'i');
    assert.notEqual(a.salt, b.salt);
    assert.notEqual(a.iv, b.iv);
    assert.notEqual(a.ciphertext, b.ciphertext);
  });
});

describe('jwkThumbprintOf', () => {
  it('gives the RFC 7638 example thumbprint', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    assert.equal(jwkThumbprintOf(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('is undefined for what is not a public JWK of a known type', () => {
    for (const value of [undefined, null, 'x', [], {}, { kty: 'oct', k: 'AAAA' }, { kty: 'EC', crv: 'P-256', x: 'AA' }, { kty: 'RSA', n: 1, e: 'AQAB' }]) {
      assert.equal(jwkThumbprintOf(value), undefined, JSON.stringify(value));
    }
  });
});

describe('key ids and HMAC keys', () => {
  it('never start with "-", which clients would read as an option (a sixty-fourth of draws would)', () => {
    for (let i = 0; i < 2000; i++) {
      assert.ok(!randomEabKid().startsWith('-'));
      assert.ok(!randomHmacKey().toString('base64url').startsWith('-'));
    }
  });
});

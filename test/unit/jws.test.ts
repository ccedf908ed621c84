import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { ariCertId, importJwk, jwkThumbprint, parseAriCertId, parseJws, verifyJws, algorithmFitsKey, JwsError } from '../../src/pki/jws.js';

/** RFC 7638 §3.1: the example RSA key and its thumbprint. */
const RFC7638_JWK = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};

function flattened(header: Record<string, unknown>, payload: string, signer: (input: Buffer) => Buffer) {
  const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
  const payloadB64 = Buffer.from(payload).toString('base64url');
  return { protected: protectedB64, payload: payloadB64, signature: signer(Buffer.from(`${protectedB64}.${payloadB64}`)).toString('base64url') };
}

describe('pki/jws', () => {
  it('computes the RFC 7638 thumbprint of the RFC example key', () => {
    assert.equal(jwkThumbprint(importJwk(RFC7638_JWK)), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('verifies ES256, ES384, RS256 and EdDSA, and refuses a tampered payload or a mismatched algorithm', async () => {
    const cases = [
      { alg: 'ES256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, sign: (input: Buffer, key: never) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }) },
      { alg: 'ES384', key: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, sign: (input: Buffer, key: never) => sign('sha384', input, { key, dsaEncoding: 'ieee-p1363' }) },
      { alg: 'RS256', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, sign: (input: Buffer, key: never) => sign('sha256', input, key) },
      { alg: 'EdDSA', key: generateKeyPairSync('ed25519').privateKey, sign: (input: Buffer, key: never) => sign(null, input, key) },
    ] as const;
    for (const { alg, key, sign: signer } of cases) {
      const publicKey = importJwk(createPublicKey(key).export({ format: 'jwk' }));
      const jws = parseJws(flattened({ alg, nonce: 'n', url: 'https://x/acme/new-order' }, '{"a":1}', (input) => signer(input, key as never)));
      assert.equal(algorithmFitsKey(alg, publicKey), true, alg);
      assert.equal(await verifyJws(jws, alg, publicKey), true, alg);
      const tampered = { ...jws, signingInput: new Uint8Array(Buffer.from(`${jws.protectedB64}.${Buffer.from('{"a":2}').toString('base64url')}`)) };
      assert.equal(await verifyJws(tampered, alg, publicKey), false, alg);
      const truncated = { ...jws, signature: jws.signature.subarray(1) };
      assert.equal(await verifyJws(truncated, alg, publicKey), false, alg);
    }
    const rsa = importJwk(RFC7638_JWK);
    assert.equal(algorithmFitsKey('ES256', rsa), false);
    assert.equal(algorithmFitsKey('RS256', importJwk(createPublicKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey).export({ format: 'jwk' }))), false);
  });

  it('refuses what is not a flattened JWS with a public key', () => {
    assert.throws(() => parseJws({ protected: 'e30', payload: '', signatures: [] }), JwsError);
    assert.throws(() => parseJws({ protected: '!!', payload: '', signature: '' }), /not base64url/);
    assert.throws(() => parseJws({ protected: Buffer.from('[1]').toString('base64url'), payload: '', signature: '' }), /not a JSON object/);
    assert.throws(() => importJwk({ ...createPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey).export({ format: 'jwk' }), d: 'AAAA' }), /private/);
    assert.throws(() => importJwk({ kty: 'oct', k: 'AAAA' }), /private or symmetric/);
  });

  it('makes RFC 9773 cert ids (a sign byte before a high serial) and reads them back', () => {
    // RFC 9773 §4.1 example: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21.
    const id = ariCertId('69885b6b87464041e1b37b847ba0ae2cde01c8d4', '87654321');
    assert.equal(id, 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    assert.deepEqual(parseAriCertId(id), { authorityKeyId: '69885b6b87464041e1b37b847ba0ae2cde01c8d4', serial: '87654321' });
    assert.equal(parseAriCertId('no-dot'), undefined);
  });
});

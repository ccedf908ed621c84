import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AcmeProblem } from '../../src/ca/acme/types.js';
import { NonceStore, problemBody } from '../../src/serve/acme/http.js';

describe('serve/acme/http', () => {
  it('accepts each nonce once and only the ones it gave', () => {
    const nonces = new NonceStore();
    const [a, b] = [nonces.next(), nonces.next()];
    assert.equal(nonces.consume(b), true);
    assert.equal(nonces.consume(b), false, 'a replay');
    assert.equal(nonces.consume(undefined), false);
    assert.equal(nonces.consume('made-up'), false);
    assert.equal(nonces.consume(a), true);
    assert.match(nonces.next(), /^[A-Za-z0-9_-]{40}$/);
  });

  it('spells problems as RFC 8555 documents', () => {
    const identifier = { type: 'dns' as const, value: 'x.example.org' };
    assert.deepEqual(problemBody(new AcmeProblem('rejectedIdentifier', 'not allowed', 400, [{ type: 'rejectedIdentifier', detail: 'no', identifier }])), {
      type: 'urn:ietf:params:acme:error:rejectedIdentifier',
      detail: 'not allowed',
      status: 400,
      subproblems: [{ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'no', identifier }],
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeEnough } from '../../src/cli/suggestions.js';

describe('the options suggested for an unknown one', () => {
  it('keeps typos and longer spellings of an option', () => {
    assert.equal(closeEnough('--jsn', '--json'), true);
    assert.equal(closeEnough('--ca-password', '--password'), true);
    assert.equal(closeEnough('--isuer', '--issuer'), true);
    assert.equal(closeEnough('--key-tpye', '--key-type'), true);
  });

  it('drops a short option that only shares a few letters', () => {
    assert.equal(closeEnough('--reason', '--json'), false);
    assert.equal(closeEnough('--days', '--yes'), false);
  });
});

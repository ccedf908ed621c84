import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CertifiedError } from '../../src/ca/errors.js';
import { parseDays, parseKeySpec } from '../../src/ca/options.js';
import { FLAGS } from '../../src/cli/error-hints.js';
import { leafKeyUsage } from '../../src/ca/profiles.js';
import { redactedCommandLine } from '../../src/cli/command-line.js';

describe('key policy', () => {
  it('defaults to P-384 for CAs and P-256 for leaves; --bits implies RSA', () => {
    assert.deepEqual(parseKeySpec({}, 'ca'), { type: 'ecdsa', curve: 'P-384' });
    assert.deepEqual(parseKeySpec({}, 'leaf'), { type: 'ecdsa', curve: 'P-256' });
    assert.deepEqual(parseKeySpec({ keyType: 'rsa' }, 'ca'), { type: 'rsa', bits: 4096 });
    assert.deepEqual(parseKeySpec({ keyType: 'rsa' }, 'leaf'), { type: 'rsa', bits: 2048 });
    assert.deepEqual(parseKeySpec({ bits: '3072' }, 'leaf'), { type: 'rsa', bits: 3072 });
    // ca/ speaks of the thing; the CLI spells the option as its flag.
    assert.throws(() => parseKeySpec({ bits: '2047' }, 'leaf'), (error: CertifiedError) => {
      assert.equal(error.message, 'the RSA key size must be a multiple of 8 from 2048 to 8192, got "2047"');
      assert.equal(error.renderMessage(FLAGS), '--bits must be a multiple of 8 from 2048 to 8192, got "2047"');
      assert.equal(error.renderHint(FLAGS), 'Use --bits 2048, 3072 or 4096.');
      return true;
    });
    assert.throws(() => parseKeySpec({ keyType: 'ecdsa', bits: '2048' }, 'leaf'), (error: CertifiedError) => {
      assert.equal(error.renderMessage(FLAGS), '--bits is for RSA keys and cannot go with --key-type ecdsa');
      assert.equal(error.renderHint(FLAGS), 'Drop --bits, or use --key-type rsa.');
      return /^the RSA key size is for RSA keys/.test(error.message);
    });
  });
});

describe('days', () => {
  it('takes whole positive numbers only', () => {
    assert.equal(parseDays('365'), 365);
    for (const bad of ['0', '-1', 'abc', '1e9', '1.5', '', '36501']) assert.throws(() => parseDays(bad), /^InvalidInputError: the number of days must be a whole number of days/);
    assert.throws(() => parseDays('0', 'crlDays'), (error: CertifiedError) => {
      assert.equal(error.renderMessage(FLAGS), '--crl-days must be a whole number of days from 1 to 36500, got "0"');
      assert.equal(error.renderHint(FLAGS), 'Write it like --crl-days 365.');
      return true;
    });
  });
});

describe('profiles', () => {
  it('sets key usages by key type and EKUs by profile', () => {
    assert.deepEqual(leafKeyUsage('server+client', { type: 'ecdsa', curve: 'P-256' }), {
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['serverAuth', 'clientAuth'],
    });
    assert.deepEqual(leafKeyUsage('server', { type: 'rsa', bits: 2048 }), { keyUsage: ['digitalSignature', 'keyEncipherment'], extendedKeyUsage: ['serverAuth'] });
    assert.deepEqual(leafKeyUsage('client', { type: 'rsa', bits: 2048 }).extendedKeyUsage, ['clientAuth']);
  });
});

describe('redactedCommandLine', () => {
  it('masks every secret option in both spellings and quotes for the shell', () => {
    assert.equal(
      redactedCommandLine(['--ca', '--root-password', 'hunter2', '--intermediate-password=s3cret', 'CN=Example CA', '--ca-password', '-']),
      "certified --ca --root-password *** --intermediate-password=*** 'CN=Example CA' --ca-password -",
    );
    assert.equal(redactedCommandLine(['--password', "it's"]), 'certified --password ***');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDays, parseKeySpec } from '../../src/ca/options.js';
import { leafKeyUsage } from '../../src/ca/profiles.js';
import { redactedCommandLine } from '../../src/cli/command-line.js';

describe('key policy', () => {
  it('defaults to P-384 for CAs and P-256 for leaves; --bits implies RSA', () => {
    assert.deepEqual(parseKeySpec({}, 'ca'), { type: 'ecdsa', curve: 'P-384' });
    assert.deepEqual(parseKeySpec({}, 'leaf'), { type: 'ecdsa', curve: 'P-256' });
    assert.deepEqual(parseKeySpec({ keyType: 'rsa' }, 'ca'), { type: 'rsa', bits: 4096 });
    assert.deepEqual(parseKeySpec({ keyType: 'rsa' }, 'leaf'), { type: 'rsa', bits: 2048 });
    assert.deepEqual(parseKeySpec({ bits: '3072' }, 'leaf'), { type: 'rsa', bits: 3072 });
    assert.throws(() => parseKeySpec({ bits: '2047' }, 'leaf'), /--bits must be/);
    assert.throws(() => parseKeySpec({ keyType: 'ecdsa', bits: '2048' }, 'leaf'), /--bits is for RSA keys/);
  });
});

describe('days', () => {
  it('takes whole positive numbers only', () => {
    assert.equal(parseDays('365'), 365);
    for (const bad of ['0', '-1', 'abc', '1e9', '1.5', '', '36501']) assert.throws(() => parseDays(bad), /--days must be/);
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

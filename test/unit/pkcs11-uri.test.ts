import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { findModule } from '../../src/pki/pkcs11.js';
import { formatPkcs11Uri, parsePkcs11Uri } from '../../src/pki/pkcs11-uri.js';

describe('PKCS#11 URIs (RFC 7512)', () => {
  it('reads path and query attributes, percent-decoded, and writes them back without the query', () => {
    const uri = parsePkcs11Uri('pkcs11:token=My%20CA;object=root-ca;id=%01%AB;type=private?pin-source=file:/run/pin&module-path=/usr/lib/softhsm/libsofthsm2.so');
    assert.deepEqual(uri.path, { token: 'My CA', object: 'root-ca', id: '01ab', type: 'private' });
    assert.deepEqual([...uri.idBytes!], [0x01, 0xab]);
    assert.deepEqual(uri.query, { 'pin-source': 'file:/run/pin', 'module-path': '/usr/lib/softhsm/libsofthsm2.so' });
    assert.equal(formatPkcs11Uri(uri), 'pkcs11:token=My%20CA;object=root-ca;id=%01%AB;type=private');
    assert.deepEqual(parsePkcs11Uri('PKCS11:Object=k;x-vendor=1').path, { object: 'k' });
    assert.deepEqual(parsePkcs11Uri('pkcs11:object=caf%C3%A9').path, { object: 'café' });
  });

  const refusals: [string, RegExp][] = [
    ['pkcs11:object=ca?pin-value=1234', /holds the PIN \(pin-value\)/],
    ['pkcs11:token=ca', /names no key/],
    ['pkcs11:object=a;object=b', /the object attribute is given twice/],
    ['pkcs11:object=%G1', /a "%" not followed by two hexadecimal digits/],
    ['pkcs11:object=%FF', /the object attribute is not UTF-8 text/],
    ['pkcs11:colour=blue;object=a', /"colour" is not a PKCS#11 URI path attribute/],
    ['pkcs11:object=a;type=secret-key', /type=secret-key names no key pair/],
    ['file:/etc/key', /does not start with "pkcs11:"/],
    [`pkcs11:object=${'a'.repeat(3000)}`, /longer than 2048 characters/],
  ];
  for (const [uri, message] of refusals) {
    it(`refuses ${uri.slice(0, 50)}`, () => assert.throws(() => parsePkcs11Uri(uri), message));
  }
});

const SOFTHSM = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((path) => existsSync(path));

describe('PKCS#11 modules by name', () => {
  it('finds a module by its file name or by its RFC 7512 module-name, in the usual directories', { skip: SOFTHSM ? false : 'no SoftHSM (apt-get install softhsm2)' }, () => {
    assert.equal(findModule('libsofthsm2.so'), SOFTHSM);
    assert.equal(findModule('softhsm2'), SOFTHSM);
    assert.equal(findModule('/somewhere/else/libsofthsm2.so'), SOFTHSM, 'only the file name is looked for');
    assert.equal(findModule('no-such-module'), undefined);
  });
});

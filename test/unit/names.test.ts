import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveName, normalizeDnsName, parseSan, parseSubjectArguments, subjectAltNames, validateDn, validateName } from '../../src/ca/names.js';
import { CertifiedError } from '../../src/ca/errors.js';
import { FLAGS } from '../../src/cli/error-hints.js';

describe('parseSan', () => {
  it('tells DNS names, IPs, e-mail addresses and URIs apart', () => {
    assert.deepEqual(parseSan('alt.example.com'), { type: 'dns', value: 'alt.example.com' });
    assert.deepEqual(parseSan('ALT.Example.COM'), { type: 'dns', value: 'alt.example.com' });
    assert.deepEqual(parseSan('10.0.0.1'), { type: 'ip', value: '10.0.0.1' });
    assert.deepEqual(parseSan('2001:db8::1'), { type: 'ip', value: '2001:db8::1' });
    assert.deepEqual(parseSan('alice@example.com'), { type: 'email', value: 'alice@example.com' });
    assert.deepEqual(parseSan('URI:spiffe://example.org/svc'), { type: 'uri', value: 'spiffe://example.org/svc' });
    assert.deepEqual(parseSan('uri:https://example.org/x'), { type: 'uri', value: 'https://example.org/x' });
    assert.deepEqual(parseSan('*.example.com'), { type: 'dns', value: '*.example.com' });
    assert.deepEqual(parseSan('bücher.example'), { type: 'dns', value: 'xn--bcher-kva.example' });
    assert.deepEqual(parseSan('localhost'), { type: 'dns', value: 'localhost' });
  });

  for (const bad of ['*.*.example.com', 'f*.example.com', '*.com', 'a b.example.com', '-lead.example.com', 'a..b', `${'x'.repeat(64)}.com`, '1.2.3.4.5', 'URI:no scheme', 'a@', '@b.com', 'IP:300.1.1.1', 'fe80::1%eth0', '']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseSan(bad), CertifiedError);
    });
  }
});

describe('subjectAltNames', () => {
  it('puts a DNS- or IP-shaped CN first and drops repeats', () => {
    assert.deepEqual(subjectAltNames('host.example.com', ['alt.example.com', 'host.example.com']), [
      { type: 'dns', value: 'host.example.com' },
      { type: 'dns', value: 'alt.example.com' },
    ]);
    assert.deepEqual(subjectAltNames('10.0.0.1', []), [{ type: 'ip', value: '10.0.0.1' }]);
    assert.deepEqual(subjectAltNames('Alice Smith', ['alice@example.com']), [{ type: 'email', value: 'alice@example.com' }]);
  });
});

describe('names of files', () => {
  it('derives from the CN: lower-case, spaces to dashes, wildcard spelled out', () => {
    assert.equal(deriveName('Host.Example.com'), 'host.example.com');
    assert.equal(deriveName('Build Server'), 'build-server');
    assert.equal(deriveName('*.example.com'), 'wildcard.example.com');
    assert.equal(deriveName('Zoë Laptop'), 'zoë-laptop');
  });
  it('derives from an IPv6 CN: colons to dashes, a leading "::" as "0--"', () => {
    assert.equal(deriveName('2001:db8::7'), '2001-db8--7');
    assert.equal(deriveName('2001:DB8::A'), '2001-db8--a');
    assert.equal(deriveName('::1'), '0--1');
    assert.equal(deriveName('::ffff:10.0.0.1'), '0--ffff-10.0.0.1');
    assert.equal(deriveName('10.0.0.1'), '10.0.0.1');
  });
  it('names in both errors exactly the characters a name may hold', () => {
    for (const good of ['a', '0', 'a.b-c_d@e', 'zoë', '日本', 'x'.repeat(100)]) assert.equal(validateName(good), good);
    for (const bad of ['A', '_a', '-a', '@a', 'a b', 'a+b', 'a:b', 'x'.repeat(101)]) {
      assert.throws(() => validateName(bad), /cannot be used as a file name/, bad);
    }
    const rule = 'lower-case or caseless letters, digits, dots, dashes, "_" and "@", starting with a letter or digit, at most 100 characters, without ".." and not ending in ".chain"';
    assert.throws(() => validateName('A'), (error: CertifiedError) => error.renderHint(FLAGS) === `Use --name with ${rule}.`);
    assert.throws(() => deriveName('fe80::1%eth0'), (error: CertifiedError) => error.message === 'cannot derive a file name from CN "fe80::1%eth0"' && error.renderHint(FLAGS)?.includes(`(${rule})`) === true);
  });
  for (const bad of ['../x', 'a/b', '.hidden', 'x.chain', 'a\\b', 'café$(id)', '..']) {
    it(`never lets ${JSON.stringify(bad)} name a file`, () => {
      assert.throws(() => validateName(bad), /cannot be used as a file name/);
      assert.throws(() => deriveName(bad), /cannot derive a file name/);
    });
  }
});

describe('subjects', () => {
  it('parses attributes case-insensitively and keeps +names apart', () => {
    assert.deepEqual(parseSubjectArguments(['c=US', 'O=Example Inc', 'CN=x', '+y']), { dn: { C: 'US', O: 'Example Inc', CN: 'x' }, sans: ['y'] });
  });
  it('refuses control, bidi and zero-width characters and over-long values', () => {
    for (const cn of ['a\nb', 'a\u0000b', 'evil\u202Etxt', 'zero\u200Bwidth', 'bad\uFFFDutf8', 'x'.repeat(65)]) {
      assert.throws(() => validateDn({ CN: cn }), CertifiedError, JSON.stringify(cn));
    }
    assert.deepEqual(validateDn({ C: 'US', CN: 'x'.repeat(64) }), { C: 'US', CN: 'x'.repeat(64) });
  });
});

describe('normalizeDnsName', () => {
  it('accepts 253 characters and refuses 254', () => {
    const label = 'a'.repeat(63);
    const name = `${label}.${label}.${label}.${'b'.repeat(61)}`;
    assert.equal(name.length, 253);
    assert.equal(normalizeDnsName(name), name);
    assert.throws(() => normalizeDnsName(`${name}c`));
  });
});

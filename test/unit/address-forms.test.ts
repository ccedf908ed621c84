import assert from 'node:assert/strict';
import { BlockList, SocketAddress, isIPv4, isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectAlternativeName } from '@peculiar/asn1-x509';
import { MAX_SANS, normalizeIp, normalizeUri, parseIpRange } from '../../src/ca/address-forms.js';
import { CertifiedError } from '../../src/ca/errors.js';
import { normalizeDnsName, parseSan, sanFromCommonName, subjectAltNames } from '../../src/ca/names.js';
import { buildCertificate } from '../../src/ca/certificate-builder.js';
import { sanExtension } from '../../src/pki/extensions.js';
import { generateKeyPair } from '../../src/pki/keys.js';
import { formatIpAddress, ipAddressBytes } from '../../src/pki/ip-address.js';

/** Every RFC 4291 2.2 form, with the 16 bytes as hex (what must go into the certificate). */
const IPV6_FORMS: Array<[text: string, hex: string]> = [
  ['2001:db8::1', '20010db8000000000000000000000001'],
  ['2001:0db8:0000:0000:0000:0000:0000:0001', '20010db8000000000000000000000001'],
  ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
  ['0001:0db8::0001', '00010db8000000000000000000000001'],
  ['::', '00000000000000000000000000000000'],
  ['::1', '00000000000000000000000000000001'],
  ['1::', '00010000000000000000000000000000'],
  ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
  ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
  ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
  ['::1.2.3.4', '00000000000000000000000001020304'],
  ['::ffff:10.0.0.1', '00000000000000000000ffff0a000001'],
  ['::FFFF:10.0.0.1', '00000000000000000000ffff0a000001'],
  ['0:0:0:0:0:ffff:10.0.0.1', '00000000000000000000ffff0a000001'],
  ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
  ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
  ['1::6:1.2.3.4', '00010000000000000000000601020304'],
  ['1:2:3:4:5::1.2.3.4', '00010002000300040005000001020304'],
  ['::0.0.0.0', '00000000000000000000000000000000'],
  ['fe80::1', 'fe800000000000000000000000000001'],
];

/** Refused forms, each with the reason the message must give. */
const REFUSED: Array<[text: string, reason: RegExp]> = [
  ['fe80::1%eth0', /zone id/],
  ['::1%1', /zone id/],
  ['010.0.0.1', /leading zero, which some programs read as octal/],
  ['10.0.0.01', /leading zero/],
  ['::ffff:010.0.0.1', /leading zero/],
  ['10.0.0.0/8', /is an IP address range, not an address/],
  ['2001:db8::/32', /is an IP address range, not an address/],
  ['1:2:3:4:5:6:7:8:9', /neither a dotted IPv4 address nor an RFC 4291 IPv6 address/],
  ['1:2:3:4:5:6:7:1.2.3.4', /neither/],
  ['1::2::3', /neither/],
  [':::', /neither/],
  ['1.2.3.4::', /neither/],
  ['1.2.3.4::5', /neither/],
  ['::1.2.3', /neither/],
  ['::1.2.3.256', /neither/],
  ['12345::1', /neither/],
  ['1:2:3:4:5:6:7', /neither/],
  ['0x7f.0.0.1', /neither/],
  ['256.0.0.1', /neither/],
  ['1:2:3:4:5:6:7:8::', /neither/],
];

const hex = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('hex') : undefined);

describe('IP addresses: every RFC 4291 text form, the right 16 bytes', () => {
  for (const [text, bytes] of IPV6_FORMS) {
    it(`${text} is ${bytes}, as node:net reads it`, () => {
      assert.equal(hex(ipAddressBytes(text)), bytes);
      assert.equal(isIPv6(text), true, 'node:net accepts the form');
      // node:net as an independent judge: the canonical text and the input are one address to it.
      const canonical = normalizeIp(text);
      const list = new BlockList();
      list.addAddress(canonical, 'ipv6');
      assert.equal(list.check(text, 'ipv6'), true, `${canonical} and ${text} are the same address`);
      assert.equal(new SocketAddress({ address: canonical, family: 'ipv6' }).address, new SocketAddress({ address: text, family: 'ipv6' }).address);
      // The canonical text reads back to the same bytes, and is RFC 5952 hex.
      assert.equal(hex(ipAddressBytes(canonical)), bytes);
      assert.match(canonical, /^[0-9a-f:]+$/);
    });
  }

  it('agrees with node:net on 20,000 generated strings: the same ones accepted, as the same address', () => {
    const pieces = ['0', '1', 'a', 'F', 'ff', '1234', '12345', ':', '::', '.', '1.2.3.4', '255', '256', '01'];
    let seed = 42;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = Array.from({ length: 1 + next(12) }, () => pieces[next(pieces.length)]).join('');
      const bytes = ipAddressBytes(text);
      assert.equal(bytes !== undefined, text.includes(':') ? isIPv6(text) : isIPv4(text), text);
      if (!bytes) continue;
      accepted++;
      const family = bytes.length === 16 ? 'ipv6' : 'ipv4';
      const list = new BlockList();
      list.addAddress(formatIpAddress(bytes), family);
      assert.ok(list.check(text, family), text);
    }
    assert.ok(accepted > 500, `${accepted} valid addresses among them`);
  });

  it('encodes the SAN extension with those bytes (not "::ffff:10" for "::ffff:10.0.0.1")', () => {
    for (const [text, bytes] of IPV6_FORMS) {
      const extension = sanExtension([{ type: 'ip', value: normalizeIp(text) }]);
      const der = Buffer.from(extension.extnValue.buffer);
      // SEQUENCE { [7] 16 bytes }
      assert.equal(der.toString('hex'), `3012${'8710'}${bytes}`, text);
      const names = AsnConvert.parse(extension.extnValue, SubjectAlternativeName);
      assert.equal(names[0]?.iPAddress, normalizeIp(text), 'read back as the canonical text: a manifest entry compares equal');
    }
  });

  it('gives one canonical text to every spelling of one address', () => {
    const spellings = ['::ffff:10.0.0.1', '::FFFF:10.0.0.1', '0:0:0:0:0:ffff:a00:1', '0000:0000:0000:0000:0000:FFFF:0A00:0001', '::ffff:a00:1'];
    assert.deepEqual(new Set(spellings.map(normalizeIp)), new Set(['::ffff:a00:1']));
    assert.equal(normalizeIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'the first longest run of zeros is the one compressed');
    assert.equal(normalizeIp('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1', 'a single zero group stays');
    assert.equal(normalizeIp('10.0.0.1'), '10.0.0.1');
    assert.equal(formatIpAddress(Uint8Array.from([0, 0, 0, 0])), '0.0.0.0');
  });

  for (const [text, reason] of REFUSED) {
    it(`refuses ${text}: ${reason.source}`, () => {
      assert.throws(() => parseSan(`IP:${text}`), (error: CertifiedError) => error instanceof CertifiedError && reason.test(error.message));
    });
  }

  it('takes a bare address with a colon as an IP, and refuses it when it is not one', () => {
    assert.deepEqual(parseSan('::ffff:10.0.0.1'), { type: 'ip', value: '::ffff:a00:1' });
    assert.deepEqual(parseSan('64:ff9b::192.0.2.33'), { type: 'ip', value: '64:ff9b::c000:221' });
    assert.throws(() => parseSan('010.0.0.1'), /octal/);
    assert.throws(() => parseSan('fe80::1%eth0'), /zone id/);
  });

  it('reads name constraint ranges with an IPv4 part', () => {
    assert.deepEqual({ ...parseIpRange('::ffff:10.0.0.0/104'), bytes: undefined }, { address: '::ffff:a00:0', bytes: undefined, prefix: 104 });
    assert.equal(parseIpRange('64:ff9b::192.0.2.0/120')?.address, '64:ff9b::c000:200');
    assert.equal(parseIpRange('10.0.0.0/33'), undefined);
    assert.equal(parseIpRange('::/129'), undefined);
    assert.equal(parseIpRange('10.0.0.0/08'), undefined);
  });
});

describe('a CN gets the checks of a SAN', () => {
  for (const cn of ['*.com', '*', '*.*.example.com', 'a..b.example', 'xn--zz.example.com', 'fe80::1%eth0', '010.0.0.1', '1.2.3.4.5']) {
    it(`refuses CN=${cn} as +${cn} is refused`, () => {
      assert.throws(() => parseSan(cn), CertifiedError);
      assert.throws(() => sanFromCommonName(cn), CertifiedError);
      assert.throws(() => subjectAltNames(cn, []), CertifiedError);
    });
  }
  it('still takes a CN that is not a host name as no SAN, and a host name as one', () => {
    for (const cn of ['Alice Smith', 'Build Server', 'alice@example.com', 'Example Inc.', 'build-server']) assert.equal(sanFromCommonName(cn), undefined, cn);
    assert.deepEqual(sanFromCommonName('*.example.com'), { type: 'dns', value: '*.example.com' });
    assert.deepEqual(sanFromCommonName('::ffff:10.0.0.1'), { type: 'ip', value: '::ffff:a00:1' });
    assert.deepEqual(sanFromCommonName('localhost'), { type: 'dns', value: 'localhost' });
  });
});

describe('punycode labels', () => {
  it('keeps valid xn-- labels and refuses those that do not decode', () => {
    assert.equal(normalizeDnsName('xn--bcher-kva.example'), 'xn--bcher-kva.example');
    assert.equal(normalizeDnsName('XN--BCHER-KVA.example'), 'xn--bcher-kva.example');
    for (const bad of ['xn--zz.example.com', 'a.xn--a.example', '*.xn--zz.example.com']) {
      assert.throws(() => normalizeDnsName(bad), /is not valid punycode/, bad);
    }
  });
});

describe('URI SANs', () => {
  const accepted = ['https://example.org/', 'http://example.org:8080/x?y#z', 'spiffe://example.org/ns/prod/sa/web', 'spiffe://trust_domain.example/svc', 'https://[2001:db8::1]/', 'https://10.0.0.1/', 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'ldaps://ldap.example.com/'];
  for (const uri of accepted) it(`accepts ${uri}`, () => assert.equal(normalizeUri(uri), uri));
  const refused: Array<[string, RegExp]> = [
    ['javascript:alert(1)', /the scheme "javascript:" names no host/],
    ['data:text/html,<script>alert(1)</script>', /the scheme "data:" names no host/],
    ['mailto:alice@example.com', /names no host/],
    ['file:///etc/passwd', /the scheme "file:" names a local resource/],
    ['file://host/share', /the scheme "file:" names a local resource/],
    ['https://user:secret@example.org/', /user name or password/],
    ['https:///path', /the host "" is neither a DNS name nor an IP address/],
    ['https://010.0.0.1/', /neither a DNS name nor an IP address/],
    ['spiffe://xn--zz.example.com/svc', /not valid punycode/],
    ['urn:x', /a URN is urn:<namespace>:<name>/],
    ['no-scheme', /it has no scheme/],
    ['https://example.org/a b', /ASCII without spaces/],
    [`https://example.org/${'x'.repeat(2048)}`, /over 2048 characters/],
  ];
  for (const [uri, reason] of refused) {
    it(`refuses ${uri.slice(0, 40)}`, () => {
      assert.throws(() => parseSan(`URI:${uri}`), (error: CertifiedError) => /is not a valid URI SAN/.test(error.message) && reason.test(error.message));
    });
  }
});

describe('the SAN limit', () => {
  it(`takes ${MAX_SANS} names and refuses one more, before checking any`, () => {
    const names = Array.from({ length: MAX_SANS - 1 }, (_, i) => `n${i}.example.com`);
    assert.equal(subjectAltNames('host.example.com', names).length, MAX_SANS);
    assert.throws(() => subjectAltNames('host.example.com', [...names, 'one-more.example.com']), /1001 names were asked for one certificate, over the limit of 1000/);
    assert.throws(() => subjectAltNames(undefined, Array(10_000).fill('bad name')), /10000 names were asked for one certificate, over the limit of 1000/);
  });

  it('is held where every certificate is built, for names that were never parsed (a renewal of an older certificate)', async () => {
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    const sans = Array.from({ length: MAX_SANS + 1 }, (_, i) => ({ type: 'dns' as const, value: `n${i}.example.com` }));
    const request = { kind: 'self-signed', subject: { CN: 'many' }, publicKey: keys.publicKey, signingKey: keys, key: keys.spec, profile: 'server', now: new Date(), days: 1 } as const;
    await assert.rejects(buildCertificate({ ...request, sans }), /1001 names were asked for one certificate, over the limit of 1000/);
    const built = await buildCertificate({ ...request, sans: sans.slice(0, MAX_SANS) });
    assert.equal(built.certificate.sans.length, MAX_SANS);
  });
});

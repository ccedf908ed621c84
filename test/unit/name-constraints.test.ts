import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { NameConstraints, id_ce_nameConstraints, type Extension } from '@peculiar/asn1-x509';
import { assertNamesPermitted, dnsPermitted, externalConstraints, parsePermittedSubtrees } from '../../src/ca/authorities/name-constraints.js';
import { nameConstraintsExtension, readNameConstraints } from '../../src/pki/extensions.js';
import { createCertificate } from '../../src/pki/certificate.js';
import { generateKeyPair } from '../../src/pki/keys.js';
import { certificateExtensionQuickly } from '../../src/pki/quick-check.js';

describe('name constraints', () => {
  it('matches DNS names as RFC 5280 and OpenSSL do', () => {
    assert.equal(dnsPermitted('a.example.com', 'example.com'), true);
    assert.equal(dnsPermitted('example.com', 'example.com'), true);
    assert.equal(dnsPermitted('badexample.com', 'example.com'), false);
    assert.equal(dnsPermitted('example.com', '.example.com'), false);
    assert.equal(dnsPermitted('a.b.example.com', '.example.com'), true);
    assert.equal(dnsPermitted('*.example.com', '.example.com'), true);
    assert.equal(dnsPermitted('*.example.com', '.a.example.com'), false);
    assert.equal(dnsPermitted('A.EXAMPLE.COM', 'example.com'), true);
  });

  it('parses and normalises the --permit options', () => {
    assert.equal(parsePermittedSubtrees({}), undefined);
    assert.deepEqual(parsePermittedSubtrees({ permitDns: ['.Internal.Example.com', 'bücher.example'], permitIp: ['10.0.0.0/8', 'fd00::/8', '192.168.1.7'], permitEmail: ['alice@example.com', '.example.org'] }), {
      dns: ['.internal.example.com', 'xn--bcher-kva.example'],
      ip: ['10.0.0.0/8', 'fd00::/8', '192.168.1.7/32'],
      email: ['alice@example.com', '.example.org'],
    });
    assert.throws(() => parsePermittedSubtrees({ permitIp: ['fd00::1/8'] }), /has bits set after the \/8 prefix/);
  });

  it('checks every kind of SAN against the constraints of its kind only', () => {
    const issuers = [{ name: 'Test CA', permitted: { dns: ['.example.com'], ip: ['10.0.0.0/8', 'fd00::/8'], email: ['example.com'] } }];
    assertNamesPermitted([{ type: 'dns', value: 'a.example.com' }, { type: 'ip', value: '10.255.0.1' }, { type: 'ip', value: 'fd12::1' }, { type: 'email', value: 'a@example.com' }, { type: 'uri', value: 'spiffe://x/y' }], issuers);
    assert.throws(() => assertNamesPermitted([{ type: 'ip', value: '11.0.0.1' }], issuers), /"IP Address:11\.0\.0\.1" is outside the name constraints of "Test CA" \(permitted: 10\.0\.0\.0\/8, fd00::\/8\)/);
    assert.throws(() => assertNamesPermitted([{ type: 'ip', value: 'fe80::1' }], issuers), /outside/);
    assert.throws(() => assertNamesPermitted([{ type: 'email', value: 'a@sub.example.com' }], issuers), /outside/);
    assertNamesPermitted([{ type: 'ip', value: '192.168.0.1' }], [{ name: 'DNS only', permitted: { dns: ['example.com'], ip: [], email: [] } }]);
  });

  it("narrows the chain's constraints for an external CA, and refuses a subtree wider than the chain's", () => {
    const chain = [
      { name: 'Team CA', permitted: { dns: ['.team.example.com'], ip: ['10.1.0.0/16'], email: [] } },
      { name: 'Example CA', permitted: { dns: ['example.com'], ip: ['10.0.0.0/8'], email: ['.example.com'] } },
    ];
    // Nothing asked: the nearest list of each kind.
    assert.deepEqual(externalConstraints(chain, undefined), { dns: ['.team.example.com'], ip: ['10.1.0.0/16'], email: ['.example.com'] });
    assert.equal(externalConstraints([], undefined), undefined);
    // Asked inside every CA above: it replaces the chain's list of its kind.
    assert.deepEqual(externalConstraints(chain, { dns: ['svc.team.example.com', '.db.team.example.com'], ip: ['10.1.2.0/24'], email: ['ops@a.example.com', 'b.example.com'] }), {
      dns: ['svc.team.example.com', '.db.team.example.com'],
      ip: ['10.1.2.0/24'],
      email: ['ops@a.example.com', 'b.example.com'],
    });
    // An unconstrained chain takes what is asked.
    assert.deepEqual(externalConstraints([], { dns: ['example.org'], ip: [], email: [] }), { dns: ['example.org'], ip: [], email: [] });
    for (const [asked, message] of [
      [{ dns: ['team.example.com'], ip: [], email: [] }, /the permitted DNS domain "team\.example\.com" is outside the name constraints of "Team CA" \(permitted: \.team\.example\.com\)/],
      [{ dns: ['example.org'], ip: [], email: [] }, /"example\.org" is outside the name constraints of "Team CA"/],
      [{ dns: [], ip: ['10.0.0.0/8'], email: [] }, /the permitted address range "10\.0\.0\.0\/8" is outside the name constraints of "Team CA"/],
      [{ dns: [], ip: ['fd00::/8'], email: [] }, /"fd00::\/8" is outside/],
      [{ dns: [], ip: [], email: ['example.com'] }, /the permitted e-mail domain "example\.com" is outside the name constraints of "Example CA" \(permitted: \.example\.com\)/],
    ] as const) {
      assert.throws(() => externalConstraints(chain, { dns: [...asked.dns], ip: [...asked.ip], email: [...asked.email] }), { code: 'INVALID_INPUT', message });
    }
  });

  it('builds a critical extension', () => {
    const extension = nameConstraintsExtension({ dns: ['example.com'], ip: ['10.0.0.0/8'], email: [] });
    assert.equal(extension.extnID, '2.5.29.30');
    assert.equal(extension.critical, true);
    const value = AsnConvert.parse(extension.extnValue.buffer, NameConstraints);
    assert.deepEqual([...(value.permittedSubtrees ?? [])].map(({ base }) => base.dNSName ?? base.iPAddress), ['example.com', '10.0.0.0/8']);
    assert.equal(value.excludedSubtrees, undefined);
  });
});

describe('reading a CA certificate\'s name constraints', () => {
  it('finds them without the X.509 library as the library does, and leaves other files to it', async () => {
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    const make = (extraExtensions: Extension[]) =>
      createCertificate({ subject: { CN: 'CA' }, publicKey: keys.publicKey, serial: '01', notBefore: new Date(0), notAfter: new Date(8.64e12), signingKey: keys, ca: {}, keyUsage: ['keyCertSign'], extraExtensions });
    const permitted = { dns: ['example.com', '.corp.example.com'], ip: ['10.0.0.0/8'], email: ['example.com'] };
    const cases = {
      constrained: (await make([nameConstraintsExtension(permitted)])).pem,
      shut: (await make([nameConstraintsExtension({ dns: ['example.com'], ip: [], email: [] }, { excludeUnlisted: true })])).pem,
      free: (await make([])).pem,
    };
    for (const [name, pem] of Object.entries(cases)) {
      assert.notEqual(certificateExtensionQuickly(pem, id_ce_nameConstraints), undefined, `${name} is read quickly`);
      const crlf = pem.replace(/\n/g, '\r\n');
      assert.equal(certificateExtensionQuickly(crlf, id_ce_nameConstraints), undefined, `${name} with CRLF goes to the library`);
      assert.deepEqual(readNameConstraints(pem), readNameConstraints(crlf), name);
    }
    assert.deepEqual(readNameConstraints(cases.constrained), permitted);
    assert.equal(readNameConstraints(cases.free), undefined);
    // The same extension twice: not read quickly (the library takes the first).
    const twice = (await make([nameConstraintsExtension(permitted), nameConstraintsExtension({ dns: ['other.example'], ip: [], email: [] })])).pem;
    assert.equal(certificateExtensionQuickly(twice, id_ce_nameConstraints), undefined);
    assert.deepEqual(readNameConstraints(twice), permitted);
  });
});

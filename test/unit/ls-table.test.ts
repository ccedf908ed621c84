import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable } from '../../src/cli/commands/ls.js';
import type { CertificateListing } from '../../src/ca/review/list-certificates.js';

function listing(name: string, cn: string, sans: string[], issuer: string): CertificateListing {
  return {
    name,
    cn,
    subject: { CN: cn },
    sans,
    issuer,
    serial: '5de536ae0f1c2b3a4d5e6f708192a3b4',
    notBefore: '2026-12-01T00:00:00.000Z',
    notAfter: '2027-12-01T00:00:00.000Z',
    status: 'valid',
    profile: 'server+client',
    key: 'ECDSA P-256',
    fingerprint: '',
  };
}

const long = [
  listing('a'.repeat(100), 'C'.repeat(64), Array.from({ length: 20 }, (_, i) => `DNS:host-${i}.example.com`), 'i'.repeat(100)),
  listing('web', 'web', ['DNS:web'], 'ca'),
];

describe('the ls table', () => {
  it('keeps a table that fits as it is, whole serials included', () => {
    const text = formatTable([listing('web', 'web', ['DNS:web'], 'ca')], 120);
    assert.equal(text, ['NAME  CN   SANS  ISSUER  SERIAL                            EXPIRES     STATUS', 'web   web  web   ca      5de536ae0f1c2b3a4d5e6f708192a3b4  2027-12-01  valid', ''].join('\n'));
  });
  for (const width of [120, 100, 80, 60, 30]) {
    it(`never goes over ${width} columns`, () => {
      const lines = formatTable(long, width).trimEnd().split('\n');
      assert.equal(lines.length, 3);
      for (const line of lines) assert.ok([...line].length <= width, `${[...line].length}: ${line}`);
      assert.match(lines[0]!, /^NAME /);
    });
  }
  it('cuts the serial first, then the longest cells, then drops CN and SANS', () => {
    assert.match(formatTable(long, 120).split('\n')[2]!, /^web {2,}web {2,}web {2,}ca {2,}5de536ae… {2}2027-12-01 {2}valid$/);
    assert.match(formatTable(long, 80).split('\n')[0]!, /^NAME {2,}SANS {2,}ISSUER {2,}SERIAL {2,}EXPIRES {5}STATUS$/);
    assert.match(formatTable(long, 60).split('\n')[0]!, /^NAME {2,}ISSUER {2,}SERIAL {2,}EXPIRES {5}STATUS$/);
  });
});

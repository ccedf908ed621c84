import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CertificateInfo } from '../../src/pki/certificate.js';
import { crlUrlFor } from '../../src/ca/authorities/issuers.js';
import { lifetimeDays } from '../../src/ca/issuing/renew-certificate.js';
import { parseReason } from '../../src/ca/revocation/revoke-certificate.js';

describe('parseReason', () => {
  it('defaults to unspecified and accepts the five reasons in any case', () => {
    assert.equal(parseReason(undefined), 'unspecified');
    assert.equal(parseReason('keyCompromise'), 'keyCompromise');
    assert.equal(parseReason('SUPERSEDED'), 'superseded');
    assert.equal(parseReason('cessationofoperation'), 'cessationOfOperation');
    assert.equal(parseReason('affiliationChanged'), 'affiliationChanged');
  });

  it('refuses anything else as a usage error naming the choices', () => {
    assert.throws(() => parseReason('cACompromise'), { exitCode: 2, message: /^the revocation reason must be one of unspecified, keyCompromise, superseded, cessationOfOperation, affiliationChanged, got "cACompromise"$/ });
    assert.throws(() => parseReason(''), { exitCode: 2 });
  });
});

describe('crlUrlFor', () => {
  const config = { version: 1 as const, subject: {}, crlDays: 7, crlUrl: 'http://pki.example.com/crl/ca.crl', rootCrlUrl: 'http://pki.example.com/crl/root-ca.crl' };

  it("gives the root's, the intermediate's and a sub-CA's derived URL", () => {
    assert.equal(crlUrlFor(config, 'root-ca'), 'http://pki.example.com/crl/root-ca.crl');
    assert.equal(crlUrlFor(config, 'ca'), 'http://pki.example.com/crl/ca.crl');
    assert.equal(crlUrlFor(config, 'team-ca'), 'http://pki.example.com/crl/team-ca.crl');
  });

  it('gives a sub-CA no URL rather than another issuer\'s', () => {
    assert.equal(crlUrlFor({ ...config, crlUrl: 'http://pki.example.com/intermediate.crl' }, 'team-ca'), undefined);
    assert.equal(crlUrlFor({ version: 1, subject: {}, crlDays: 7 }, 'team-ca'), undefined);
  });
});

describe('lifetimeDays', () => {
  it('is the validity the certificate was issued for, without the one-minute backdating', () => {
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const at = (days: number) => ({ notBefore, notAfter: new Date(notBefore.getTime() + 60_000 + days * 86_400_000) }) as CertificateInfo;
    assert.equal(lifetimeDays(at(90)), 90);
    assert.equal(lifetimeDays(at(365)), 365);
    assert.equal(lifetimeDays(at(0)), 1);
  });
});

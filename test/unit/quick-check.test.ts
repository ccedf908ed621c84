import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectCertificates, verifySignatures } from '../../src/ca/review/check-certificates.js';
import { checkRecordFields } from '../../src/ca/review/check-records.js';
import { createCertificate, describeCertificate, parseCertificate, verifyCertificateSignature } from '../../src/pki/certificate.js';
import { readIssuer } from '../../src/pki/issuer.js';
import { X509Certificate as LibraryCertificate } from '../../src/pki/x509.js';
import { createCrl, verifyCrlSignature } from '../../src/pki/crl.js';
import { inspectCertificate, inspectCrl } from '../../src/pki/inspect.js';
import { generateKeyPair, type KeyPair } from '../../src/pki/keys.js';
import { readPemBlocks } from '../../src/pki/pem-blocks.js';
import { inspectCertificateTextQuickly, inspectCrlTextQuickly, issuerKeyOf, verifyCertificateNatively, verifySignatureQuickly } from '../../src/pki/quick-check.js';
import { CaStore } from '../../src/store/ca-store.js';
import type { CertificateRecord } from '../../src/store/records.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * check reads certificates and CRLs without the X.509 library when they are as certified writes
 * them (pki/quick-check.ts): the views, the signature verdicts and so the findings must be the
 * library's, on good files and on tampered ones.
 */

const NOT_BEFORE = new Date('2026-01-02T03:04:05Z');
const NOT_AFTER = new Date('2027-01-02T03:04:05Z');

async function caOf(cn: string, keys: KeyPair) {
  return createCertificate({ subject: { O: 'Example', CN: cn }, publicKey: keys.publicKey, serial: '0a0b', notBefore: NOT_BEFORE, notAfter: NOT_AFTER, signingKey: keys, ca: { pathLength: 0 }, keyUsage: ['keyCertSign', 'cRLSign'] });
}

async function fixtures() {
  const caKeys = await generateKeyPair({ type: 'ecdsa', curve: 'P-384' });
  const ca = await caOf('Test CA', caKeys);
  const otherKeys = await generateKeyPair({ type: 'ecdsa', curve: 'P-384' });
  // Another CA of the same name: the wrong issuer for what the first one signed.
  const other = await caOf('Test CA', otherKeys);
  const rsaKeys = await generateKeyPair({ type: 'rsa', bits: 2048 });
  const rsaCa = await caOf('RSA CA', rsaKeys);
  const leafKeys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
  const leaf = await createCertificate({
    subject: { C: 'US', O: 'Example', CN: 'a.example.com' }, publicKey: leafKeys.publicKey, serial: '7f01', notBefore: NOT_BEFORE, notAfter: NOT_AFTER,
    issuerPem: ca.pem, signingKey: caKeys, keyUsage: ['digitalSignature'], extendedKeyUsage: ['serverAuth', 'clientAuth'],
    sans: [{ type: 'dns', value: 'a.example.com' }, { type: 'ip', value: '10.0.0.1' }, { type: 'ip', value: '2001:db8::1' }],
    crlUrl: 'http://pki.example.com/ca.crl', ocspUrl: 'http://ocsp.example.com',
  });
  const rsaLeafKeys = await generateKeyPair({ type: 'rsa', bits: 2048 });
  const rsaLeaf = await createCertificate({
    subject: { CN: 'b.example.com' }, publicKey: rsaLeafKeys.publicKey, serial: '01', notBefore: NOT_BEFORE, notAfter: NOT_AFTER,
    issuerPem: rsaCa.pem, signingKey: rsaKeys, keyUsage: ['digitalSignature', 'keyEncipherment'], extendedKeyUsage: ['serverAuth'], sans: [{ type: 'email', value: 'b@example.com' }],
  });
  const crl = await createCrl({ issuerPem: ca.pem, signingKey: caKeys, crlNumber: 4, thisUpdate: NOT_BEFORE, nextUpdate: NOT_AFTER, entries: [{ serial: '7f01', revokedAt: NOT_BEFORE, reason: 'superseded' }] });
  return { ca: ca.pem, other: other.pem, rsaCa: rsaCa.pem, leaf: leaf.pem, rsaLeaf: rsaLeaf.pem, crl };
}

/** The PEM of `pem`'s DER with the byte at `at` (from the end when negative) flipped. */
function flipped(pem: string, at: number, mask = 0x01): string {
  const [block] = readPemBlocks(pem);
  const der = Buffer.from(block!.der);
  const index = at < 0 ? der.length + at : at;
  der[index] = der[index]! ^ mask;
  const lines = der.toString('base64').match(/.{1,64}/g)!;
  return `-----BEGIN ${block!.label}-----\n${lines.join('\n')}\n-----END ${block!.label}-----\n`;
}

describe('check reads certificates and CRLs as the library does, without it', () => {
  it('decodes certificates and CRLs to the same views', async () => {
    const pems = await fixtures();
    for (const name of ['ca', 'other', 'rsaCa', 'leaf', 'rsaLeaf'] as const) {
      const quick = inspectCertificateTextQuickly(pems[name]);
      assert.ok(quick, `${name} is read quickly`);
      assert.deepEqual(quick, inspectCertificate(pems[name]), name);
    }
    const crl = inspectCrlTextQuickly(pems.crl);
    assert.ok(crl, 'the CRL is read quickly');
    assert.deepEqual(crl, inspectCrl(pems.crl));
  });

  it('gives parseCertificate and readIssuer the library\'s answers', async () => {
    const pems = await fixtures();
    for (const name of ['ca', 'rsaCa', 'leaf', 'rsaLeaf'] as const) {
      assert.deepEqual(parseCertificate(pems[name]), describeCertificate(new LibraryCertificate(pems[name])), name);
      // CRLF line ends: not as certified writes it, so read by the library.
      const { pem: quickPem, ...quick } = readIssuer(pems[name]);
      const { pem: libraryPem, ...library } = readIssuer(pems[name].replace(/\n/g, '\r\n'));
      assert.deepEqual([quickPem, libraryPem], [pems[name], pems[name].replace(/\n/g, '\r\n')]);
      assert.deepEqual(quick, library, name);
    }
  });

  it('leaves a file not written as certified writes it to the library, and check still reads it', async () => {
    const pems = await fixtures();
    const crlf = pems.leaf.replace(/\n/g, '\r\n');
    assert.equal(inspectCertificateTextQuickly(crlf), undefined);
    assert.equal(inspectCertificateTextQuickly(`# a note\n${pems.leaf}`), undefined);
    assert.equal(inspectCertificateTextQuickly(pems.leaf + pems.ca), undefined);
    assert.equal(inspectCrlTextQuickly(pems.crl.replace(/\n/g, '\r\n')), undefined);
    const dir = mkdtempSync(join(tmpdir(), 'certified-quick-check-'));
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs/crlf.crt'), crlf);
    writeFileSync(join(dir, 'certs/plain.crt'), pems.leaf);
    const [fromCrlf, plain] = await inspectCertificates(CaStore.open(dir, { lockTimeoutMs: 0 }), ['crlf', 'plain']);
    assert.deepEqual(fromCrlf, plain);
    const { der: _unused, ...view } = inspectCertificate(pems.leaf);
    assert.deepEqual(plain, { view });
  });

  it('gives the verdicts of the library on good signatures, tampered ones and the wrong issuer', async () => {
    const pems = await fixtures();
    const cases: { what: string; pem: string; issuer: string; valid: boolean; label?: 'X509 CRL' }[] = [
      { what: 'an EC leaf', pem: pems.leaf, issuer: pems.ca, valid: true },
      { what: 'an RSA leaf', pem: pems.rsaLeaf, issuer: pems.rsaCa, valid: true },
      { what: 'a self-signed CA', pem: pems.ca, issuer: pems.ca, valid: true },
      { what: 'a bad signature (its last byte changed)', pem: flipped(pems.leaf, -1), issuer: pems.ca, valid: false },
      { what: 'a bad RSA signature', pem: flipped(pems.rsaLeaf, -1), issuer: pems.rsaCa, valid: false },
      { what: 'a signed field changed (the serial)', pem: flipped(pems.leaf, 15), issuer: pems.ca, valid: false },
      { what: 'the wrong issuer (same name, another key)', pem: pems.leaf, issuer: pems.other, valid: false },
      { what: 'an issuer of another key type', pem: pems.leaf, issuer: pems.rsaCa, valid: false },
      { what: 'a CRL', pem: pems.crl, issuer: pems.ca, valid: true, label: 'X509 CRL' },
      { what: 'a CRL with a bad signature', pem: flipped(pems.crl, -1), issuer: pems.ca, valid: false, label: 'X509 CRL' },
      { what: 'a CRL checked against the wrong issuer', pem: pems.crl, issuer: pems.other, valid: false, label: 'X509 CRL' },
    ];
    for (const { what, pem, issuer, valid, label } of cases) {
      const library = label ? await verifyCrlSignature(pem, issuer).catch(() => false) : await verifyCertificateSignature(pem, issuer);
      assert.equal(library, valid, `${what}: the library`);
      const quick = label ? verifySignatureQuickly(pem, label, issuerKeyOf(issuer)!) : verifyCertificateNatively(pem, issuerKeyOf(issuer)!);
      // Another key type than the signature's is left to the library, which says no.
      if (what !== 'an issuer of another key type') assert.equal(quick, valid, `${what}: read quickly`);
      if (!label) assert.deepEqual(await verifySignatures([[pem, issuer]]), [valid], `${what}: check`);
    }
  });

  it('agrees with the library on certificates and CRLs altered byte by byte', async () => {
    const pems = await fixtures();
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let quickly = 0;
    for (const [name, issuer] of [['leaf', pems.ca], ['rsaLeaf', pems.rsaCa], ['crl', pems.ca]] as const) {
      const label = name === 'crl' ? 'X509 CRL' : 'CERTIFICATE';
      const length = readPemBlocks(pems[name])[0]!.der.length;
      for (let run = 0; run < 120; run++) {
        const pem = flipped(pems[name], random(length), 1 << random(8));
        const view = label === 'CERTIFICATE' ? inspectCertificateTextQuickly(pem) : inspectCrlTextQuickly(pem);
        if (view) {
          quickly++;
          const library = label === 'CERTIFICATE' ? inspectCertificate(pem) : inspectCrl(pem);
          assert.deepEqual(view, library, `${name}, run ${run}: the view`);
        }
        const verdict = label === 'X509 CRL' ? verifySignatureQuickly(pem, label, issuerKeyOf(issuer)!) : verifyCertificateNatively(pem, issuerKeyOf(issuer)!);
        if (verdict === undefined) continue;
        const library = label === 'CERTIFICATE' ? await verifyCertificateSignature(pem, issuer) : await verifyCrlSignature(pem, issuer).catch(() => false);
        assert.equal(verdict, library, `${name}, run ${run}: the signature`);
      }
    }
    assert.ok(quickly > 100, `${quickly} altered files were read quickly`);
  });

  it('finds the same differences between a certificate and an edited record', async () => {
    const pems = await fixtures();
    const quick = inspectCertificateTextQuickly(pems.leaf)!;
    const library = inspectCertificate(pems.leaf);
    const record: CertificateRecord = {
      name: 'a', serial: quick.serial, issuer: 'ca', subject: quick.subject, sans: ['DNS:a.example.com', 'DNS:b.example.com'], profile: 'server+client', key: 'ECDSA P-256',
      notBefore: NOT_BEFORE.toISOString(), notAfter: '2030-01-01T00:00:00.000Z', fingerprint: quick.fingerprint, status: 'valid',
    };
    const found = checkRecordFields('a', quick, record, 'records/ca/7f01.json');
    assert.deepEqual(found.map((item) => item.code), ['record-mismatch', 'record-mismatch']);
    assert.deepEqual(found, checkRecordFields('a', library, record, 'records/ca/7f01.json'));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { createCertificate, parseCertificate, verifyCertificateSignature } from '../../src/pki/certificate.js';
import { createCrl, encodeRevokedCertificate, parseCrl, readCrlNumber, readCrlSummary, revokedCertificate, verifyCrlSignature } from '../../src/pki/crl.js';
import { createCsr, parseCsr } from '../../src/pki/csr.js';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { DamagedKeyError, exportPrivateKey, generateKeyPair, importPrivateKey, keyIdOfPrivateKeyPem, keySpecOf, keySpecOfSpki } from '../../src/pki/keys.js';
import { readPemBlocks } from '../../src/pki/pem.js';
import { randomSerial, serialOctets } from '../../src/pki/serial.js';

describe('pki', () => {
  it('round-trips encrypted keys and refuses a wrong password', async () => {
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    const pem = await exportPrivateKey(keys.privateKey, 'a good password');
    assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n[\s\S]+-----END ENCRYPTED PRIVATE KEY-----\n$/);
    assert.deepEqual((await importPrivateKey(pem, 'a good password')).spec, { type: 'ecdsa', curve: 'P-256' });
    await assert.rejects(importPrivateKey(pem, 'wrong'), /wrong password/);
    await assert.rejects(importPrivateKey(pem), /no password/);
  });

  it('makes keys of the spec asked, which keySpecOf answers as OpenSSL reads the key', async () => {
    for (const spec of [{ type: 'ecdsa', curve: 'P-256' }, { type: 'ecdsa', curve: 'P-384' }, { type: 'rsa', bits: 2048 }] as const) {
      const keys = await generateKeyPair(spec);
      assert.deepEqual(keySpecOf(keys.publicKey), spec);
      // A copy of the key, which keySpecOf reads from OpenSSL's details.
      assert.deepEqual(keySpecOf(createPublicKey(keys.publicKey.export({ type: 'spki', format: 'pem' }))), spec);
      assert.deepEqual(keySpecOf(keys.privateKey), spec);
    }
  });

  it('refuses an EC key whose public key is not the one its private key gives, plain or encrypted', async () => {
    for (const curve of ['P-256', 'P-384'] as const) {
      const stored = (await generateKeyPair({ type: 'ecdsa', curve })).privateKey.export({ format: 'jwk' });
      const other = (await generateKeyPair({ type: 'ecdsa', curve })).privateKey.export({ format: 'jwk' });
      const damaged = createPrivateKey({ key: { ...stored, d: other.d }, format: 'jwk' });
      await assert.rejects(importPrivateKey(await exportPrivateKey(damaged)), DamagedKeyError);
      await assert.rejects(importPrivateKey(await exportPrivateKey(damaged, 'a good password'), 'a good password'), DamagedKeyError);
      const sound = await importPrivateKey(await exportPrivateKey(createPrivateKey({ key: stored, format: 'jwk' })));
      assert.deepEqual(sound.spec, { type: 'ecdsa', curve });
      // A private key past the curve's order, which OpenSSL takes as it is.
      const tooLarge = createPrivateKey({ key: { ...stored, d: Buffer.alloc(curve === 'P-256' ? 32 : 48, 0xff).toString('base64url') }, format: 'jwk' });
      await assert.rejects(importPrivateKey(await exportPrivateKey(tooLarge)), DamagedKeyError);
    }
  });

  it('makes random serials that always encode as 16 octets', () => {
    const serials = new Set(Array.from({ length: 2000 }, randomSerial));
    assert.equal(serials.size, 2000);
    for (const serial of serials) {
      assert.match(serial, /^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/);
      assert.equal(serialOctets(serial).byteLength, 16);
    }
  });

  it('builds a chain, a CSR with SANs and a CRL that verify and parse back', async () => {
    const caKeys = await generateKeyPair({ type: 'ecdsa', curve: 'P-384' });
    const now = new Date();
    const later = new Date(now.getTime() + 86_400_000);
    const ca = await createCertificate({ subject: { CN: 'Test CA' }, publicKey: caKeys.publicKey, serial: randomSerial(), notBefore: now, notAfter: later, signingKey: caKeys, ca: {}, keyUsage: ['keyCertSign', 'cRLSign'] });
    const leafKeys = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const sans = [{ type: 'dns' as const, value: 'a.example.com' }, { type: 'ip' as const, value: '10.0.0.1' }];
    const leaf = await createCertificate({ subject: { C: 'US', CN: 'a.example.com' }, publicKey: leafKeys.publicKey, serial: randomSerial(), notBefore: now, notAfter: later, issuerPem: ca.pem, signingKey: caKeys, keyUsage: ['digitalSignature'], extendedKeyUsage: ['serverAuth'], sans });
    assert.ok(await verifyCertificateSignature(leaf.pem, ca.pem));
    assert.ok(!(await verifyCertificateSignature(ca.pem, leaf.pem)));
    const parsed = parseCertificate(leaf.pem);
    assert.deepEqual(parsed.subject, { C: 'US', CN: 'a.example.com' });
    assert.deepEqual(parsed.sans, sans);
    assert.deepEqual(parsed.key, { type: 'rsa', bits: 2048 });
    assert.equal(parsed.authorityKeyId, ca.subjectKeyId);
    assert.equal(readPemBlocks(leaf.pem + ca.pem).length, 2);

    const csr = await parseCsr(await createCsr({ subject: { CN: 'a.example.com' }, sans, keyPair: leafKeys }));
    assert.ok(csr.signatureValid);
    assert.deepEqual(csr.sans, sans);

    const crlPem = await createCrl({ issuerPem: ca.pem, signingKey: caKeys, crlNumber: 7, thisUpdate: now, nextUpdate: later, entries: [{ serial: leaf.serial, revokedAt: now, reason: 'keyCompromise' }] });
    assert.match(crlPem, /^-----BEGIN X509 CRL-----\n[\s\S]+\n-----END X509 CRL-----\n$/);
    assert.ok(await verifyCrlSignature(crlPem, ca.pem));
    const crl = parseCrl(crlPem);
    assert.equal(crl.crlNumber, 7);
    assert.equal(readCrlNumber(crlPem), 7);
    // Numbers of four bytes or more (every signing-time number) come back as numbers, not strings.
    for (const big of [1_796_124_460, 3_000_000_000, 2 ** 40 + 5]) {
      const bigPem = await createCrl({ issuerPem: ca.pem, signingKey: caKeys, crlNumber: big, thisUpdate: now, nextUpdate: later, entries: [] });
      assert.strictEqual(readCrlNumber(bigPem), big);
      assert.strictEqual(parseCrl(bigPem).crlNumber, big);
    }
    assert.deepEqual(crl.entries.map((entry) => [entry.serial, entry.reason]), [[leaf.serial, 'keyCompromise']]);
  });

  it('describes a certificate it builds exactly as parsing the certificate back does', async () => {
    const now = new Date();
    const later = new Date(now.getTime() + 86_400_000);
    const caKeys = await generateKeyPair({ type: 'ecdsa', curve: 'P-384' });
    const rsaKeys = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const p256Keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    const root = await createCertificate({ subject: { C: 'US', O: 'Example', CN: 'Test Root' }, publicKey: caKeys.publicKey, serial: randomSerial(), notBefore: now, notAfter: later, signingKey: caKeys, ca: {}, keyUsage: ['cRLSign', 'keyCertSign'] });
    const common = { serial: randomSerial(), notBefore: now, notAfter: later, issuerPem: root.pem, signingKey: caKeys };
    const built = [
      root,
      await createCertificate({ ...common, subject: { CN: 'Sub CA' }, publicKey: rsaKeys.publicKey, ca: { pathLength: 0 }, keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'], crlUrl: 'http://crl.example.com/root.crl' }),
      await createCertificate({
        ...common,
        subject: { C: 'US', ST: 'CA', L: 'SF', O: 'Example', OU: 'Web', CN: 'both.example.com' },
        publicKey: p256Keys.publicKey,
        keyUsage: ['keyEncipherment', 'digitalSignature'],
        extendedKeyUsage: ['clientAuth', 'serverAuth'],
        sans: [
          { type: 'dns', value: '*.example.com' },
          { type: 'ip', value: '192.168.1.20' },
          { type: 'email', value: 'ops@example.com' },
          { type: 'uri', value: 'spiffe://example.com/web' },
        ],
        crlUrl: 'http://crl.example.com/ca.crl',
        ocspUrl: 'http://ocsp.example.com',
      }),
      await createCertificate({ ...common, subject: { CN: 'v6' }, publicKey: p256Keys.publicKey, keyUsage: ['digitalSignature'], extendedKeyUsage: ['serverAuth'], sans: [{ type: 'ip', value: '2001:DB8:0::1' }] }),
    ];
    for (const certificate of built) assert.deepEqual(certificate, parseCertificate(certificate.pem), certificate.subject.CN);
  });

  it('signs with the algorithm each key type names, as native verifiers check it', async () => {
    const now = new Date();
    const later = new Date(now.getTime() + 86_400_000);
    const signers = [
      { spec: { type: 'rsa', bits: 2048 }, oid: '1.2.840.113549.1.1.11', parameters: true }, // sha256WithRSAEncryption, NULL parameters
      { spec: { type: 'ecdsa', curve: 'P-256' }, oid: '1.2.840.10045.4.3.2', parameters: false }, // ecdsa-with-SHA256
      { spec: { type: 'ecdsa', curve: 'P-384' }, oid: '1.2.840.10045.4.3.3', parameters: false }, // ecdsa-with-SHA384
    ] as const;
    const leafKeys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    for (const { spec, oid, parameters } of signers) {
      const keys = await generateKeyPair(spec);
      const ca = await createCertificate({ subject: { CN: `CA ${oid}` }, publicKey: keys.publicKey, serial: randomSerial(), notBefore: now, notAfter: later, signingKey: keys, ca: {}, keyUsage: ['keyCertSign'] });
      const leaf = await createCertificate({ subject: { CN: 'leaf' }, publicKey: leafKeys.publicKey, serial: randomSerial(), notBefore: now, notAfter: later, issuerPem: ca.pem, signingKey: keys, keyUsage: ['digitalSignature'] });
      const asn = AsnConvert.parse(leaf.der, Certificate);
      assert.equal(asn.signatureAlgorithm.algorithm, oid);
      assert.equal(asn.tbsCertificate.signature.algorithm, oid);
      assert.equal(asn.signatureAlgorithm.parameters !== undefined, parameters);
      assert.ok(await verifyCertificateSignature(leaf.pem, ca.pem), oid);
      assert.ok(await verifyCertificateSignature(ca.pem, ca.pem), `${oid}, self-signed`);
      const csr = await parseCsr(await createCsr({ subject: { CN: 'leaf' }, sans: [], keyPair: keys }));
      assert.ok(csr.signatureValid, `${oid}, CSR`);
    }
  });

  it('refuses a CRL that lists one serial twice, however it is written', async () => {
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    const now = new Date();
    const ca = await createCertificate({ subject: { CN: 'CA' }, publicKey: keys.publicKey, serial: randomSerial(), notBefore: now, notAfter: new Date(now.getTime() + 60_000), signingKey: keys, ca: {}, keyUsage: ['cRLSign'] });
    const entry = (serial: string) => ({ serial, revokedAt: now, reason: 'superseded' as const });
    const crl = (serials: string[]) => createCrl({ issuerPem: ca.pem, signingKey: keys, crlNumber: 1, thisUpdate: now, nextUpdate: now, entries: serials.map(entry) });
    await assert.rejects(crl(['fff', '0fff']), /serial .* is listed twice/);
    await assert.rejects(crl(['00ab', 'AB']), /serial .* is listed twice/);
    assert.equal(parseCrl(await crl(['fff', '1fff'])).entries.length, 2);
  });

  it('reads the CRL number and serials from the DER exactly as parsing the whole CRL does', async () => {
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    const now = new Date();
    const ca = await createCertificate({ subject: { CN: 'CA' }, publicKey: keys.publicKey, serial: randomSerial(), notBefore: now, notAfter: new Date(now.getTime() + 60_000), signingKey: keys, ca: {}, keyUsage: ['cRLSign'] });
    const reasons = ['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged'] as const;
    const serials = ['ff01', '00ab', '7f', '1', ...Array.from({ length: 200 }, () => randomSerial())];
    // Dates from 2050 on are GeneralizedTime, before UTCTime.
    const entries = serials.map((serial, index) => ({ serial, revokedAt: new Date(Date.UTC(2049 + (index % 3), 0, 1 + index)), reason: reasons[index % reasons.length]! }));
    for (const [list, crlNumber, nextUpdate] of [[entries, 1_796_124_460, new Date(Date.UTC(2051, 0, 1))], [[], 7, new Date(now.getTime() + 1000)]] as const) {
      const pem = await createCrl({ issuerPem: ca.pem, signingKey: keys, crlNumber, thisUpdate: now, nextUpdate, entries: [...list] });
      const parsed = parseCrl(pem);
      assert.deepEqual(readCrlSummary(pem), { crlNumber: parsed.crlNumber, serials: parsed.entries.map((entry) => entry.serial) });
      assert.equal(readCrlSummary(pem).serials.length, list.length);
      assert.equal(readCrlNumber(pem), crlNumber);
    }
    const pem = await createCrl({ issuerPem: ca.pem, signingKey: keys, crlNumber: 3, thisUpdate: now, nextUpdate: now, entries: entries.slice(0, 3) });
    const der = readPemBlocks(pem)[0]!.der;
    const truncated = `-----BEGIN X509 CRL-----\n${Buffer.from(der.subarray(0, der.length - 20)).toString('base64')}\n-----END X509 CRL-----\n`;
    assert.throws(() => readCrlSummary(truncated), /truncated DER|not a DER CertificateList/);
    assert.throws(() => readCrlSummary('no PEM here'), /no PEM block/);
  });

  it('encodes a CRL entry byte for byte as the schema does', () => {
    const reasons = ['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged'] as const;
    const serials = ['ff01', '0000ab', '7f', '1', '80', '00', ...Array.from({ length: 50 }, () => randomSerial())];
    const dates = [new Date(Date.UTC(1950, 0, 1)), new Date(Date.UTC(1949, 11, 31, 23, 59, 59)), new Date(Date.UTC(2049, 11, 31, 23, 59, 59, 999)), new Date(Date.UTC(2050, 0, 1)), new Date('2026-12-01T19:14:04.123Z'), new Date(Date.UTC(2009, 8, 9, 9, 9, 9))];
    let count = 0;
    for (const [index, serial] of serials.entries()) {
      for (const revokedAt of dates) {
        const entry = { serial, revokedAt, reason: reasons[(index + count++) % reasons.length]! };
        assert.equal(Buffer.from(encodeRevokedCertificate(entry)).toString('hex'), Buffer.from(AsnConvert.serialize(revokedCertificate(entry))).toString('hex'), JSON.stringify(entry));
      }
    }
  });

  it('encodes a serial as a positive INTEGER and reads it back without leading zero bytes', async () => {
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    const now = new Date();
    const cases: [serial: string, content: string, readBack: string][] = [
      ['ff01', '00ff01', 'ff01'],
      ['0000ab', '00ab', 'ab'],
      ['007f', '7f', '7f'],
    ];
    for (const [serial, content, readBack] of cases) {
      const certificate = await createCertificate({ subject: { CN: serial }, publicKey: keys.publicKey, serial, notBefore: now, notAfter: new Date(now.getTime() + 60_000), signingKey: keys, keyUsage: ['digitalSignature'] });
      assert.equal(Buffer.from(AsnConvert.parse(certificate.der, Certificate).tbsCertificate.serialNumber).toString('hex'), content);
      assert.equal(certificate.serial, readBack);
      assert.equal(parseCertificate(certificate.pem).serial, readBack);
    }
  });

  it('reads a key identifier from an unencrypted PKCS#8 key, EC and RSA, equal to its certificate\'s', async () => {
    for (const spec of [{ type: 'ecdsa', curve: 'P-256' }, { type: 'rsa', bits: 2048 }] as const) {
      const keys = await generateKeyPair(spec);
      const certificate = await createCertificate({
        subject: { CN: 'k' },
        publicKey: keys.publicKey,
        serial: randomSerial(),
        notBefore: new Date(),
        notAfter: new Date(Date.now() + 86_400_000),
        signingKey: keys,
        keyUsage: ['digitalSignature'],
      });
      assert.equal(keyIdOfPrivateKeyPem(await exportPrivateKey(keys.privateKey)), certificate.subjectKeyId);
      assert.equal(keyIdOfPrivateKeyPem(await exportPrivateKey(keys.privateKey, 'a password here')), undefined);
    }
    assert.equal(keyIdOfPrivateKeyPem('not a key'), undefined);
  });

  it('reads the key type and size from a SubjectPublicKeyInfo as importing the key says them', () => {
    const keys = [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      ...[1024, 1025, 2048, 3072, 4095].map((modulusLength) => generateKeyPairSync('rsa', { modulusLength })),
    ];
    for (const { publicKey } of keys) {
      const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
      assert.deepEqual(keySpecOfSpki(spki), keySpecOf(publicKey));
      assert.equal(keySpecOfSpki(spki.subarray(0, spki.length - 1)), undefined);
    }
    // Another curve or algorithm: left to the import, which names it.
    for (const { publicKey } of [generateKeyPairSync('ec', { namedCurve: 'P-521' }), generateKeyPairSync('ed25519')]) {
      assert.equal(keySpecOfSpki(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))), undefined);
    }
  });

  it('reads the key identifier of an EC key from its DER as the schema parse does', () => {
    for (const curve of ['P-256', 'P-384'] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
      const point = spki.subarray(spki.length - (curve === 'P-256' ? 65 : 97));
      assert.equal(keyIdOfPrivateKeyPem(pem), createHash('sha1').update(point).digest('hex'));
    }
  });
});

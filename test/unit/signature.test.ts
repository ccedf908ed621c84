import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, verify } from 'node:crypto';
import { test } from 'node:test';
import { AsnConvert, AsnSerializer } from '@peculiar/asn1-schema';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9';
import { Attribute, Certificate, Extensions, TBSCertificate, Validity, Version } from '@peculiar/asn1-x509';
import { createCertificate, toBeSigned, type CreateCertificateParams } from '../../src/pki/certificate.js';
import { toArrayBuffer } from '../../src/pki/bytes.js';
import { authorityKeyIdExtension, nameConstraintsExtension, profileExtensions, sanExtension, subjectKeyIdExtension } from '../../src/pki/extensions.js';
import { readIssuer } from '../../src/pki/issuer.js';
import { toAsnName } from '../../src/pki/name.js';
import { createCrl } from '../../src/pki/crl.js';
import { createCsr } from '../../src/pki/csr.js';
import { keyIdentifier, signatureAlgorithmIdentifier, subjectPublicKeyInfo } from '../../src/pki/signature.js';
import { generateKeyPair, type KeySpec } from '../../src/pki/keys.js';
import { readPemBlocks } from '../../src/pki/pem.js';
import { randomSerial, serialOctets } from '../../src/pki/serial.js';

const der = (pem: string): Buffer => Buffer.from(readPemBlocks(pem)[0]!.der);

/** One DER tag-length-value at `at`: where its value starts and where it ends. */
function tlv(bytes: Buffer, at: number): { tag: number; start: number; end: number } {
  const first = bytes[at + 1]!;
  const size = first < 0x80 ? 0 : first & 0x7f;
  let length = first < 0x80 ? first : 0;
  for (let index = 0; index < size; index++) length = length * 256 + bytes[at + 2 + index]!;
  // DER: the shortest form of the length.
  if (size) assert.ok(length >= 0x80 && bytes[at + 2] !== 0, 'a long length only where the short one cannot hold it');
  const start = at + 2 + size;
  return { tag: bytes[at]!, start, end: start + length };
}

/** SEQUENCE { signed part, algorithm, BIT STRING with no unused bits }, filling the bytes, with a signature that verifies. */
function assertSignedDer(bytes: Buffer, publicKey: ReturnType<typeof createPublicKey>, spec: KeySpec): void {
  const outer = tlv(bytes, 0);
  assert.deepEqual([outer.tag, outer.end], [0x30, bytes.length]);
  const signed = tlv(bytes, outer.start);
  const algorithm = tlv(bytes, signed.end);
  const bits = tlv(bytes, algorithm.end);
  assert.deepEqual([signed.tag, algorithm.tag, bits.tag, bits.end, bytes[bits.start]], [0x30, 0x30, 0x03, outer.end, 0]);
  const hash = spec.type === 'ecdsa' && spec.curve === 'P-384' ? 'sha384' : 'sha256';
  const signature = bytes.subarray(bits.start + 1, bits.end);
  assert.ok(verify(hash, bytes.subarray(outer.start, signed.end), { key: publicKey, dsaEncoding: 'der' }, signature));
}

test('certificates, CRLs and CSRs are one DER SEQUENCE of the signed part, the algorithm and the signature', async () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const later = new Date('2027-01-01T00:00:00Z');
  for (const spec of [{ type: 'ecdsa', curve: 'P-256' }, { type: 'ecdsa', curve: 'P-384' }, { type: 'rsa', bits: 2048 }] as const) {
    const keys = await generateKeyPair(spec);
    const publicKey = keys.publicKey;
    const ca = await createCertificate({ subject: { CN: 'Signing CA' }, publicKey: keys.publicKey, serial: randomSerial(), notBefore: now, notAfter: later, signingKey: keys, ca: {}, keyUsage: ['keyCertSign', 'cRLSign'] });
    assertSignedDer(Buffer.from(ca.der), publicKey, spec);
    assert.deepEqual(Buffer.from(AsnConvert.serialize(AsnConvert.parse(ca.der, Certificate))), Buffer.from(ca.der));
    assert.ok(new X509Certificate(ca.pem).verify(publicKey));
    // Many SANs and entries: lengths of two and three bytes.
    const sans = Array.from({ length: 40 }, (_, index) => ({ type: 'dns' as const, value: `host-${index}.example.com` }));
    const leaf = await createCertificate({ subject: { CN: 'leaf' }, publicKey: keys.publicKey, serial: randomSerial(), notBefore: now, notAfter: later, issuerPem: ca.pem, signingKey: keys, keyUsage: ['digitalSignature'], extendedKeyUsage: ['serverAuth'], sans });
    assertSignedDer(Buffer.from(leaf.der), publicKey, spec);
    assert.deepEqual(Buffer.from(AsnConvert.serialize(AsnConvert.parse(leaf.der, Certificate))), Buffer.from(leaf.der));
    const entries = Array.from({ length: 3000 }, () => ({ serial: randomSerial(), revokedAt: now, reason: 'superseded' as const }));
    const crl = await createCrl({ issuerPem: ca.pem, signingKey: keys, crlNumber: 7, thisUpdate: now, nextUpdate: later, entries });
    assert.ok(der(crl).length > 65_536);
    assertSignedDer(der(crl), publicKey, spec);
    const csr = der(await createCsr({ subject: { CN: 'leaf' }, sans, keyPair: keys }));
    assertSignedDer(csr, publicKey, spec);
    assert.deepEqual(Buffer.from(AsnConvert.serialize(AsnConvert.parse(csr, CertificationRequest))), csr);
  }
});

test('the SubjectPublicKeyInfo of new keys is their own, whatever the key before them was', async () => {
  const specs: KeySpec[] = [{ type: 'ecdsa', curve: 'P-256' }, { type: 'ecdsa', curve: 'P-256' }, { type: 'ecdsa', curve: 'P-384' }, { type: 'ecdsa', curve: 'P-256' }, { type: 'rsa', bits: 2048 }, { type: 'rsa', bits: 2048 }, { type: 'ecdsa', curve: 'P-384' }];
  for (const spec of specs) {
    const keys = await generateKeyPair(spec);
    const exported = keys.publicKey.export({ type: 'spki', format: 'der' });
    assert.deepEqual(Buffer.from(AsnConvert.serialize(subjectPublicKeyInfo(keys.publicKey))), exported);
  }
});

test('the to-be-signed part put together from encoded names, key and extensions is what the schema encodes from whole objects', async () => {
  const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-384' });
  const leafKeys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
  const now = new Date('2026-01-01T00:00:00.750Z');
  const later = new Date('2051-01-01T00:00:00Z'); // GeneralizedTime
  const ca = await createCertificate({ subject: { C: 'US', O: 'Example', CN: 'Example CA' }, publicKey: keys.publicKey, serial: '00ff01', notBefore: now, notAfter: later, signingKey: keys, ca: { pathLength: 0 }, keyUsage: ['keyCertSign', 'cRLSign'] });
  const leafSpki = { rawData: toArrayBuffer(leafKeys.publicKey.export({ type: 'spki', format: 'der' })) };
  const cases: CreateCertificateParams[] = [
    // Self-signed, with every attribute, a CA with a path length and a name constraint.
    { subject: { C: 'US', ST: 'CA', L: 'SF', O: 'Example', OU: 'Ops', CN: 'Root' }, publicKey: keys.publicKey, serial: '01', notBefore: now, notAfter: later, signingKey: keys, ca: { pathLength: 1 }, keyUsage: ['keyCertSign', 'cRLSign'], extraExtensions: [nameConstraintsExtension({ dns: ['example.com'], ip: ['10.0.0.0/8'], email: [] })] },
    // Leaves of one profile in a row, with other SANs each time (the shared parts are kept between them).
    ...[['a.example.com', '10.0.0.1'], ['b.example.com', '2001:db8::1'], ['c.example.com']].map((names, index): CreateCertificateParams => ({
      subject: { O: 'Example', CN: names[0]! }, publicKey: index === 2 ? leafSpki : leafKeys.publicKey, serial: `7f${index}0`, notBefore: now, notAfter: later, issuerPem: ca.pem, signingKey: keys,
      keyUsage: ['digitalSignature'], extendedKeyUsage: ['serverAuth', 'clientAuth'], crlUrl: 'http://ca.example.com/ca.crl', ocspUrl: 'http://ca.example.com/ocsp',
      sans: names.map((value) => ({ type: value.includes('.example') ? ('dns' as const) : ('ip' as const), value })),
    })),
    { subject: { CN: 'mail' }, publicKey: leafKeys.publicKey, serial: '80', notBefore: now, notAfter: now, issuerPem: ca.pem, signingKey: keys, keyUsage: ['digitalSignature', 'keyEncipherment'], sans: [{ type: 'email', value: 'a@example.com' }, { type: 'uri', value: 'https://example.com/' }] },
    { subject: { CN: 'no SANs' }, publicKey: leafKeys.publicKey, serial: '81', notBefore: now, notAfter: later, issuerPem: ca.pem, signingKey: keys, keyUsage: ['digitalSignature'] },
  ];
  for (const params of cases) {
    const issuer = params.issuerPem === undefined ? undefined : readIssuer(params.issuerPem);
    const subjectKeyId = keyIdentifier(subjectPublicKeyInfo(params.publicKey));
    const authorityKeyId = issuer ? issuer.keyId : subjectKeyId;
    // As the schema encodes the whole TBSCertificate from its objects.
    const extensions = [...profileExtensions(params), subjectKeyIdExtension(subjectKeyId), ...(params.extraExtensions ?? [])];
    if (authorityKeyId) extensions.push(authorityKeyIdExtension(authorityKeyId));
    const whole = new TBSCertificate({
      version: Version.v3,
      serialNumber: serialOctets(params.serial),
      signature: signatureAlgorithmIdentifier(params.signingKey.spec),
      issuer: params.issuerPem ? AsnConvert.parse(der(params.issuerPem), Certificate).tbsCertificate.subject : toAsnName(params.subject),
      validity: new Validity({ notBefore: params.notBefore, notAfter: params.notAfter }),
      subject: toAsnName(params.subject),
      subjectPublicKeyInfo: subjectPublicKeyInfo(params.publicKey),
      extensions: new Extensions(extensions),
    });
    const { tbsCertificate } = toBeSigned(params, issuer, subjectKeyId, authorityKeyId);
    assert.equal(Buffer.from(AsnSerializer.serialize(tbsCertificate)).toString('hex'), Buffer.from(AsnSerializer.serialize(whole)).toString('hex'), params.subject.CN);
    const made = await createCertificate(params);
    assert.equal(Buffer.from(AsnConvert.serialize(AsnConvert.parse(made.der, Certificate).tbsCertificate)).toString('hex'), Buffer.from(AsnSerializer.serialize(whole)).toString('hex'));
  }
});

test('a CSR made from encoded subject, key and SANs holds what the schema encodes from whole objects', async () => {
  const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
  const requests = [
    { subject: { C: 'US', O: 'Example', CN: 'a.example.com' }, sans: [{ type: 'dns' as const, value: 'a.example.com' }, { type: 'ip' as const, value: '10.0.0.1' }] },
    { subject: { CN: 'b.example.com' }, sans: [{ type: 'dns' as const, value: 'b.example.com' }, { type: 'ip' as const, value: '2001:db8::1' }] },
    { subject: { CN: 'no SANs' }, sans: [] },
  ];
  for (const { subject, sans } of requests) {
    const attributes = new Attributes();
    if (sans.length) attributes.push(new Attribute({ type: id_pkcs9_at_extensionRequest, values: [AsnConvert.serialize(new Extensions([sanExtension(sans)]))] }));
    const whole = new CertificationRequestInfo({ subject: toAsnName(subject), subjectPKInfo: subjectPublicKeyInfo(keys.publicKey), attributes });
    const made = AsnConvert.parse(der(await createCsr({ subject, sans, keyPair: keys })), CertificationRequest).certificationRequestInfo;
    assert.equal(Buffer.from(AsnConvert.serialize(made)).toString('hex'), Buffer.from(AsnSerializer.serialize(whole)).toString('hex'), subject.CN);
  }
});

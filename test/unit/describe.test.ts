import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { commitMessage } from '../../src/ca/commit-message.js';
import { formatViews, viewsToJson } from '../../src/ca/review/describe.js';
import { gitAttributesContent } from '../../src/ca/review/git-setup.js';
import { parseHistory, parseTrailers } from '../../src/ca/review/history.js';
import { createCertificate } from '../../src/pki/certificate.js';
import { createCrl } from '../../src/pki/crl.js';
import { createCsr } from '../../src/pki/csr.js';
import { inspectContent } from '../../src/pki/inspect.js';
import { generateKeyPair } from '../../src/pki/keys.js';
import { GITATTRIBUTES_CONTENT } from '../../src/store/layout.js';

const NOT_BEFORE = new Date('2026-01-02T03:04:05Z');
const NOT_AFTER = new Date('2027-01-02T03:04:05Z');

async function fixtures() {
  const caKeys = await generateKeyPair({ type: 'ecdsa', curve: 'P-384' });
  const ca = await createCertificate({ subject: { O: 'Example', CN: 'Test CA' }, publicKey: caKeys.publicKey, serial: '0a0b', notBefore: NOT_BEFORE, notAfter: NOT_AFTER, signingKey: caKeys, ca: { pathLength: 0 }, keyUsage: ['keyCertSign', 'cRLSign'] });
  const leafKeys = await generateKeyPair({ type: 'rsa', bits: 2048 });
  const sans = [{ type: 'dns' as const, value: 'a.example.com' }, { type: 'ip' as const, value: '10.0.0.1' }];
  const leaf = await createCertificate({
    subject: { C: 'US', O: 'Example', CN: 'a.example.com' }, publicKey: leafKeys.publicKey, serial: '7f01', notBefore: NOT_BEFORE, notAfter: NOT_AFTER,
    issuerPem: ca.pem, signingKey: caKeys, keyUsage: ['digitalSignature', 'keyEncipherment'], extendedKeyUsage: ['serverAuth'], sans,
    crlUrl: 'http://pki.example.com/ca.crl', ocspUrl: 'http://ocsp.example.com',
  });
  const csr = await createCsr({ subject: { CN: 'a.example.com' }, sans, keyPair: leafKeys });
  const crl = await createCrl({ issuerPem: ca.pem, signingKey: caKeys, crlNumber: 4, thisUpdate: NOT_BEFORE, nextUpdate: NOT_AFTER, entries: [{ serial: '7f01', revokedAt: NOT_BEFORE, reason: 'superseded' }] });
  return { ca, leaf, csr, crl };
}

describe('describe: the decoded view of show, git diffs and --dry-run', () => {
  it('prints a certificate one field per line, in a fixed order', async () => {
    const { ca, leaf } = await fixtures();
    const text = formatViews(await inspectContent(Buffer.from(leaf.pem)));
    assert.equal(
      text,
      [
        'Certificate:',
        '  Subject:              C=US, O=Example, CN=a.example.com',
        '  Issuer:               O=Example, CN=Test CA',
        '  Serial:               7f01',
        '  Not before:           2026-01-02T03:04:05Z',
        '  Not after:            2027-01-02T03:04:05Z',
        '  Key:                  RSA 2048',
        '  Signature algorithm:  ECDSA with SHA-384',
        '  Basic constraints:    critical, CA:FALSE',
        '  Key usage:            critical, digitalSignature, keyEncipherment',
        '  Extended key usage:   serverAuth',
        '  SAN:                  DNS:a.example.com',
        '  SAN:                  IP Address:10.0.0.1',
        '  CRL distribution:     http://pki.example.com/ca.crl',
        '  OCSP:                 http://ocsp.example.com',
        `  Subject key id:       ${leaf.subjectKeyId}`,
        `  Authority key id:     ${ca.subjectKeyId}`,
        `  SHA-256 fingerprint:  ${leaf.fingerprint}`,
        '',
      ].join('\n'),
    );
    assert.equal(formatViews(await inspectContent(Buffer.from(leaf.pem))), text);
  });

  it('numbers the blocks of a chain and shows CSRs, CRLs and other PEM blocks', async () => {
    const { ca, leaf, csr, crl } = await fixtures();
    const chain = formatViews(await inspectContent(Buffer.from(leaf.pem + ca.pem)));
    assert.match(chain, /^Certificate \(1 of 2\):\n[\s\S]+\n\nCertificate \(2 of 2\):\n  Subject: +O=Example, CN=Test CA\n  Issuer: +O=Example, CN=Test CA \(self-signed\)\n/);
    assert.match(chain, /  Basic constraints: +critical, CA:TRUE, pathlen:0\n  Key usage: +critical, keyCertSign, cRLSign\n/);
    assert.equal(
      formatViews(await inspectContent(Buffer.from(csr))),
      'Certificate request:\n  Subject:              CN=a.example.com\n  Key:                  RSA 2048\n  Signature algorithm:  RSASSA-PKCS1-v1_5 with SHA-256\n  Signature:            valid\n  SAN:                  DNS:a.example.com\n  SAN:                  IP Address:10.0.0.1\n',
    );
    const crlText = formatViews(await inspectContent(Buffer.from(crl)));
    assert.match(crlText, /^CRL:\n  Issuer: +O=Example, CN=Test CA\n  This update: +2026-01-02T03:04:05Z\n  Next update: +2027-01-02T03:04:05Z\n  CRL number: +4\n  Signature algorithm: +ECDSA with SHA-384\n  Revoked: +1\n  Revoked serial: +7f01 2026-01-02T03:04:05Z superseded\n  SHA-256 fingerprint: +[0-9A-F:]{95}\n$/);
    const key = ['-----BEGIN ENCRYPTED PRIVATE KEY-----', 'AAAA', '-----END ENCRYPTED PRIVATE KEY-----', ''].join('\n');
    assert.equal(formatViews(await inspectContent(Buffer.from(key))), 'PEM block:\n  Label:                ENCRYPTED PRIVATE KEY (not decoded)\n');
    await assert.rejects(inspectContent(Buffer.from('hello')), /no certificate, CSR or CRL found/);
  });

  it('gives JSON with ISO dates and formatted SANs', async () => {
    const { leaf, crl } = await fixtures();
    const [cert] = viewsToJson(await inspectContent(Buffer.from(leaf.pem))) as Array<Record<string, unknown>>;
    assert.equal(cert?.notAfter, '2027-01-02T03:04:05.000Z');
    assert.deepEqual(cert?.sans, ['DNS:a.example.com', 'IP Address:10.0.0.1']);
    assert.equal(cert?.key, 'RSA 2048');
    assert.equal(cert?.der, undefined);
    const [list] = viewsToJson(await inspectContent(Buffer.from(crl))) as Array<Record<string, unknown>>;
    assert.deepEqual(list?.entries, [{ serial: '7f01', revokedAt: '2026-01-02T03:04:05.000Z', reason: 'superseded' }]);
  });
});

describe('commit messages and history', () => {
  it('ends with a trailer block git interpret-trailers reads, whatever the values hold', () => {
    const message = commitMessage({
      summary: 'Issue a (server)',
      commandLine: 'certified CN=a',
      details: ['Subject: CN=a', 'SANs:    DNS:a'],
      trailers: { 'Certified-Action': 'issue', 'Certified-Name': 'a\nEvil: injected', 'Certified-Serial': '7f01' },
    });
    assert.equal(message, 'Issue a (server)\n\n$ certified CN=a\n\nSubject: CN=a\nSANs:    DNS:a\n\nCertified-Action: issue\nCertified-Name: a Evil: injected\nCertified-Serial: 7f01\n');
    const parsed = spawnSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' });
    assert.equal(parsed.stdout, 'Certified-Action: issue\nCertified-Name: a Evil: injected\nCertified-Serial: 7f01\n');
    assert.throws(() => commitMessage({ summary: 's', commandLine: 'c', details: [], trailers: { 'Bad Key': 'x' } }), /invalid trailer key/);
  });

  it('parses the log format back into entries', () => {
    const output = '\x1eabc123\x1fabc\x1f2026-11-24T10:00:00+00:00\x1fAda\x1fada@example.com\x1fIssue a\x1fCertified-Action: issue\nCertified-Name: a\nCertified-Serial: 7f01\nSigned-off-by: Ada\n\n\x1edef456\x1fdef\x1f2026-11-23T10:00:00+00:00\x1fBob\x1fbob@example.com\x1fTweak by hand\x1f\n';
    const [issue, manual] = parseHistory(output);
    assert.deepEqual(issue, {
      commit: 'abc123', shortCommit: 'abc', date: '2026-11-24T10:00:00+00:00', author: 'Ada', email: 'ada@example.com', summary: 'Issue a',
      action: 'issue', name: 'a', serial: '7f01', trailers: { 'Certified-Action': 'issue', 'Certified-Name': 'a', 'Certified-Serial': '7f01' },
    });
    assert.equal(manual?.action, 'manual');
    assert.equal(manual?.name, undefined);
    assert.deepEqual(parseTrailers('Certified-Reason: keyCompromise\nother text\n'), { 'Certified-Reason': 'keyCompromise' });
  });

  it('writes .gitattributes when missing and adds only the lines a user file lacks', () => {
    assert.equal(gitAttributesContent(undefined), GITATTRIBUTES_CONTENT);
    assert.equal(gitAttributesContent(GITATTRIBUTES_CONTENT), undefined);
    assert.equal(gitAttributesContent('*.png binary\n*.crt  diff=certified'), '*.png binary\n*.crt  diff=certified\n*.csr diff=certified\n*.crl diff=certified\n/crl/*.crl merge=certified-crl\n');
  });
});

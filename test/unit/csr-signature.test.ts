/** A CSR's signature must be its key's, by an algorithm of its key's kind (as OpenSSL's req -verify holds it). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { parseCsr } from '../../src/pki/csr.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

describe('CSR signatures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certified-csr-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const request = (name: string, newKey: string[]): Uint8Array => {
    const out = join(dir, `${name}.der`);
    execFileSync('openssl', ['req', '-new', ...newKey, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${name}.example.test`, '-outform', 'DER', '-out', out], { stdio: 'ignore' });
    return new Uint8Array(readFileSync(out));
  };
  const relabelled = (der: Uint8Array, algorithm: string): Uint8Array => {
    const parsed = AsnConvert.parse(der, CertificationRequest);
    parsed.signatureAlgorithm = new AlgorithmIdentifier(algorithm === SHA256_WITH_RSA ? { algorithm, parameters: null } : { algorithm });
    return new Uint8Array(AsnConvert.serialize(parsed));
  };
  const ecdsa = request('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
  const rsa = request('rsa', ['-newkey', 'rsa:2048']);

  it('accepts ECDSA and RSA requests signed by their keys', async () => {
    assert.equal((await parseCsr(ecdsa)).signatureValid, true);
    assert.equal((await parseCsr(rsa)).signatureValid, true);
  });

  it('refuses a signature labelled with an algorithm of the other kind of key', async () => {
    assert.equal((await parseCsr(relabelled(rsa, ECDSA_WITH_SHA256))).signatureValid, false);
    assert.equal((await parseCsr(relabelled(ecdsa, SHA256_WITH_RSA))).signatureValid, false);
  });
});

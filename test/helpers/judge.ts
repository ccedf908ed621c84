import assert from 'node:assert/strict';
import { join } from 'node:path';
import { git, openssl } from './cli.js';

/** OpenSSL's text view of a certificate file. */
export function x509Text(path: string): string {
  return openssl(['x509', '-in', path, '-noout', '-text']).stdout;
}

/** A certificate's serial as certified stores it: lower-case hex without leading zero bytes. */
export function serialOf(path: string): string {
  return openssl(['x509', '-in', path, '-noout', '-serial']).stdout.trim().split('=')[1]!.toLowerCase().replace(/^(00)+/, '');
}

/** The files the last commit of a CA repository touched, sorted. */
export function committedFiles(db: string): string[] {
  return git(db, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n').sort();
}

/** `openssl verify -x509_strict` of a certificate against the CA's root and intermediate. */
export function verifyChain(db: string, certificate: string, purpose?: string) {
  const args = ['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/ca.crt')];
  return openssl([...args, ...(purpose ? ['-purpose', purpose] : []), certificate]);
}

/** The public key of a certificate, a CSR or a private key, as OpenSSL prints it. */
export function publicKey(kind: 'x509' | 'req' | 'pkey', path: string): string {
  const result = kind === 'pkey' ? openssl(['pkey', '-in', path, '-pubout']) : openssl([kind, '-in', path, '-noout', '-pubkey']);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { commitCount, openssl, run, snapshot, type RunOptions, type RunResult } from './cli.js';

/** A certificate's serial as certified stores it: lower-case hex without leading zero bytes. */
export function serialOf(file: string): string {
  const out = openssl(['x509', '-in', file, '-noout', '-serial']);
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.trim().split('=')[1]!.toLowerCase().replace(/^(00)+(?=[0-9a-f])/, '');
}

/** `openssl crl -text` of a CRL file. */
export function crlText(file: string): string {
  const out = openssl(['crl', '-in', file, '-noout', '-text']);
  assert.equal(out.status, 0, out.stderr);
  return out.stdout;
}

export function crlNumber(file: string): number {
  const match = /X509v3 CRL Number: \n\s*(\d+)/.exec(crlText(file));
  assert.ok(match, `no CRL number in ${file}`);
  return Number(match[1]);
}

/** The clock in seconds, as CRL numbers count it. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * A CRL re-signed since `since` (seconds) over one numbered `previous`: numbered by its signing
 * time, or previous + 1 where that is larger, so it is greater than any number published before.
 */
export function assertNextCrlNumber(file: string, previous: number, since: number): void {
  const number = crlNumber(file);
  assert.ok(number > previous, `CRL number ${number} is not greater than ${previous}`);
  assert.ok(number >= Math.max(previous + 1, since) && number <= Math.max(previous + 1, nowSeconds()), `CRL number ${number} is neither the signing time nor ${previous} + 1`);
}

/** `openssl crl -verify` against the issuer's certificate: "verify OK" or not. */
export function verifyCrl(crl: string, issuer: string): string {
  const out = openssl(['crl', '-in', crl, '-noout', '-verify', '-CAfile', issuer]);
  return `${out.stdout}${out.stderr}`;
}

/** `openssl verify -crl_check_all` with every CRL of the CA directory; returns status and output. */
export function verifyWithCrls(db: string, untrusted: string, leaf: string): { ok: boolean; output: string } {
  const args = ['verify', '-x509_strict', '-crl_check_all', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', untrusted];
  for (const file of readdirSync(join(db, 'crl'))) args.push('-CRLfile', join(db, 'crl', file));
  const out = openssl([...args, leaf]);
  return { ok: out.status === 0, output: `${out.stdout}${out.stderr}` };
}

/** The files a revoked certificate went to: revoked/NAME-SERIAL/. */
export function revokedDirOf(db: string, name: string, serial: string): string {
  return join(db, 'revoked', `${name}-${serial}`);
}

/** Runs a command that must be refused: the exit code, the one-line error, no file and no commit. */
export async function assertRefused(args: string[], options: RunOptions, code: 1 | 2, message: RegExp): Promise<RunResult> {
  const before = snapshot(options.cwd);
  const commits = commitCount(join(options.cwd, 'etc/ssl'));
  const result = await run(args, options);
  assert.equal(result.code, code, result.stderr);
  assert.match(result.stderr, message);
  assert.match(result.stderr, /^certified: [^\n]+\n$/, 'exactly one line');
  assert.deepEqual(snapshot(options.cwd), before);
  assert.equal(commitCount(join(options.cwd, 'etc/ssl')), commits);
  return result;
}

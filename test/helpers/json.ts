import assert from 'node:assert/strict';
import { git, openssl, type RunResult } from './cli.js';

/** What the tests of --json share (docs/json.md): the keys every document has, and how to read one. */

export const CHANGE_KEYS = ['action', 'files', 'commit', 'warnings'];
export const CERTIFICATE_KEYS = ['name', 'cn', 'subject', 'sans', 'issuer', 'serial', 'notBefore', 'notAfter', 'status', 'profile', 'key', 'fingerprint'];
export const CRL_KEYS = ['issuer', 'number', 'thisUpdate', 'nextUpdate', 'file'];

export type Document = Record<string, unknown>;

export interface Crl {
  issuer: string;
  number: number;
  thisUpdate: string;
  nextUpdate: string;
  file: string;
}

export interface JsonError {
  code: string;
  message: string;
  hint: string | null;
}

/** The document a command printed, which must have succeeded. */
export function documentOf(result: RunResult): Document {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Document;
}

/** The error object a refusal printed on stdout: its keys, its code and the exit code checked, and the usual line on stderr. */
export function jsonError(result: RunResult, code: string, exitCode = 1): JsonError {
  assert.equal(result.code, exitCode, result.stderr);
  const document = JSON.parse(result.stdout) as { error: JsonError };
  assert.deepEqual(Object.keys(document), ['error']);
  assert.deepEqual(Object.keys(document.error), ['code', 'message', 'hint']);
  assert.equal(document.error.code, code);
  assert.match(result.stderr, /^certified: /m);
  return document.error;
}

/** The commit HEAD names in the CA repository `db`. */
export function headOf(db: string): string {
  return git(db, ['rev-parse', 'HEAD']).trim();
}

/** OpenSSL's ISO date ("2027-11-24 10:00:00Z") as the documents write it. */
const isoOf = (opensslDate: string): string => new Date(opensslDate.replace(' ', 'T')).toISOString();

/** A certificate file as OpenSSL reads it, in the documents' terms: serial (lower-case hex), SHA-256 fingerprint, validity. */
export function certificateOnDisk(file: string): { serial: string; fingerprint: string; notBefore: string; notAfter: string } {
  const text = openssl(['x509', '-in', file, '-noout', '-serial', '-fingerprint', '-sha256', '-startdate', '-enddate', '-dateopt', 'iso_8601']).stdout;
  return {
    serial: /serial=(\S+)/.exec(text)?.[1]?.toLowerCase() ?? '',
    fingerprint: /Fingerprint=(\S+)/.exec(text)?.[1] ?? '',
    notBefore: isoOf(/notBefore=(\S+ \S+)/.exec(text)?.[1] ?? ''),
    notAfter: isoOf(/notAfter=(\S+ \S+)/.exec(text)?.[1] ?? ''),
  };
}

/** A CRL file as OpenSSL reads it, in the documents' terms. */
export function crlOnDisk(file: string): Omit<Crl, 'issuer' | 'file'> {
  const text = openssl(['crl', '-in', file, '-noout', '-crlnumber', '-lastupdate', '-nextupdate', '-dateopt', 'iso_8601']).stdout;
  return {
    number: Number(/crlNumber=(0x[0-9A-Fa-f]+)/.exec(text)?.[1]),
    thisUpdate: isoOf(/lastUpdate=(\S+ \S+)/.exec(text)?.[1] ?? ''),
    nextUpdate: isoOf(/nextUpdate=(\S+ \S+)/.exec(text)?.[1] ?? ''),
  };
}

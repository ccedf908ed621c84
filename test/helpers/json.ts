import assert from 'node:assert/strict';
import type { RunResult } from './cli.js';

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

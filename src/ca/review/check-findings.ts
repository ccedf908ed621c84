/** What `certified check` can find wrong; stable codes for scripts (JSON output). */
export type FindingCode =
  | 'unreadable'
  | 'no-record'
  | 'record-mismatch'
  | 'missing-certificate'
  | 'revoked-in-certs'
  | 'no-issuer'
  | 'bad-signature'
  | 'chain-mismatch'
  | 'profile'
  | 'weak-key'
  | 'missing-crl'
  | 'bad-crl-signature'
  | 'stale-crl'
  | 'crl-entries'
  | 'plaintext-key-tracked';

export interface Finding {
  /** The file the finding is about, relative to the CA directory. */
  path: string;
  code: FindingCode;
  message: string;
}

export function finding(path: string, code: FindingCode, message: string): Finding {
  return { path, code, message };
}

/** Sorted by path, then code and message, so that two runs on the same CA print the same lines. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) =>
    a.path !== b.path ? (a.path < b.path ? -1 : 1) : a.code !== b.code ? (a.code < b.code ? -1 : 1) : a.message < b.message ? -1 : a.message > b.message ? 1 : 0,
  );
}

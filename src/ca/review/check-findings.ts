import { PLAIN, renderText, toParts, type Text, type TextPart } from '../text.js';

/** What `certified check` can find wrong; stable codes for scripts (JSON output). */
export type FindingCode =
  | 'unreadable'
  | 'no-record'
  | 'record-mismatch'
  | 'missing-certificate'
  | 'duplicate-name'
  | 'orphan-key'
  | 'key-mismatch'
  | 'token-key'
  | 'revoked-in-certs'
  | 'no-issuer'
  | 'issuer-revoked'
  | 'bad-signature'
  | 'chain-mismatch'
  | 'missing-chain'
  | 'profile'
  | 'weak-key'
  | 'missing-crl'
  | 'bad-crl-signature'
  | 'stale-crl'
  | 'crl-expiring'
  | 'crl-entries'
  | 'crl-rollback'
  | 'unrevoked'
  | 'record-deleted'
  | 'revoked-index'
  | 'plaintext-key-tracked'
  | 'symlink'
  | 'keys-not-ignored'
  | 'diff-hidden'
  | 'pending-change'
  | 'git-unavailable';

export interface Finding {
  /** The file the finding is about, relative to the CA directory. */
  path: string;
  code: FindingCode;
  /** With the options of a fix in it, for the caller to spell (see ca/text.ts). */
  message: readonly TextPart[];
}

export function finding(path: string, code: FindingCode, message: Text): Finding {
  return { path, code, message: toParts(message) };
}

/** Sorted by path, then code and message, so that two runs on the same CA print the same lines. */
export function sortFindings(findings: Finding[]): Finding[] {
  const plain = new Map(findings.map((item) => [item, renderText(item.message, PLAIN)]));
  return [...findings].sort((a, b) => {
    const [x, y] = [plain.get(a) ?? '', plain.get(b) ?? ''];
    return a.path !== b.path ? (a.path < b.path ? -1 : 1) : a.code !== b.code ? (a.code < b.code ? -1 : 1) : x < y ? -1 : x > y ? 1 : 0;
  });
}

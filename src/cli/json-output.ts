import { listingOf, type CertificateListing } from '../ca/review/list-certificates.js';
import type { CaStore } from '../ca/ca-directory.js';
import type { PublishedCrl } from '../ca/revocation/generate-crl.js';

type CertificateRecord = Parameters<typeof listingOf>[0];

/**
 * `--json`: one JSON document on stdout saying what a command did, and one error object when it
 * fails (docs/json.md). Scripts read these keys: add new ones, never rename or drop one.
 */

/** What every command that changes the CA (or writes files) reports. */
export interface ChangeDocument {
  action: string;
  /** Absolute paths of the files written. */
  files: string[];
  /** The commit made, in full; null when the command commits nothing (export, trust, --dry-run). */
  commit: string | null;
  warnings: string[];
}

/** A certificate as `ls --json` shows it. */
export type CertificateDocument = CertificateListing;

export interface ErrorDocument {
  error: { code: string; message: string; hint: string | null };
}

/** `status` is the record's, or `expired` past notAfter; only `ls` also looks for a revoked CA above it (`issuer-revoked`). */
export function certificateDocument(record: CertificateRecord, now = new Date()): CertificateDocument {
  return listingOf(record, record.status === 'valid' && record.notAfter < now.toISOString() ? 'expired' : record.status);
}

/** What `store` wrote (absolute paths, in order, each once) and its last commit. */
export function filesAndCommit(store: CaStore): Pick<ChangeDocument, 'files' | 'commit'> {
  const files = new Set(store.changesMade.flatMap((change) => change.written.map((path) => store.path(path))));
  const commits = store.changesMade.map((change) => change.commit).filter((commit) => commit !== '');
  return { files: [...files], commit: commits.at(-1) ?? null };
}

/**
 * The change `store` made to one certificate: the certificate's keys at the top, then the
 * command's own (`replaced`, `crls`), then the files, the commit and the warnings.
 */
export function certificateChange<Extra extends object = Record<never, never>>(
  action: string,
  record: CertificateRecord,
  store: CaStore,
  warnings: readonly string[],
  extra?: Extra,
): ChangeDocument & CertificateDocument & Extra {
  return { action, ...certificateDocument(record), ...(extra as Extra), ...filesAndCommit(store), warnings: [...warnings] };
}

/** A CRL a command signed: the CA that signed it, its CRL number, its validity (ISO 8601, UTC) and its file (absolute). */
export interface CrlDocument {
  issuer: string;
  number: number;
  thisUpdate: string;
  nextUpdate: string;
  file: string;
}

export function crlDocument(crl: PublishedCrl, store: CaStore): CrlDocument {
  return { issuer: crl.issuer, number: crl.crlNumber, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString(), file: store.path(crl.path) };
}

/** The change `store` made to several certificates (a CA and its intermediate, a root rotation), with the CRLs it signed. */
export function certificatesChange(
  action: string,
  records: readonly CertificateRecord[],
  crls: readonly PublishedCrl[],
  store: CaStore,
  warnings: readonly string[],
): ChangeDocument & { certificates: CertificateDocument[]; crls: CrlDocument[] } {
  return { action, certificates: records.map((record) => certificateDocument(record)), crls: crls.map((crl) => crlDocument(crl, store)), ...filesAndCommit(store), warnings: [...warnings] };
}

export function errorDocument(code: string, message: string, hint: string | undefined): ErrorDocument {
  return { error: { code, message, hint: hint ?? null } };
}

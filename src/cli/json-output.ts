import { listingOf, type CertificateListing } from '../ca/review/list-certificates.js';

import type { CaStore } from '../ca/ca-directory.js';

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

export function printJson(document: object): void {
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

export function certificateDocument(record: CertificateRecord): CertificateDocument {
  return listingOf(record);
}

/** What `store` wrote (absolute paths, in order, each once) and its last commit. */
export function madeBy(store: CaStore): Pick<ChangeDocument, 'files' | 'commit'> {
  const files = new Set(store.changesMade.flatMap((change) => change.written.map((path) => store.path(path))));
  const commits = store.changesMade.map((change) => change.commit).filter((commit) => commit !== '');
  return { files: [...files], commit: commits.at(-1) ?? null };
}

/** The change `store` made to one certificate: the certificate's fields at the top, between the action and the files. */
export function oneCertificateChange(action: string, record: CertificateRecord, store: CaStore, warnings: readonly string[]): ChangeDocument & CertificateDocument {
  return { action, ...certificateDocument(record), ...madeBy(store), warnings: [...warnings] };
}

export function errorDocument(code: string, message: string, hint: string | undefined): ErrorDocument {
  return { error: { code, message, hint: hint ?? null } };
}

/** A CRL a command signed, as every command's `crls` lists it. */
export interface CrlDocument {
  /** The CA that signed it (its file name). */
  issuer: string;
  /** The CRL number. */
  number: number;
  /** ISO 8601, UTC, to the second as in the file. */
  thisUpdate: string;
  nextUpdate: string;
  /** Absolute path of the CRL file. */
  file: string;
}

export function crlDocument(crl: { issuer: string; crlNumber: number; thisUpdate: Date; nextUpdate: Date; path: string }, store: CaStore): CrlDocument {
  const seconds = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString();
  return { issuer: crl.issuer, number: crl.crlNumber, thisUpdate: seconds(crl.thisUpdate), nextUpdate: seconds(crl.nextUpdate), file: store.path(crl.path) };
}

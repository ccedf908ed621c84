import type { CaStore } from '../../store/ca-store.js';
import { GitUnknownRefError } from '../../store/errors.js';
import { gitChangedPaths } from '../../store/git.js';
import {
  CERTS_DIR,
  CONFIG_FILE,
  CROSS_NAME,
  CRL_DIR,
  CSR_DIR,
  CSR_KEEP_FILE,
  OLD_INTERMEDIATE_NAME,
  OLD_ROOT_NAME,
  PRIVATE_DIR,
  RECORDS_DIR,
  REVOKED_DIR,
  REVOKED_INDEX_DIR,
  ROOTS_FILE,
  ROOT_NAME,
  certPath,
  chainPath,
  csrPath,
  keyPath,
  revokedIndexPath,
} from '../../store/layout.js';
import { parseRecord, type CertificateRecord } from '../../store/records.js';
import { caOfCrlFile, crlFileOf, type CaConfig } from '../config.js';
import { CertifiedError } from '../errors.js';

/** What `check --since` looks at: the changed files and everything they can affect. */
export interface CheckScope {
  since: string;
  /** The changed paths in the CA directory (relative to it), deleted ones included. */
  changed: string[];
  /** Certificates whose files (certificate, chain, key, CSR) and records are checked. */
  names: Set<string>;
  /** CAs whose CRLs are checked. */
  crls: Set<string>;
  /** Records that changed (their path), checked wherever their certificate is. */
  records: Set<string>;
}

/** A change `check --since` cannot map to certificates: the whole CA is checked, and this says why. */
export interface FullCheck {
  since: string;
  changed: string[];
  fallback: string;
}

/** The files changed since the merge base with `since` (see gitChangedPaths). */
export type ChangedFiles = Awaited<ReturnType<typeof gitChangedPaths>> & { since: string };

/**
 * Asks git what changed since the merge base with `since`; started before the records are read, so
 * that git runs beside that. An unknown revision is a CertifiedError naming it.
 */
export async function changesSince(store: CaStore, since: string): Promise<ChangedFiles> {
  try {
    return { ...(await gitChangedPaths(store.dir, since)), since };
  } catch (error) {
    if (!(error instanceof GitUnknownRefError)) throw error;
    if (error.reason === 'shallow') {
      throw new CertifiedError(['this clone is shallow, so ', { option: 'since' }, ` cannot find where "${since}" and HEAD part`], {
        code: 'SHALLOW_CLONE',
        hint: 'Fetch the history with "git fetch --unshallow" (in GitHub Actions, actions/checkout with fetch-depth: 0).',
      });
    }
    throw new CertifiedError(
      error.reason === 'unknown'
        ? [`unknown git revision "${since}" given to `, { option: 'since' }]
        : [`"${since}" shares no history with HEAD, so `, { option: 'since' }, ' cannot tell what changed'],
      {
        code: 'UNKNOWN_REF',
        hint: error.inShallowClone
          ? `This clone is shallow: fetch the history and that branch ("${fetchCommand(since, true)}"; in GitHub Actions, actions/checkout with fetch-depth: 0).`
          : `Fetch it first ("${fetchCommand(since, false)}": a clone of one branch keeps no other), or name a commit or branch of this repository.`,
      },
    );
  }
}

/**
 * The fetch that makes `ref` known, for origin/BRANCH (else for origin/main, as an example): by
 * its refspec, which a clone of one branch does not have; forced, as the base may have been.
 */
function fetchCommand(ref: string, unshallow: boolean): string {
  const branch = /^origin\/([A-Za-z0-9._\/-]+)$/.exec(ref)?.[1] ?? 'main';
  return `${unshallow ? 'git fetch --unshallow' : 'git fetch'} origin +${branch}:refs/remotes/origin/${branch}${ref === `origin/${branch}` ? '' : ` for origin/${branch}`}`;
}

/** The certificates a root rotation links together: a change to one of them touches every chain. */
export const ROTATION_NAMES: ReadonlySet<string> = new Set([ROOT_NAME, OLD_ROOT_NAME, OLD_INTERMEDIATE_NAME, CROSS_NAME]);

/** `name` of `dir/name.ext` (one level, no sub-folder), or undefined. */
function nameIn(path: string, dir: string, ext: string): string | undefined {
  if (!path.startsWith(`${dir}/`) || !path.endsWith(ext)) return undefined;
  const name = path.slice(dir.length + 1, -ext.length);
  return name && !name.includes('/') ? name : undefined;
}

/**
 * The files changed since the merge base of `since` and HEAD (uncommitted and untracked ones
 * included) mapped to the certificates and CRLs they can affect: a changed CA brings every
 * certificate below it, a changed record the CRL of its issuer. Anything else (certified.json,
 * .gitattributes, a root or rotation certificate, a file check does not map) is a FullCheck.
 */
export async function scopeOfChanges(
  store: CaStore,
  config: CaConfig,
  changes: Promise<ChangedFiles>,
  records: CertificateRecord[],
  recordPaths: Map<CertificateRecord, string>,
): Promise<CheckScope | FullCheck> {
  const changed = await changes;
  const since = changed.since;
  const paths = changed.paths;
  const full = (fallback: string): FullCheck => ({ since, changed: paths, fallback });
  const names = new Set<string>();
  const expand = new Set<string>();
  const crls = new Set<string>();
  const changedRecords = new Set<string>();
  const byPath = new Map([...recordPaths].map(([record, path]) => [path, record]));
  for (const path of paths) {
    if (path === ROOTS_FILE) return full(`"${path}" changed`);
    const cert = nameIn(path, CERTS_DIR, '.chain.crt') ?? nameIn(path, CERTS_DIR, '.crt');
    const other = nameIn(path, PRIVATE_DIR, '.key') ?? nameIn(path, CSR_DIR, '.csr');
    if (cert !== undefined || other !== undefined) {
      const name = (cert ?? other)!;
      if (ROTATION_NAMES.has(name)) return full(`"${path}" changed, and every chain goes through it`);
      names.add(name);
      if (cert !== undefined) expand.add(name);
      continue;
    }
    const crl = nameIn(path, CRL_DIR, '.crl');
    if (crl !== undefined) {
      crls.add(caOfCrlFile(config, crl));
      continue;
    }
    if (path.startsWith(`${RECORDS_DIR}/`)) {
      if (!path.endsWith('.json')) continue; // check reads only records/ISSUER/SERIAL.json
      let record = byPath.get(path);
      if (!record) {
        // Deleted: what it was, from the merge base.
        const text = await store.readCommittedText(path, changed.base).catch(() => undefined);
        try {
          record = text === undefined ? undefined : parseRecord(text);
        } catch {
          record = undefined;
        }
      }
      if (!record) return full(`the record "${path}" cannot be read`);
      if (ROTATION_NAMES.has(record.name)) return full(`the record of "${record.name}" changed, and every chain goes through it`);
      changedRecords.add(path);
      names.add(record.name);
      expand.add(record.name);
      // A CRL lists the revoked records of its CA: a new valid record cannot change what it must hold.
      if (record.status === 'revoked' || !changed.added.has(path)) {
        crls.add(record.issuer);
        const dirIssuer = path.split('/')[1];
        if (dirIssuer !== undefined) crls.add(dirIssuer);
      }
      continue;
    }
    if (path === CSR_KEEP_FILE) continue; // holds no request
    // Revoked certificates' files are kept, never checked (their records and the CRL are).
    if (path.startsWith(`${REVOKED_DIR}/`) || path.startsWith(`${PRIVATE_DIR}/${REVOKED_DIR}/`)) continue;
    // An entry of the index of revoked certificates: the CRL of its issuer, which is built from it.
    const indexed = path.startsWith(`${REVOKED_INDEX_DIR}/`) ? path.slice(REVOKED_INDEX_DIR.length + 1).split('/') : undefined;
    if (indexed?.length === 2 && indexed[0]) {
      crls.add(indexed[0]);
      continue;
    }
    return full(path === CONFIG_FILE ? `"${CONFIG_FILE}" changed` : `"${path}" changed, which check cannot map to certificates`);
  }
  // Below a changed CA: everything it issued, all the way down (records/NAME/ holds what NAME issued).
  const issued = new Map<string, string[]>();
  for (const record of records) {
    const below = issued.get(record.issuer);
    if (below) below.push(record.name);
    else issued.set(record.issuer, [record.name]);
  }
  const queue = [...expand];
  const expanded = new Set(queue);
  while (queue.length) {
    const name = queue.pop()!;
    for (const child of issued.get(name) ?? []) {
      names.add(child);
      if (!expanded.has(child)) {
        expanded.add(child);
        queue.push(child);
      }
    }
  }
  for (const name of names) if (issued.has(name)) crls.add(name);
  return { since, changed: paths, names, crls, records: changedRecords };
}

/** Every file whose findings a scoped check reports: those of its certificates, records and CRLs, and the changed ones. */
export function scopePaths(scope: CheckScope, config: CaConfig, recordPaths: Map<CertificateRecord, string>): Set<string> {
  const paths = new Set<string>(scope.changed);
  for (const name of scope.names) for (const path of [certPath(name), chainPath(name), keyPath(name), csrPath(name)]) paths.add(path);
  for (const [record, path] of recordPaths) if (scope.names.has(record.name)) paths.add(path);
  for (const path of scope.records) {
    paths.add(path);
    // records/ISSUER/SERIAL.json -> revoked-index/ISSUER/SERIAL, which check compares with it.
    const [, issuer, file] = path.split('/');
    if (issuer && file?.endsWith('.json')) paths.add(revokedIndexPath(issuer, file.slice(0, -'.json'.length)));
  }
  for (const name of scope.crls) paths.add(crlFileOf(config, name));
  return paths;
}

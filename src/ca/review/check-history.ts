import { readCrlNumber } from '../../pki/crl.js';
import type { CaStore } from '../../store/ca-store.js';
import { CRL_DIR, RECORDS_DIR } from '../../store/layout.js';
import { parseRecord, type CertificateRecord } from '../../store/records.js';
import { finding, type Finding } from './check-findings.js';
import type { ChangedFiles } from './check-scope.js';

/**
 * What no change may do, whatever the files say now, judged against the merge base of `check
 * --since`: make a revoked certificate valid again or drop its record (a "git revert" of a
 * revocation, an edited record: relying parties saw it revoked), drop the record of a certificate
 * still valid (a "git revert" of its issuing: no CRL could list it again), or put back a CRL
 * numbered below the one it replaces (an older CRL, lacking later revocations). Only files that
 * changed are read.
 */
export async function checkHistory(store: CaStore, changes: ChangedFiles, current: Map<CertificateRecord, string>, now: Date): Promise<Finding[]> {
  const byPath = new Map([...current].map(([record, path]) => [path, record]));
  // A record moved to another directory (rotate-root moves the old root's) is not deleted.
  const moves = new Map<string, [CertificateRecord, string][]>();
  for (const [record, path] of current) moves.set(record.fingerprint, [...(moves.get(record.fingerprint) ?? []), [record, path]]);
  const findings: Finding[] = [];
  const since = changes.since;
  for (const path of changes.paths) {
    if (changes.added.has(path)) continue;
    if (path.startsWith(`${RECORDS_DIR}/`) && path.endsWith('.json')) {
      // Revoked now (what a revocation or renewal leaves), or unreadable (a finding of its own): nothing
      // to compare, and no git process per record of a change that revokes thousands.
      const record = byPath.get(path);
      if (record?.status === 'revoked' || (record === undefined && (await store.exists(path)))) continue;
      const was = await readOr(async () => parseRecord((await store.readCommittedText(path, changes.base)) ?? ''));
      if (!was) continue;
      const moved = record === undefined ? (moves.get(was.fingerprint) ?? []) : [];
      // Moved, and still revoked if it was: no finding; moved and made valid: undone all the same.
      if (moved.length && (was.status !== 'revoked' || moved.some(([copy]) => copy.status === 'revoked'))) continue;
      if (was.status !== 'revoked') {
        if (record !== undefined || !(Date.parse(was.notAfter) > now.getTime())) continue;
        findings.push(
          finding(
            path,
            'record-deleted',
            `the record of "${was.name}" (serial ${was.serial}) was deleted, but that certificate stays valid until ${was.notAfter.slice(0, 10)} and, without its record, no CRL can ever list it: restore the record with "git checkout ${changes.base.slice(0, 12)} -- ${path}" and revoke the certificate instead`,
          ),
        );
        continue;
      }
      findings.push(
        finding(
          path,
          'unrevoked',
          `"${was.name}" (serial ${was.serial}) was revoked (${was.revocation?.reason ?? 'unspecified'}) in "${since}", and no longer is${record ? '' : moved.length ? ` (its record was moved to "${moved[0]![1]}")` : ' (its record was deleted)'}: a revocation cannot be undone, so restore the record with "git checkout ${changes.base.slice(0, 12)} -- ${path}" and issue a new certificate instead`,
        ),
      );
      continue;
    }
    if (path.startsWith(`${CRL_DIR}/`) && path.endsWith('.crl')) {
      const [was, number] = await Promise.all([
        readOr(async () => readCrlNumber((await store.readCommittedText(path, changes.base)) ?? '')),
        readOr(async () => readCrlNumber((await store.readText(path)) ?? '')),
      ]);
      if (was === undefined || number === undefined || number >= was) continue;
      findings.push(
        finding(path, 'crl-rollback', `has CRL number ${number}, lower than the ${was} it had in "${since}": an older CRL was put back, which relying parties holding the newer one reject and which may lack later revocations; re-sign it with "certified crl"`),
      );
    }
  }
  return findings;
}

/** The value, or undefined when it cannot be read (unreadable files are findings of their own). */
async function readOr<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

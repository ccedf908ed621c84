import type { CaStore } from '../../store/ca-store.js';
import { REVOKED_INDEX_COMPLETE, REVOKED_INDEX_DIR, recordsDir, revokedIndexDir, revokedIndexPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { recordPlace } from '../../store/revoked-index.js';
import { finding, type Finding } from './check-findings.js';

const REBUILD = `rebuild the index with "git rm -q ${REVOKED_INDEX_COMPLETE}", then "certified crl"`;

/**
 * The index of revoked certificates lists exactly the revoked records, by the directory each
 * record is in: CRLs are built from the records it lists, so a missing entry would leave a
 * revoked certificate out of the next CRL. A CA without the index (made before it) has nothing to check.
 */
export async function checkRevokedIndex(store: CaStore, paths: Map<CertificateRecord, string>): Promise<Finding[]> {
  if (!(await store.exists(REVOKED_INDEX_COMPLETE))) return [];
  const expected = new Set<string>();
  for (const [record, path] of paths) {
    const place = recordPlace(path);
    if (place && record.status === 'revoked') expected.add(revokedIndexPath(place.issuer, place.serial));
  }
  const listed = new Set<string>();
  const findings: Finding[] = [];
  for (const issuer of await store.list(REVOKED_INDEX_DIR)) {
    if (issuer.startsWith('.')) continue;
    const serials = await store.list(revokedIndexDir(issuer)).catch(() => undefined);
    if (serials) for (const serial of serials) listed.add(revokedIndexPath(issuer, serial));
    else findings.push(finding(revokedIndexDir(issuer), 'revoked-index', `is a file where the index keeps a directory: remove it with "git rm", then ${REBUILD}`));
  }
  for (const path of expected) {
    if (listed.has(path)) continue;
    const [, issuer = '', serial = ''] = path.split('/');
    findings.push(finding(path, 'revoked-index', `missing: the revoked record ${recordsDir(issuer)}/${serial}.json is not in the index, so the next CRL would leave it out: ${REBUILD}`));
  }
  for (const path of listed) {
    if (expected.has(path)) continue;
    const [, issuer = '', serial = ''] = path.split('/');
    findings.push(finding(path, 'revoked-index', `lists serial ${serial}, which has no revoked record in ${recordsDir(issuer)}/: ${REBUILD}`));
  }
  return findings;
}

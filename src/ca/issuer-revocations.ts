import type { CertificateRecord } from '../store/records.js';

const CA_PROFILES = new Set(['root', 'ca']);

/**
 * Whether `record` was issued by this CA certificate rather than by an earlier CA of the same name
 * (a replaced intermediate): by key identifier, or, for records made before those were kept, by
 * date (a CA's name can only be used again after it was revoked).
 */
export function issuedBy(record: CertificateRecord, ca: { subjectKeyId?: string | undefined; notBefore: Date }): boolean {
  if (record.authorityKeyId && ca.subjectKeyId) return record.authorityKeyId === ca.subjectKeyId;
  return ca.notBefore.getTime() <= Date.parse(record.notBefore);
}

/**
 * Which CA certificate issued each record, and whether it or a CA above it was revoked: the
 * certificates below a revoked CA are no longer trusted, even while their own records are valid.
 * A CA's name can be issued again once it is revoked (a new intermediate is "ca" too), so the
 * issuing certificate is the one whose key identifier the record names, or, for records made
 * before key identifiers were kept, the last certificate of that name made before the record.
 */
export class IssuerRevocations {
  private readonly casByName = new Map<string, CertificateRecord[]>();
  private readonly memo = new Map<CertificateRecord, CertificateRecord | undefined>();

  constructor(records: CertificateRecord[]) {
    for (const record of records) {
      if (CA_PROFILES.has(record.profile)) this.casByName.set(record.name, [...(this.casByName.get(record.name) ?? []), record]);
    }
    for (const group of this.casByName.values()) group.sort((a, b) => (a.notBefore < b.notBefore ? -1 : a.notBefore > b.notBefore ? 1 : 0));
  }

  /** The revoked CA record at or above the issuer of `record`, if any. */
  revokedAbove(record: CertificateRecord): CertificateRecord | undefined {
    if (this.memo.has(record)) return this.memo.get(record);
    this.memo.set(record, undefined); // a record that names itself (the root) ends here
    const issuer = this.issuerOf(record);
    const revoked = !issuer ? undefined : issuer.status === 'revoked' ? issuer : this.revokedAbove(issuer);
    this.memo.set(record, revoked);
    return revoked;
  }

  /** The record of the CA certificate that issued `record`; none for the root and self-signed ones. */
  issuerOf(record: CertificateRecord): CertificateRecord | undefined {
    if (record.profile === 'root' || record.profile === 'self-signed') return undefined;
    const candidates = this.casByName.get(record.issuer) ?? [];
    return candidates.filter((candidate) => issuedBy(record, { subjectKeyId: candidate.subjectKeyId, notBefore: new Date(candidate.notBefore) })).pop() ?? candidates[0];
  }
}

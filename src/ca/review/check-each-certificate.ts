import type { KeyComparison } from '../../pki/keys.js';
import type { CaStore } from '../../store/ca-store.js';
import { CERTS_DIR, CROSS_NAME, INTERMEDIATE_NAME, OLD_ROOT_NAME, RECORDS_DIR, certPath, recordPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { IssuerRevocations } from '../issuer-revocations.js';
import type { CheckedView, Inspected } from './check-certificates.js';
import { checkChainFile, expectedChains, type NamedView } from './check-chains.js';
import { finding, type Finding } from './check-findings.js';
import { checkProfile } from './check-profile.js';
import { checkRecordFields } from './check-records.js';
import { alternativeChains, endsAtOldRoot } from './check-rotation.js';

/** What check keeps of a certificate once it is checked: enough to match it with its record. */
export interface DecodedCertificate {
  serial: string;
  isCa: boolean;
}

/** What one certificate's checks found, and the issuer its signature must verify with (none: no signature to verify). */
export interface Judged {
  findings: Finding[];
  issuer?: { name: string; view: CheckedView };
  underOldRoot: boolean;
}

/**
 * The checks of one certificate against its record, its issuer, the profile and its chain file,
 * given `certificates`: every certificate that may be an issuer or a link of a chain (or all of
 * them). The signature is verified elsewhere, with the issuer this names.
 */
export class CertificateJudge {
  /** The record of a serial (the last of that serial, as the records are read). */
  private readonly recordOf: (serial: string) => CertificateRecord | undefined;
  private readonly revocations: IssuerRevocations;
  private readonly replacement: string;
  private readonly chains: Map<string, NamedView[] | undefined>;

  constructor(
    private readonly store: CaStore,
    private readonly certificates: Map<string, CheckedView>,
    records: CertificateRecord[],
    private readonly paths: Map<CertificateRecord, string>,
    private readonly rotation: { twins: Map<string, string[]>; rootChains: ReadonlyMap<string, NamedView[]> },
    recordOfSerial?: (serial: string) => CertificateRecord | undefined,
  ) {
    const bySerial = new Map(records.map((record) => [`${record.serial}`, record]));
    this.recordOf = recordOfSerial ?? ((serial) => bySerial.get(serial));
    this.revocations = new IssuerRevocations(records);
    const issuers = this.revocations;
    this.replacement = records.some((record) => record.name === INTERMEDIATE_NAME && record.status === 'valid' && !issuers.revokedAbove(record)) ? INTERMEDIATE_NAME : 'CA';
    this.chains = expectedChains(certificates, (name) => this.issuerName(name), rotation.rootChains);
  }

  private revokedAbove(view: CheckedView): CertificateRecord | undefined {
    const record = this.recordOf(view.serial);
    return record?.status === 'valid' ? this.revocations.revokedAbove(record) : undefined;
  }

  private issuerName(name: string, view = this.certificates.get(name)): string | undefined {
    if (!view || this.revokedAbove(view)) return undefined;
    return issuerOf(name, view, this.recordOf(view.serial), this.certificates)?.name;
  }

  /** The chain certified writes for it: see expectedChains, of which this is one step more for a certificate not in `certificates`. */
  private chainOf(name: string, view: CheckedView): NamedView[] | undefined {
    if (this.chains.has(name) && this.certificates.get(name) === view) return this.chains.get(name);
    if (view.selfSigned) return this.rotation.rootChains.get(name) ?? [];
    const issuer = this.issuerName(name, view);
    const above = issuer === undefined || issuer === name ? undefined : this.chains.get(issuer);
    return above && [{ name, view }, ...above];
  }

  private checkChain(name: string, view: CheckedView): { findings: Finding[]; underOldRoot: boolean } {
    // The cross-certificate is a link of other chains, not served on its own.
    if (view.selfSigned || name === CROSS_NAME) return { findings: [], underOldRoot: false };
    const expected = this.chainOf(name, view);
    const found = checkChainFile(this.store, name, view, expected);
    const chain = found.length || !expected ? undefined : expected;
    const alternative = chain ?? (expected ? alternativeChains(expected, this.rotation.twins, this.chains).find((other) => checkChainFile(this.store, name, view, other).length === 0) : undefined);
    // The old root's own certificates (NAME.old, the cross-certificate) are where such chains lead, not what is under it.
    const underOldRoot = this.recordOf(view.serial)?.issuer !== OLD_ROOT_NAME && alternative !== undefined && endsAtOldRoot(alternative, (other) => this.issuerName(other));
    return { findings: alternative ? [] : found, underOldRoot };
  }

  judge(name: string, view: CheckedView): Judged {
    const findings: Finding[] = [];
    const path = certPath(name);
    const record = this.recordOf(view.serial);
    const revokedCa = this.revokedAbove(view);
    if (record) findings.push(...checkRecordFields(name, view, record, this.paths.get(record) ?? recordPath(record.issuer, record.serial)));
    const chain = this.checkChain(name, view);
    if (revokedCa) {
      const when = revokedCa.revocation?.date.slice(0, 10) ?? '?';
      findings.push(finding(path, 'issuer-revoked', [
        `the CA "${revokedCa.name}" above it (serial ${revokedCa.serial}) was revoked on ${when}, so it is no longer trusted: move it to another CA with "certified renew `,
        { option: 'issuer', value: this.replacement },
        ' ',
        { option: 'name', value: name },
        '", or revoke it',
      ]));
      findings.push(...chain.findings);
      return { findings, underOldRoot: chain.underOldRoot };
    }
    if (!record) findings.push(finding(path, 'no-record', `serial ${view.serial} has no record in ${RECORDS_DIR}/`));
    else if (record.name !== name) findings.push(finding(path, 'record-mismatch', `its record ${recordPath(record.issuer, record.serial)} names "${record.name}"`));
    else if (record.status === 'revoked') findings.push(finding(path, 'revoked-in-certs', `serial ${view.serial} is revoked but the certificate is still in ${CERTS_DIR}/`));
    const issuer = issuerOf(name, view, record, this.certificates);
    if (!issuer) findings.push(finding(path, 'no-issuer', `its issuer "${record?.issuer ?? view.issuer.CN ?? '?'}" is not in ${CERTS_DIR}/`));
    findings.push(...checkProfile(name, view, record, issuer?.view));
    findings.push(...chain.findings);
    return { findings, ...(issuer ? { issuer } : {}), underOldRoot: chain.underOldRoot };
  }
}

/** The issuer by the record's name; a self-signed certificate is its own; else by key identifier. */
export function issuerOf(
  name: string,
  view: CheckedView,
  record: CertificateRecord | undefined,
  certificates: Map<string, CheckedView>,
): { name: string; view: CheckedView } | undefined {
  if (view.selfSigned) return { name, view };
  const byRecord = record ? certificates.get(record.issuer) : undefined;
  if (record && byRecord) return { name: record.issuer, view: byRecord };
  for (const [candidate, other] of certificates) {
    if (other.isCa && other.subjectKeyId !== undefined && other.subjectKeyId === view.authorityKeyId) return { name: candidate, view: other };
  }
  return undefined;
}

/** A certificate file's result kept: its key comparison and what matches it with its record; an unreadable one is a finding. */
export function keepInspected(name: string, result: Inspected | undefined, kept: { decoded: Map<string, DecodedCertificate>; keys: Map<string, KeyComparison>; findings: Finding[] }): CheckedView | undefined {
  if (!result || !('view' in result)) {
    kept.findings.push(finding(certPath(name), 'unreadable', `not a certificate: ${result?.error ?? 'not decoded'}`));
    return undefined;
  }
  kept.decoded.set(name, { serial: result.view.serial, isCa: result.view.isCa });
  if (result.key) kept.keys.set(name, result.key);
  return result.view;
}

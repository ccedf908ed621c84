import type { CertificateInfo } from '../../pki/certificate.js';
import { isEncryptedKeyPem } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import type { CaStore, ChangeSet, FileWrite } from '../../store/ca-store.js';
import { CROSS_NAME, CSR_KEEP_CONTENT, CSR_KEEP_FILE, isRootName, certPath, chainPath, csrPath, keyPath, revokedDir, revokedKeyPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { loadCertificate, loadConfig } from '../ca-files.js';
import { crlDaysFor } from '../config.js';
import { confirmChange, type Confirm } from '../confirm.js';
import type { AskPassword } from '../passwords.js';
import { issuedByCurrentCa, loadIssuer } from '../load-issuer.js';
import { resolveIssuer } from '../authorities/issuers.js';
import { recordWrite } from '../certificate-record.js';
import { commitMessage } from '../commit-message.js';
import { CertifiedError, UsageError } from '../errors.js';
import { findRecord, locateCertificate, locateSerial } from '../find-record.js';
import { buildCrlWith, publishedCrl, type PublishedCrl } from './generate-crl.js';
import { REVOCATION_REASONS, type RevokeReason } from './reasons.js';

export { REVOCATION_REASONS, type RevokeReason } from './reasons.js';

export function parseReason(value: string | undefined): RevokeReason {
  if (value === undefined) return 'unspecified';
  const found = REVOCATION_REASONS.find((reason) => reason.toLowerCase() === value.toLowerCase());
  if (!found) {
    throw new UsageError([{ option: 'reason' }, ` must be one of ${REVOCATION_REASONS.join(', ')}, got "${value.slice(0, 30)}"`], ['Write it like ', { option: 'reason', value: 'keyCompromise' }, '.']);
  }
  return found;
}

/** Only the root cannot be revoked: nothing above it could sign the CRL. */
export function assertRevocable(name: string): void {
  if (isRootName(name)) {
    throw new CertifiedError('the root cannot be revoked', { code: 'ROOT_REVOKE', hint: 'Stop trusting it instead, and make a new CA in a new directory.' });
  }
}

export type Move = NonNullable<ChangeSet['moves']>[number];

/** The valid record of the same CA's other certificate after a root rotation (NAME and NAME.old: the same subject and key), if any. */
async function twinOf(store: CaStore, record: CertificateRecord): Promise<CertificateRecord | undefined> {
  const name = record.name.endsWith('.old') ? record.name.slice(0, -'.old'.length) : `${record.name}.old`;
  const certificate = await loadCertificate(store, name);
  if (!certificate || certificate.subjectKeyId !== record.subjectKeyId || formatDn(certificate.subject) !== formatDn(record.subject)) return undefined;
  const twin = await findRecord(store, certificate.serial);
  return twin?.status === 'valid' ? twin : undefined;
}

export interface PreparedRevocation {
  /** None for a record revoked alone (a spare record of a name whose file holds another serial). */
  certificate?: CertificateInfo;
  /** The record as revoked. */
  record: CertificateRecord;
  writes: FileWrite[];
  moves: Move[];
  summary: string;
  details: string[];
  trailers: Record<string, string>;
}

/** The certificate to revoke: the current one of a name, or any valid record by its serial. */
export type RevocationTarget = string | { serial: string };

/**
 * Everything revoking `target` writes and moves, without the CRL and without writing: for callers
 * that hold the lock and commit several changes at once. `issuer` (a CA name) must match the
 * record's when given. The certificate's files move to revoked/NAME-SERIAL/ and its key to
 * private/revoked/NAME-SERIAL.key (still git-ignored), so the name can be issued again. A record
 * found by serial whose name's files hold another certificate is revoked alone: no file moves.
 */
export async function prepareRevocation(
  store: CaStore,
  issuer: string | undefined,
  revocationTarget: RevocationTarget,
  reason: RevokeReason,
  now: Date,
  /** reissued: the same change writes a new certificate of the name (renew), so csr/ keeps a request. */
  options: { keepKey?: boolean; reissued?: boolean } = {},
): Promise<PreparedRevocation> {
  const { certificate, record } = typeof revocationTarget === 'string' ? await locateCertificate(store, revocationTarget) : await locateSerial(store, revocationTarget.serial);
  const target = record.name;
  assertRevocable(target);
  if (issuer !== undefined && record.issuer !== issuer) {
    throw new CertifiedError(`"${target}" was issued by "${record.issuer}", not by "${issuer}"`, {
      code: 'WRONG_ISSUER',
      hint: ['Drop ', { option: 'issuer' }, ', or use ', { option: 'issuer', value: record.issuer }, '.'],
    });
  }
  const revoked: CertificateRecord = { ...record, status: 'revoked', revocation: { date: now.toISOString(), reason } };
  const dir = revokedDir(target, record.serial);
  const moves: Move[] = [];
  const files = certificate ? [certPath(target), chainPath(target), ...(options.keepKey ? [] : [csrPath(target)])] : [];
  for (const path of files) {
    if (await store.exists(path)) moves.push({ from: path, to: `${dir}/${path.split('/').pop() ?? path}`, commit: true });
  }
  const keep = !options.reissued && moves.some((move) => move.from === csrPath(target)) && !(await store.exists(CSR_KEEP_FILE));
  const key = options.keepKey || !certificate ? undefined : await store.readText(keyPath(target));
  if (key !== undefined) {
    // Only an encrypted key is tracked; an unencrypted one moves on disk and stays git-ignored.
    moves.push({ from: keyPath(target), to: revokedKeyPath(target, record.serial), commit: isEncryptedKeyPem(key) });
  }
  return {
    certificate,
    record: revoked,
    writes: [recordWrite(revoked), ...(keep ? [{ path: CSR_KEEP_FILE, content: CSR_KEEP_CONTENT, commit: true }] : [])],
    moves,
    summary: `Revoke ${target} (serial ${record.serial}, ${reason})`,
    details: [
      `Subject: ${formatDn(record.subject)}`,
      `SANs:    ${record.sans.join(', ') || '(none)'}`,
      `Issuer:  ${record.issuer}`,
      `Serial:  ${record.serial}`,
      `Reason:  ${reason}`,
      `Revoked: ${now.toISOString()}`,
      certificate ? `Files:   moved to ${dir}/` : `Files:   none moved (${certPath(target)} holds another certificate)`,
    ],
    trailers: {
      'Certified-Action': 'revoke',
      'Certified-Name': target,
      'Certified-Issuer': record.issuer,
      'Certified-Serial': record.serial,
      'Certified-Reason': reason,
    },
  };
}

export interface RevokeCertificateParams {
  /** The certificate: the current one of a name, or any valid record by its serial. */
  target: RevocationTarget;
  /** When given (a file name or CN), the certificate must have been issued by this CA. */
  issuer?: string;
  reason: RevokeReason;
  /** Asked for the issuing CA's key (the root's when the root is the issuer) only when it is encrypted. */
  askPassword: AskPassword;
  /** Asked once everything is checked and built, before anything is written. */
  confirm?: Confirm;
  crlDays?: number;
  commandLine: string;
  now?: Date;
}

export interface RevokeCertificateResult {
  record: CertificateRecord;
  /** None when the issuing CA was itself revoked: its CRL is not signed again. */
  crl?: { path: string; crlNumber: number };
  /** Every CRL signed again: its CA's, and the other root's for a CA's certificate under it after a root rotation. */
  crls: PublishedCrl[];
  /** Where its files went; none for a record revoked alone. */
  movedTo?: string;
  commit: string;
}

/**
 * Revokes one certificate: its record, its issuer's CRL and its files moved away, in one commit.
 * Below a CA that was revoked itself, the record and files change but no CRL: that CA's key is
 * retired, and nothing it issued is trusted any more.
 */
export async function revokeCertificate(store: CaStore, params: RevokeCertificateParams): Promise<RevokeCertificateResult> {
  return store.locked(async () => {
    const config = await loadConfig(store);
    const now = params.now ?? new Date();
    const issuerName = params.issuer === undefined ? undefined : await resolveIssuer(store, params.issuer);
    const prepared = await prepareRevocation(store, issuerName, params.target, params.reason, now);
    if (prepared.record.name === CROSS_NAME && config.rootRotation?.bridge) {
      throw new CertifiedError('the cross-certificate is the bridge of the root rotation under way', {
        code: 'CROSS_IN_USE',
        hint: ['End the bridge with "certified rotate-root ', { option: 'finish' }, '" instead: chain files would still hold a revoked certificate.'],
      });
    }
    // A CA's other certificate for the same key (its certificate under the old root after a root
    // rotation) would keep that key trusted: revoking a CA revokes both, each on its issuer's CRL.
    const twin = prepared.record.profile === 'ca' ? await twinOf(store, prepared.record) : undefined;
    const revocations = [prepared, ...(twin ? [await prepareRevocation(store, undefined, twin.name, params.reason, now)] : [])];
    const writes: FileWrite[] = revocations.flatMap((revocation) => revocation.writes).filter((write, index, all) => all.findIndex((other) => other.path === write.path) === index);
    const removes: string[] = [];
    const crls: PublishedCrl[] = [];
    for (const { record } of revocations) {
      if (!(await issuedByCurrentCa(store, record))) continue;
      const issuer = await loadIssuer(store, record.issuer, params.askPassword);
      const crlWrite = await buildCrlWith(store, issuer, [record], { now, days: params.crlDays ?? crlDaysFor(config, issuer.name) });
      // Two CRLs that each build the index write its marker once.
      writes.push(crlWrite, ...crlWrite.index.writes.filter((write) => !writes.some((other) => other.path === write.path)));
      removes.push(...crlWrite.index.removes);
      crls.push(publishedCrl(crlWrite));
    }
    const crl = crls[0];
    const message = commitMessage({
      summary: prepared.summary,
      commandLine: params.commandLine,
      details: [
        ...prepared.details,
        ...(twin ? [`Also:    ${twin.name} (serial ${twin.serial}), the same CA's certificate under ${twin.issuer}`] : []),
        ...(crls.length
          ? crls.map((written) => `CRL:     ${written.path}, CRL number ${written.crlNumber}`)
          : [`CRL:     none (${prepared.record.profile === 'self-signed' ? 'self-signed' : `its CA "${prepared.record.issuer}" was revoked`})`]),
      ],
      trailers: prepared.trailers,
    });
    await confirmChange(params.confirm, `${prepared.summary}?`);
    const { commit } = await store.apply({ message, writes, removes, moves: revocations.flatMap((revocation) => revocation.moves) });
    const movedTo = prepared.certificate ? revokedDir(prepared.record.name, prepared.record.serial) : undefined;
    return { record: prepared.record, ...(crl ? { crl: { path: crl.path, crlNumber: crl.crlNumber } } : {}), crls, ...(movedTo ? { movedTo } : {}), commit };
  });
}

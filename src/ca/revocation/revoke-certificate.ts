import type { CertificateInfo } from '../../pki/certificate.js';
import { isEncryptedKeyPem } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import type { CaStore, ChangeSet, FileWrite } from '../../store/ca-store.js';
import { ROOT_NAME, certPath, chainPath, csrPath, keyPath, revokedDir, revokedKeyPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { loadConfig } from '../ca-files.js';
import type { AskPassword } from '../passwords.js';
import { loadIssuer } from '../load-issuer.js';
import { resolveIssuer } from '../authorities/issuers.js';
import { recordWrite } from '../certificate-record.js';
import { commitMessage } from '../commit-message.js';
import { CertifiedError, UsageError } from '../errors.js';
import { locateCertificate } from '../find-record.js';
import { buildCrlWith } from './generate-crl.js';

export const REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged'] as const;
export type RevokeReason = (typeof REVOCATION_REASONS)[number];

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
  if (name === ROOT_NAME) {
    throw new CertifiedError('the root cannot be revoked', { code: 'ROOT_REVOKE', hint: 'Stop trusting it instead, and make a new CA in a new directory.' });
  }
}

export type Move = NonNullable<ChangeSet['moves']>[number];

export interface PreparedRevocation {
  certificate: CertificateInfo;
  /** The record as revoked. */
  record: CertificateRecord;
  writes: FileWrite[];
  moves: Move[];
  summary: string;
  details: string[];
  trailers: Record<string, string>;
}

/**
 * Everything revoking `target` writes and moves, without the CRL and without writing: for callers
 * that hold the lock and commit several changes at once. `issuer` (a CA name) must match the
 * record's when given. The certificate's files move to revoked/NAME-SERIAL/ and its key to
 * private/revoked/NAME-SERIAL.key (still git-ignored), so the name can be issued again.
 */
export async function prepareRevocation(
  store: CaStore,
  issuer: string | undefined,
  target: string,
  reason: RevokeReason,
  now: Date,
  options: { keepKey?: boolean } = {},
): Promise<PreparedRevocation> {
  assertRevocable(target);
  const { certificate, record } = await locateCertificate(store, target);
  if (issuer !== undefined && record.issuer !== issuer) {
    throw new CertifiedError(`"${target}" was issued by "${record.issuer}", not by "${issuer}"`, {
      code: 'WRONG_ISSUER',
      hint: ['Drop ', { option: 'issuer' }, ', or use ', { option: 'issuer', value: record.issuer }, '.'],
    });
  }
  const revoked: CertificateRecord = { ...record, status: 'revoked', revocation: { date: now.toISOString(), reason } };
  const dir = revokedDir(target, record.serial);
  const moves: Move[] = [];
  const files = [certPath(target), chainPath(target), ...(options.keepKey ? [] : [csrPath(target)])];
  for (const path of files) {
    if (await store.exists(path)) moves.push({ from: path, to: `${dir}/${path.split('/').pop() ?? path}`, commit: true });
  }
  const key = options.keepKey ? undefined : await store.readText(keyPath(target));
  if (key !== undefined) {
    // Only an encrypted key is tracked; an unencrypted one moves on disk and stays git-ignored.
    moves.push({ from: keyPath(target), to: revokedKeyPath(target, record.serial), commit: isEncryptedKeyPem(key) });
  }
  return {
    certificate,
    record: revoked,
    writes: [recordWrite(revoked)],
    moves,
    summary: `Revoke ${target} (serial ${record.serial}, ${reason})`,
    details: [
      `Subject: ${formatDn(record.subject)}`,
      `SANs:    ${record.sans.join(', ') || '(none)'}`,
      `Issuer:  ${record.issuer}`,
      `Serial:  ${record.serial}`,
      `Reason:  ${reason}`,
      `Revoked: ${now.toISOString()}`,
      `Files:   moved to ${dir}/`,
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
  name: string;
  /** When given (a file name or CN), the certificate must have been issued by this CA. */
  issuer?: string;
  reason: RevokeReason;
  /** Asked for the issuing CA's key (the root's when the root is the issuer) only when it is encrypted. */
  askPassword: AskPassword;
  crlDays?: number;
  commandLine: string;
  now?: Date;
}

export interface RevokeCertificateResult {
  record: CertificateRecord;
  crl: { path: string; crlNumber: number };
  movedTo: string;
  commit: string;
}

/** Revokes one certificate: its record, its issuer's CRL and its files moved away, in one commit. */
export async function revokeCertificate(store: CaStore, params: RevokeCertificateParams): Promise<RevokeCertificateResult> {
  return store.locked(async () => {
    const config = await loadConfig(store);
    const now = params.now ?? new Date();
    const issuerName = params.issuer === undefined ? undefined : await resolveIssuer(store, params.issuer);
    const prepared = await prepareRevocation(store, issuerName, params.name, params.reason, now);
    const issuer = await loadIssuer(store, prepared.record.issuer, params.askPassword);
    const crl = await buildCrlWith(store, issuer, [prepared.record], { now, days: params.crlDays ?? config.crlDays });
    const crlNumber = crl.crlNumber;
    const message = commitMessage({
      summary: prepared.summary,
      commandLine: params.commandLine,
      details: [...prepared.details, `CRL:     ${crl.path}, CRL number ${crlNumber}`],
      trailers: prepared.trailers,
    });
    const { commit } = await store.apply({ message, writes: [...prepared.writes, crl], moves: prepared.moves });
    return { record: prepared.record, crl: { path: crl.path, crlNumber }, movedTo: revokedDir(params.name, prepared.record.serial), commit };
  });
}

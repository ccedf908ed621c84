import { certificatePublicKey, type CertificateInfo } from '../../pki/certificate.js';
import type { DistinguishedName, SubjectAltName } from '../../pki/types.js';
import type { CaStore } from '../../store/ca-store.js';
import type { CertificateRecord } from '../../store/records.js';
import { loadConfig, isKeyEncrypted } from '../ca-files.js';
import { crlDaysFor } from '../config.js';
import { confirmChange, type Confirm } from '../confirm.js';
import type { AskPassword } from '../passwords.js';
import { issuedByCurrentCa, loadIssuer } from '../load-issuer.js';
import { resolveIssuer } from '../authorities/issuers.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { CertifiedError, PasswordError } from '../errors.js';
import { locateCertificate } from '../find-record.js';
import { buildCrlWith, publishedCrl, type PublishedCrl } from '../revocation/generate-crl.js';
import { prepareIssue, type IssueCertificateResult } from './issue-certificate.js';
import { BACKDATE_MS, type LeafProfile } from '../profiles.js';
import { prepareRevocation } from '../revocation/revoke-certificate.js';

const LEAF_PROFILES: readonly string[] = ['server', 'client', 'server+client'] satisfies LeafProfile[];

export interface RenewCertificateParams {
  name: string;
  /** The CA that signs the new certificate (file name or CN); default: the old one's. */
  issuer?: string;
  /** Default: as long as the old certificate was valid. */
  days?: number;
  /** The names of the new certificate (the ACME server's, when its host name changed); default: the old one's. */
  names?: { subject: DistinguishedName; sans: SubjectAltName[] };
  /** Certify the old key again instead of making a new one. */
  reuseKey?: boolean;
  /** Encrypts the new key; required when the old key was encrypted. */
  password?: string;
  /** Asked for the issuing CA's key only when it is encrypted. */
  askPassword: AskPassword;
  /** Asked once everything is checked and built, before anything is written (the old one is revoked). */
  confirm?: Confirm;
  commandLine: string;
  now?: Date;
}

export interface RenewCertificateResult extends IssueCertificateResult {
  /** The CA that signed the new certificate. */
  issuer: string;
  replaced: { serial: string; notAfter: string; issuer: string };
  reusedKey: boolean;
  /** The old one's CA's CRL, which lists it now; none when that CA was revoked itself. */
  crls: PublishedCrl[];
}

/** Only certificates a CA issued for servers and clients are renewed; CAs are replaced. */
export function assertRenewable(record: CertificateRecord): void {
  if (!LEAF_PROFILES.includes(record.profile)) {
    throw new CertifiedError(`"${record.name}" is a ${record.profile} certificate; renew is for certificates a CA issued`, {
      code: 'NOT_RENEWABLE',
      hint: record.profile === 'ca' ? ['Make a new CA with "certified init ', { option: 'issuer' }, '=.." and revoke the old one.'] : 'Issue it again.',
    });
  }
}

/** The validity the old certificate had, in whole days. */
export function lifetimeDays(certificate: CertificateInfo): number {
  return Math.max(1, Math.round((certificate.notAfter.getTime() - certificate.notBefore.getTime() - BACKDATE_MS) / 86_400_000));
}

/**
 * A new certificate with the same subject, names and profile, from the same CA or the one given,
 * and the old one revoked as superseded (record, its CA's CRL, files moved away), in one commit.
 * When the old one's CA was revoked, its CRL is left alone; the new one comes from the CA now of
 * that name (a new intermediate), or, where there is none, must come from the CA given.
 */
export async function renewCertificate(store: CaStore, params: RenewCertificateParams): Promise<RenewCertificateResult> {
  return store.locked(async () => {
    const config = await loadConfig(store);
    const now = params.now ?? new Date();
    const { certificate, record } = await locateCertificate(store, params.name);
    assertRenewable(record);
    if (!params.reuseKey && params.password === undefined && (await isKeyEncrypted(store, params.name))) {
      throw new PasswordError(`the key of "${params.name}" is encrypted, so its new key needs a password too`, undefined, { role: 'certificate', problem: 'new-key' });
    }
    const oldIssuerCurrent = await issuedByCurrentCa(store, record);
    const issuerName = params.issuer === undefined ? record.issuer : await resolveIssuer(store, params.issuer);
    const issuer = await loadIssuer(store, issuerName, params.askPassword, 'leaf');
    const revocation = await prepareRevocation(store, record.issuer, params.name, 'superseded', now, { keepKey: params.reuseKey === true, reissued: true });
    const issued = await prepareIssue(store, config, issuer, {
      name: params.name,
      subject: params.names?.subject ?? certificate.subject,
      sans: params.names?.sans ?? certificate.sans,
      profile: record.profile as LeafProfile,
      key: certificate.key,
      days: params.days ?? lifetimeDays(certificate),
      ...(params.password !== undefined && !params.reuseKey ? { password: params.password } : {}),
      now,
      replacing: true,
      ...(params.reuseKey ? { publicKey: certificatePublicKey(certificate.pem) } : {}),
    });
    const crls = [];
    if (oldIssuerCurrent) {
      const oldIssuer = issuerName === record.issuer ? issuer : await loadIssuer(store, record.issuer, params.askPassword);
      crls.push(await buildCrlWith(store, oldIssuer, [revocation.record, issued.record], { now, days: crlDaysFor(config, oldIssuer.name) }));
    }
    const newSerial = issued.record.serial;
    const message = commitMessage({
      summary: `Renew ${params.name}${issuerName === record.issuer ? '' : ` under ${issuerName}`} (serial ${record.serial} -> ${newSerial}, ${params.reuseKey ? 'same key' : 'new key'}, expires ${isoDate(issued.result.certificate.notAfter)})`,
      commandLine: params.commandLine,
      details: [
        ...issued.details,
        `Replaces: serial ${record.serial} of ${record.issuer}, revoked as superseded (files moved to ${revocation.moves[0]?.to.replace(/\/[^/]+$/, '/') ?? '-'})`,
        crls[0] ? `CRL:     ${crls[0].path}` : `CRL:     none (its CA "${record.issuer}" was revoked)`,
      ],
      trailers: {
        'Certified-Action': 'renew',
        'Certified-Name': params.name,
        'Certified-Issuer': issuerName,
        'Certified-Serial': newSerial,
        'Certified-Fingerprint': issued.result.certificate.fingerprint,
        'Certified-Replaces': record.serial,
        'Certified-Reason': 'superseded',
      },
    });
    await confirmChange(params.confirm, `${message.split('\n')[0] ?? 'Renew'}, revoking the old one as superseded?`);
    const { commit } = await store.apply({
      message,
      writes: [...revocation.writes, ...issued.writes, ...crls.flatMap((crl) => [crl, ...crl.index.writes])],
      removes: crls.flatMap((crl) => crl.index.removes),
      moves: revocation.moves,
    });
    const keyEncrypted = params.reuseKey ? await isKeyEncrypted(store, params.name) : params.password !== undefined;
    return {
      ...issued.result,
      record: issued.record,
      keyEncrypted,
      commit,
      issuer: issuerName,
      replaced: { serial: record.serial, notAfter: record.notAfter, issuer: record.issuer },
      reusedKey: params.reuseKey === true,
      crls: crls.map(publishedCrl),
    };
  });
}

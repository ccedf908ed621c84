import type { CertificateInfo, CreateCertificateParams } from '../../pki/certificate.js';
import { createCsr, type CsrInfo } from '../../pki/csr.js';
import { describeKey, generateKeyPair, type KeySpec } from '../../pki/keys.js';
import type { DistinguishedName, SubjectAltName } from '../../pki/types.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import type { CertificateRecord } from '../../store/records.js';
import { formatDn } from '../../pki/name.js';
import { INTERMEDIATE_NAME, certPath, chainPath, csrPath, keyPath } from '../../store/layout.js';
import { loadConfig } from '../ca-files.js';
import { resolveIssuer } from '../authorities/issuers.js';
import type { AskPassword } from '../passwords.js';
import { loadIssuer, type Issuer } from '../load-issuer.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { withDefaults, type CaConfig } from '../config.js';
import { NameTakenError } from '../errors.js';
import { assertNameFree, assertNotReserved } from '../names-in-use.js';
import { keyWrite } from '../authorities/init-ca.js';
import { formatSan } from '../names.js';
import { assertMaySign, buildCertificate } from '../certificate-builder.js';
import type { LeafProfile } from '../profiles.js';

/** What a new leaf certificate is made of, whoever signs it (the CA, or itself: self-signed.ts). */
export interface LeafParams {
  name: string;
  subject: DistinguishedName;
  sans: SubjectAltName[];
  profile: LeafProfile;
  key: KeySpec;
  days: number;
  /** Encrypts the new key (and then commits it). */
  password?: string;
  commandLine: string;
  now?: Date;
}

export interface IssueCertificateParams extends LeafParams {
  /** Asked for the issuing CA's key only when it is encrypted. */
  askPassword: AskPassword;
  /** The issuing CA by file name or CN; default: the intermediate. */
  issuer?: string;
  /**
   * Sign this existing public key (from a CSR made elsewhere) instead of generating a key: then
   * no key file is written, `csrPem` is stored as the request, and `key` describes this key.
   */
  existingKey?: { publicKey: CsrInfo['publicKey']; csrPem: string };
  /** Renewal: the same change moves the name's current files away. */
  replacing?: boolean;
  /** Renewal with --reuse-key: certify the key already at private/NAME.key; no key or CSR is written. */
  publicKey?: CreateCertificateParams['publicKey'];
}

export interface IssueCertificateResult {
  name: string;
  certificate: CertificateInfo;
  chainPem: string;
  /** `key` is absent when an existing public key was signed. */
  files: { certificate: string; chain: string; key?: string; csr: string };
  keyEncrypted: boolean;
  /** The issuing CA's key, so that a caller can say when the new key is of another type. */
  issuerKey: KeySpec;
  warnings: string[];
  /** What records/ keeps of it. */
  record: CertificateRecord;
  commit: string;
}

export interface PreparedIssue {
  result: Omit<IssueCertificateResult, 'commit' | 'record'>;
  writes: FileWrite[];
  record: CertificateRecord;
  /** The commit summary line and the details block for the commit message. */
  summary: string;
  details: string[];
  trailers: Record<string, string>;
}

/** Issues one certificate: locks, builds, commits. */
export async function issueCertificate(store: CaStore, params: IssueCertificateParams): Promise<IssueCertificateResult> {
  return store.locked(async () => {
    const config = await loadConfig(store);
    const issuerName = params.issuer === undefined ? INTERMEDIATE_NAME : await resolveIssuer(store, params.issuer);
    const issuer = await loadIssuer(store, issuerName, params.askPassword, 'leaf');
    const prepared = await prepareIssue(store, config, issuer, params);
    const message = commitMessage({
      summary: prepared.summary,
      commandLine: params.commandLine,
      details: prepared.details,
      trailers: prepared.trailers,
    });
    const { commit } = await store.apply({ message, writes: prepared.writes });
    return { ...prepared.result, record: prepared.record, commit };
  });
}

/**
 * Builds everything one issuance writes, without writing: for callers that hold the lock and
 * commit several changes at once (apply). Refuses a name that is taken, unless `replacing` (the
 * caller moves the old certificate's files away in the same change).
 */
export async function prepareIssue(
  store: CaStore,
  config: CaConfig,
  issuer: Issuer,
  params: Omit<IssueCertificateParams, 'commandLine' | 'askPassword' | 'issuer'>,
  options: { replacing?: boolean } = {},
): Promise<PreparedIssue> {
  const existing = params.existingKey;
  // A key already at private/NAME.key may be the one a CSR was made with (--no-sign, then --csr).
  const taken = params.replacing || options.replacing ? [] : existing ? [certPath(params.name)] : [certPath(params.name), keyPath(params.name)];
  if (taken.length) assertNotReserved(params.name);
  await assertNameFree(store, params.name, taken);
  if (existing) {
    const storedCsr = await store.readText(csrPath(params.name));
    if (storedCsr !== undefined && storedCsr !== existing.csrPem) throw new NameTakenError(params.name, csrPath(params.name));
  }
  assertMaySign(issuer, 'leaf');
  const subject = withDefaults(params.subject, config.subject);
  const keys = existing || params.publicKey ? undefined : await generateKeyPair(params.key);
  const { certificate, warnings } = await buildCertificate({
    kind: 'leaf',
    subject,
    publicKey: keys ? keys.publicKey : (params.publicKey ?? existing!.publicKey),
    key: params.key,
    profile: params.profile,
    sans: params.sans,
    issuer,
    policy: config,
    days: params.days,
    now: params.now ?? new Date(),
  });
  const notAfter = certificate.notAfter;
  const csr = keys ? await createCsr({ subject, sans: params.sans, keyPair: keys }) : existing?.csrPem;
  const chainPem = certificate.pem + issuer.chainPem;
  const record = toRecord(certificate, params.name, issuer.name, params.profile);
  const files = {
    certificate: certPath(params.name),
    chain: chainPath(params.name),
    ...(existing ? {} : { key: keyPath(params.name) }),
    csr: csrPath(params.name),
  };
  const keyName = describeKey(params.key);
  const sanText = params.sans.map(formatSan).join(', ') || '(none)';
  return {
    result: { name: params.name, certificate, chainPem, files, keyEncrypted: keys !== undefined && params.password !== undefined, issuerKey: issuer.key.spec, warnings },
    writes: [
      { path: files.certificate, content: certificate.pem, commit: true },
      { path: files.chain, content: chainPem, commit: true },
      ...(keys ? [await keyWrite(params.name, keys, params.password, true)] : []),
      ...(csr ? [{ path: files.csr, content: csr, commit: true }] : []),
      recordWrite(record),
    ],
    record,
    summary: `${existing ? 'Sign the CSR of' : 'Issue'} ${params.name} (${params.profile}, ${keyName}, expires ${isoDate(notAfter)})`,
    details: [
      `Subject: ${formatDn(subject)}`,
      `SANs:    ${sanText}`,
      `Issuer:  ${issuer.name} (${issuer.certificate.subject.CN ?? ''})`,
      `Serial:  ${certificate.serial}`,
      `Valid:   ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`,
      `SHA-256: ${certificate.fingerprint}`,
    ],
    trailers: {
      'Certified-Action': existing ? 'sign-csr' : 'issue',
      'Certified-Name': params.name,
      'Certified-Issuer': issuer.name,
      'Certified-Serial': certificate.serial,
      'Certified-Fingerprint': certificate.fingerprint,
    },
  };
}

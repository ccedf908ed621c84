/**
 * Issuing and revoking for ACME: a finalized order's CSR becomes a server certificate of the
 * intermediate, built by the one certificate builder, named acme-<serial> (no key file: the key is
 * the client's), with a record that says which account and order asked for it. Finalizations that
 * arrive together share one commit (issueAcmeCertificates), each certificate with its own record.
 * Revocation goes through the CA's revocation, so the CRL is rebuilt in the same commit.
 */
import type { CertificateInfo } from '../../pki/certificate.js';
import type { SigningKey } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import type { SubjectAltName } from '../../pki/types.js';
import type { CaStore } from '../../store/ca-store.js';
import { INTERMEDIATE_NAME, certPath, chainPath, revokedDir } from '../../store/layout.js';
import type { FileWrite } from '../../store/change.js';
import type { CertificateRecord } from '../../store/records.js';
import { loadConfig } from '../ca-files.js';
import { buildCertificate } from '../certificate-builder.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { withDefaults, type CaConfig } from '../config.js';
import { AlreadyRevokedError, CertifiedError } from '../errors.js';
import { findRecord } from '../find-record.js';
import { loadIssuer, type Issuer } from '../load-issuer.js';
import { jwkThumbprint, jwkThumbprintOf, spkiThumbprint } from '../../pki/jws.js';
import { formatSan, parseSan, sanFromCommonName } from '../names.js';
import type { AskPassword } from '../passwords.js';
import { csrNames, readCsr } from '../issuing/sign-csr.js';
import { revokeCertificate, type RevokeReason } from '../revocation/revoke-certificate.js';
import { AcmeProblem, type AcmeIdentifier } from './types.js';

export interface IssueAcmeParams {
  /** The CSR from the finalize request (DER). */
  csr: Uint8Array;
  /** The order's identifiers: the CSR must name exactly these. */
  identifiers: AcmeIdentifier[];
  account: string;
  /** The account's keys, current and previous: none of them may be the certificate's. */
  accountKeys?: JsonWebKey[];
  order: string;
  days: number;
  askPassword: AskPassword;
  /** The intermediate's key as the server opened it: used while it is still the intermediate's. */
  issuerKey?: SigningKey;
  commandLine: string;
  now?: Date;
}

export interface IssueAcmeResult {
  name: string;
  serial: string;
  certificate: CertificateInfo;
  chainPem: string;
  commit: string;
}

export const acmeCertificateName = (serial: string): string => `acme-${serial}`;

/** An identifier as a SAN, in the CA's canonical spelling (lower-case names, compressed IPv6). */
export function identifierSan(identifier: AcmeIdentifier): SubjectAltName {
  return parseSan(`${identifier.type === 'ip' ? 'IP' : 'DNS'}:${identifier.value}`);
}

const sanKey = (san: SubjectAltName): string => `${san.type}:${san.value}`;

/** RFC 5280 ub-common-name. */
const MAX_CN_LENGTH = 64;

/** A finalize request whose CSR fits its order: what a batch needs to sign and commit it. */
export interface CheckedAcmeRequest {
  params: IssueAcmeParams;
  csr: Awaited<ReturnType<typeof readCsr>>;
  /** The certificate's CN: one of its names in canonical spelling, of at most 64 characters, or none. */
  cn: string | undefined;
  wanted: SubjectAltName[];
  /** Signed ahead of its commit (presignAcmeRequest), kept only if the CA is unchanged under the lock. */
  presigned?: Signed;
}

/** What ACME certificates are signed with: the intermediate and the CA's settings. */
export interface AcmeSigner {
  issuer: Issuer;
  config: CaConfig;
  /** Equal for two signers that would sign alike. */
  basis: string;
}

interface Signed {
  certificate: CertificateInfo;
  fullSubject: ReturnType<typeof withDefaults>;
  basis: string;
}

/** Loads the signer (no lock: a change made meanwhile is caught by the basis under the lock). */
export async function loadAcmeSigner(store: CaStore, askPassword: AskPassword, issuerKey?: SigningKey): Promise<AcmeSigner> {
  const config = await loadConfig(store);
  const issuer = await loadIssuer(store, INTERMEDIATE_NAME, askPassword, 'leaf', issuerKey);
  return { issuer, config, basis: `${issuer.certificate.fingerprint}\n${issuer.chainPem}\n${JSON.stringify(config)}` };
}

async function signRequest(request: CheckedAcmeRequest, signer: AcmeSigner): Promise<Signed> {
  const { params, csr, wanted } = request;
  const cn = request.cn;
  const fullSubject = withDefaults(cn === undefined ? {} : { CN: cn }, signer.config.subject);
  const { certificate } = await buildCertificate({
    kind: 'leaf',
    subject: fullSubject,
    publicKey: csr.publicKey,
    key: csr.key,
    profile: 'server',
    sans: wanted,
    issuer: signer.issuer,
    policy: signer.config,
    days: params.days,
    now: params.now ?? new Date(),
  });
  return { certificate, fullSubject, basis: signer.basis };
}

/**
 * Signs a request's certificate before its commit, while the previous commit runs, so that the
 * commit (under the lock) only writes. Nothing is written; a failure leaves it to the commit.
 */
export async function presignAcmeRequest(request: CheckedAcmeRequest, signer: AcmeSigner): Promise<void> {
  request.presigned = await signRequest(request, signer).catch(() => undefined);
}

/** Reads and checks a finalize CSR (no lock, nothing written); throws AcmeProblem badCSR when it does not fit. */
export async function checkAcmeRequest(params: IssueAcmeParams): Promise<CheckedAcmeRequest> {
  let csr;
  try {
    csr = await readCsr(params.csr, 'the CSR');
  } catch (error) {
    if (error instanceof CertifiedError) throw new AcmeProblem('badCSR', error.message);
    throw error;
  }
  // Boulder's rule too: the account key signs requests, a certificate needs a key of its own.
  const csrKey = csr.publicKey.keyObject ? jwkThumbprint(csr.publicKey.keyObject) : spkiThumbprint(csr.publicKey.rawData);
  if (csrKey !== undefined && (params.accountKeys ?? []).some((jwk) => jwkThumbprintOf(jwk) === csrKey)) {
    throw new AcmeProblem('badCSR', "the CSR's key is the account's key; make the certificate a key of its own");
  }
  const wanted = params.identifiers.map(identifierSan);
  let requested: SubjectAltName[];
  let cnSan: SubjectAltName | undefined;
  try {
    // The same rules as every CSR this CA signs: the CN, when host-shaped, is one of the names.
    const names = csrNames(csr, { requireCn: false });
    requested = names.sans.map((san) => {
      if (san.type !== 'dns' && san.type !== 'ip') throw new AcmeProblem('badCSR', `the CSR asks for ${san.type} names, which ACME does not issue`);
      return san;
    });
    cnSan = names.subject.CN === undefined ? undefined : sanFromCommonName(names.subject.CN);
  } catch (error) {
    if (error instanceof CertifiedError) throw new AcmeProblem('badCSR', `the CSR is refused: ${error.message}`);
    throw error;
  }
  const asked = new Set(requested.map(sanKey));
  const ordered = new Set(wanted.map(sanKey));
  const extra = [...asked].filter((name) => !ordered.has(name));
  const missing = [...ordered].filter((name) => !asked.has(name));
  if (extra.length || missing.length) {
    throw new AcmeProblem('badCSR', `the CSR's names must be the order's: ${[...(extra.length ? [`not in the order: ${extra.join(', ')}`] : []), ...(missing.length ? [`missing: ${missing.join(', ')}`] : [])].join('; ')}`);
  }
  // The CN is a name of the certificate in its canonical spelling, and fits RFC 5280's 64 characters, or there is none.
  const cn = [...(cnSan ? [cnSan] : []), ...wanted].find((san) => san.value.length <= MAX_CN_LENGTH)?.value;
  return { params, csr, cn, wanted };
}

/** Issues the certificate of a finalized order; throws AcmeProblem badCSR for a CSR that does not fit. */
export async function issueAcmeCertificate(store: CaStore, params: IssueAcmeParams): Promise<IssueAcmeResult> {
  const [result] = await issueAcmeCertificates(store, [await checkAcmeRequest(params)]);
  if (result instanceof AcmeProblem) throw result;
  return result!;
}

/**
 * Issues the certificates of several finalized orders in ONE commit (group commit): under one
 * lock, with the issuer loaded once, each certificate with its own files and record. The message
 * of a commit of one certificate is the same as ever; for several it follows apply's form: a
 * summary with the count, one line per certificate, and a Certified-Changes trailer. When the
 * commit fails, nothing is written and every request fails with the same error; a CSR that cannot
 * be signed is refused alone (an AcmeProblem in its place), the others are committed.
 */
export async function issueAcmeCertificates(store: CaStore, requests: CheckedAcmeRequest[], signerNow?: () => Promise<AcmeSigner>): Promise<(IssueAcmeResult | AcmeProblem)[]> {
  if (requests.length === 0) return [];
  return store.locked(async () => {
    // The CA as it is now, under the lock: `signerNow` may know it unchanged since it last looked.
    const signer = await (signerNow ?? (() => loadAcmeSigner(store, requests[0]!.params.askPassword, requests[0]!.params.issuerKey)))();
    const issuer = signer.issuer;
    const built: { name: string; certificate: CertificateInfo; chainPem: string; fullSubject: ReturnType<typeof withDefaults>; params: IssueAcmeParams; wanted: SubjectAltName[] }[] = [];
    const writes: FileWrite[] = [];
    /** Per request: the index of its certificate in `built`, or why it is refused. */
    const outcomes: (number | AcmeProblem)[] = [];
    for (const request of requests) {
      const { params, wanted } = request;
      let signed = request.presigned?.basis === signer.basis ? request.presigned : undefined;
      try {
        signed ??= await signRequest(request, signer);
      } catch (error) {
        // This request's CSR cannot be signed (the others of the batch still can): refused alone.
        if (!(error instanceof CertifiedError)) throw error;
        outcomes.push(error instanceof AcmeProblem ? error : new AcmeProblem('badCSR', `the CSR cannot be signed: ${error.message}`));
        continue;
      }
      const { certificate, fullSubject } = signed;
      const name = acmeCertificateName(certificate.serial);
      const chainPem = certificate.pem + issuer.chainPem;
      const record: CertificateRecord = { ...toRecord(certificate, name, issuer.name, 'server'), acme: { account: params.account, order: params.order } };
      writes.push({ path: certPath(name), content: certificate.pem, commit: true }, { path: chainPath(name), content: chainPem, commit: true }, recordWrite(record));
      outcomes.push(built.length);
      built.push({ name, certificate, chainPem, fullSubject, params, wanted });
    }
    if (built.length === 0) return outcomes as AcmeProblem[];
    let message: string;
    if (built.length === 1) {
      const { name, certificate, fullSubject, params, wanted } = built[0]!;
      message = commitMessage({
        summary: `Issue ${name} over ACME (server, expires ${isoDate(certificate.notAfter)})`,
        commandLine: params.commandLine,
        details: [
          `Subject: ${formatDn(fullSubject)}`,
          `SANs:    ${wanted.map(formatSan).join(', ')}`,
          `Issuer:  ${issuer.name} (${issuer.certificate.subject.CN ?? ''})`,
          `Serial:  ${certificate.serial}`,
          `Valid:   ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`,
          `SHA-256: ${certificate.fingerprint}`,
          `Account: ${params.account}`,
          `Order:   ${params.order}`,
        ],
        trailers: {
          'Certified-Action': 'acme-issue',
          'Certified-Name': name,
          'Certified-Issuer': issuer.name,
          'Certified-Serial': certificate.serial,
          'Certified-Fingerprint': certificate.fingerprint,
          'Certified-Acme-Account': params.account,
        },
      });
    } else {
      message = commitMessage({
        summary: `Issue ${built.length} ACME certificates (server, issuer ${issuer.name})`,
        commandLine: requests[0]!.params.commandLine,
        details: built.map(
          ({ name, certificate, params, wanted }) =>
            `${name}: ${wanted.map(formatSan).join(', ')}, expires ${isoDate(certificate.notAfter)}, SHA-256 ${certificate.fingerprint}, account ${params.account}, order ${params.order}`,
        ),
        trailers: { 'Certified-Action': 'acme-issue', 'Certified-Issuer': issuer.name, 'Certified-Changes': String(built.length) },
      });
    }
    const { commit } = await store.apply({ message, writes });
    return outcomes.map((outcome) => {
      if (outcome instanceof AcmeProblem) return outcome;
      const { name, certificate, chainPem } = built[outcome]!;
      return { name, serial: certificate.serial, certificate, chainPem, commit };
    });
  });
}

/** The record of an ACME certificate by serial, or undefined (not ours, or not issued over ACME). */
export async function findAcmeRecord(store: CaStore, serial: string): Promise<CertificateRecord | undefined> {
  if (!/^[0-9a-f]{1,40}$/.test(serial)) return undefined;
  const record = await findRecord(store, serial);
  return record?.acme && record.name === acmeCertificateName(record.serial) ? record : undefined;
}

/** The PEM chain of an ACME certificate (leaf then CAs, no root), revoked ones included. */
export async function acmeCertificateChain(store: CaStore, serial: string): Promise<string | undefined> {
  const record = await findAcmeRecord(store, serial);
  if (!record) return undefined;
  const name = record.name;
  const current = await store.readText(chainPath(name));
  if (current !== undefined) return current;
  return store.readText(`${revokedDir(name, record.serial)}/${name}.chain.crt`);
}

/** RFC 5280 reason codes ACME clients send, and the ones this CA records. */
const REASONS: Record<number, RevokeReason> = { 0: 'unspecified', 1: 'keyCompromise', 3: 'affiliationChanged', 4: 'superseded', 5: 'cessationOfOperation' };

export function revocationReason(code: unknown): RevokeReason {
  if (code === undefined) return 'unspecified';
  const reason = typeof code === 'number' ? REASONS[code] : undefined;
  if (!reason) throw new AcmeProblem('badRevocationReason', `reason ${String(code).slice(0, 20)} is not one this CA records (0, 1, 3, 4 or 5)`);
  return reason;
}

/** Revokes an ACME certificate by serial: record, CRL and files in one commit. */
export async function revokeAcmeCertificate(store: CaStore, params: { serial: string; reason: RevokeReason; askPassword: AskPassword; commandLine: string }): Promise<{ commit: string }> {
  try {
    const result = await revokeCertificate(store, { target: { serial: params.serial }, reason: params.reason, askPassword: params.askPassword, commandLine: params.commandLine });
    return { commit: result.commit };
  } catch (error) {
    if (error instanceof AlreadyRevokedError) throw new AcmeProblem('alreadyRevoked', error.message);
    throw error;
  }
}

import type { CertificateInfo } from '../../pki/certificate.js';
import { formatDn } from '../../pki/name.js';
import { keyIdentifier, subjectPublicKeyInfo } from '../../pki/signature.js';
import type { CsrInfo } from '../../pki/csr.js';
import type { CaStore } from '../../store/ca-store.js';
import type { CertificateRecord } from '../../store/records.js';
import { RECORDS_DIR, certPath, crlPath, keyPath, retiredCrlPath } from '../../store/layout.js';
import { lastRevocation } from '../find-record.js';
import { loadCertificate, loadChainPem, loadConfig } from '../ca-files.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { SUB_CA_PATH_LENGTH } from '../profiles.js';
import { InvalidInputError, NameTakenError } from '../errors.js';
import { loadIssuer } from '../load-issuer.js';
import type { AskPassword } from '../passwords.js';
import { deriveName, validateDn, validateName } from '../names.js';
import type { DistinguishedName } from '../../pki/types.js';
import { assertNewName } from '../names-in-use.js';
import { readCsr } from '../issuing/sign-csr.js';
import { loadRecords } from '../revocation/generate-crl.js';
import { describeKey } from '../../pki/keys.js';
import { externalConstraints, issuerConstraints, type NameConstraintSet } from './name-constraints.js';
import { prepareSubCa } from './create-sub-ca.js';
import { assertMaySign } from '../certificate-builder.js';
import { resolveIssuer } from './issuers.js';

export interface CreateExternalCaParams {
  /** The CSR file's bytes (PEM or DER), as read by the caller. */
  input: Uint8Array;
  /** How to name the file in messages. */
  source: string;
  /** The signing CA, by file name or CN: the root, the intermediate or a CA whose pathlen allows. */
  issuer: string;
  /** Default: the CSR's CN, lower-case, spaces as dashes. */
  name?: string;
  days: number;
  /** Default SUB_CA_PATH_LENGTH: the engine issues leaves only. */
  pathLength?: number;
  /** Narrower than the issuer chain's, or none to inherit them. */
  permitted?: NameConstraintSet;
  askPassword: AskPassword;
  commandLine: string;
  now?: Date;
}

export interface CreateExternalCaResult {
  issuer: string;
  name: string;
  certificate: CertificateInfo;
  chainPem: string;
  files: { certificate: string; chain: string };
  nameConstraints?: NameConstraintSet;
  keyName: string;
  warnings: string[];
  /** What records/ keeps of it (marked external). */
  record: CertificateRecord;
  commit: string;
}

/**
 * Signs the CSR of a CA whose key another engine holds (Vault/OpenBao, step-ca, cert-manager, AWS
 * Private CA, Caddy): the profile is ours, never the CSR's (CA:TRUE with our path length, keyCertSign
 * and cRLSign, our CRL and OCSP URLs, the chain's name constraints narrowed by `permitted`). Written
 * like a sub-CA (certificate, chain, record marked external) but without a key or a CRL, in one commit.
 */
export async function createExternalCa(store: CaStore, params: CreateExternalCaParams): Promise<CreateExternalCaResult> {
  const csr = await readCsr(params.input, params.source);
  const { subject } = csrSubject(csr);
  const name = params.name !== undefined ? validateName(params.name) : deriveName(subject.CN ?? '');
  const issuerName = await resolveIssuer(store, params.issuer);
  const pathLength = params.pathLength ?? SUB_CA_PATH_LENGTH;
  return store.locked(async () => {
    const config = await loadConfig(store);
    await assertNewName(store, name, [certPath(name), keyPath(name)]);
    // A revoked CA of this name left its last CRL, which "certified crl" would take for the new CA's:
    // it stays published under a name of its own, as a replaced intermediate's does.
    const retired = (await store.exists(crlPath(name))) ? await lastRevocation(store, name) : undefined;
    if ((await store.exists(crlPath(name))) && !retired) throw new NameTakenError(name, crlPath(name));
    const moves = retired ? [{ from: crlPath(name), to: retiredCrlPath(name, retired.serial), commit: true }] : [];
    await assertKeyOfNoCa(store, csr);
    // What the issuer may give, before its key is opened (and a password asked).
    const issuerCertificate = await loadCertificate(store, issuerName);
    if (issuerCertificate) assertMaySign({ name: issuerName, certificate: issuerCertificate }, 'sub-ca', pathLength);
    // Refused here, before the issuer's key is opened; the builder narrows the same way.
    const nameConstraints = externalConstraints(issuerConstraints(await loadChainPem(store, issuerName), config.nameConstraints), params.permitted);
    const issuer = await loadIssuer(store, issuerName, params.askPassword, 'sub-ca');
    const now = params.now ?? new Date();
    const prepared = await prepareSubCa(store, config, issuer, {
      name,
      subject,
      key: csr.key,
      days: params.days,
      now,
      external: { publicKey: csr.publicKey, pathLength, ...(nameConstraints ? { nameConstraints } : {}) },
    });
    const { certificate } = prepared;
    const keyName = describeKey(csr.key);
    const message = commitMessage({
      summary: `Create external CA ${name} under ${issuerName} (${keyName}, pathlen ${pathLength}, expires ${isoDate(certificate.notAfter)})`,
      commandLine: params.commandLine,
      details: [
        `Subject: ${formatDn(certificate.subject)}`,
        `Issuer:  ${issuerName} (${issuer.certificate.subject.CN ?? ''})`,
        `Serial:  ${certificate.serial}`,
        `Valid:   ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`,
        `SHA-256: ${certificate.fingerprint}`,
        `Permits: ${nameConstraints ? describeConstraints(nameConstraints) : 'any name'}`,
        'The key is in another engine: certified has no key file for it and publishes no CRL of its.',
      ],
      trailers: {
        'Certified-Action': 'create-external-ca',
        'Certified-Name': name,
        'Certified-Issuer': issuerName,
        'Certified-Serial': certificate.serial,
        'Certified-Fingerprint': certificate.fingerprint,
      },
    });
    const { commit } = await store.apply({ message, writes: prepared.writes, moves });
    return {
      issuer: issuerName,
      name,
      certificate,
      chainPem: prepared.chainPem,
      files: { certificate: prepared.files.certificate, chain: prepared.files.chain },
      ...(nameConstraints ? { nameConstraints } : {}),
      keyName,
      warnings: prepared.warnings,
      record: prepared.record,
      commit,
    };
  });
}

/** The subject, checked like any CA's (a CN is required). Its SANs are not read: a CA certificate gets none. */
function csrSubject(csr: CsrInfo): { subject: DistinguishedName } {
  try {
    return { subject: validateDn(csr.subject, { requireCn: true }) };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidInputError(['the CSR is refused: ', ...error.messageParts], error.hintParts ?? 'Ask the engine for a new CSR with a CN.');
  }
}

/**
 * Refuses a CSR over the key of a CA of this CA (the root, the intermediate, a sub-CA, another
 * external CA, revoked ones included): two CAs sharing a key cannot be told apart or revoked apart.
 * CA certificates are signed only by CAs that may sign CAs, so only their records are read.
 */
async function assertKeyOfNoCa(store: CaStore, csr: CsrInfo): Promise<void> {
  const wanted = keyIdentifier(subjectPublicKeyInfo(csr.publicKey));
  for (const issuer of await store.list(RECORDS_DIR)) {
    const certificate = await loadCertificate(store, issuer);
    if (certificate && certificate.pathLength === 0) continue;
    const holder = (await loadRecords(store, issuer)).find((record) => (record.profile === 'root' || record.profile === 'ca') && record.subjectKeyId === wanted);
    if (holder) {
      throw new InvalidInputError(
        `the CSR's key is the key of the CA "${holder.name}"${holder.status === 'revoked' ? ' (revoked)' : ''} in this CA`,
        'Nothing was written. Have the engine make a key of its own and a new CSR for it.',
      );
    }
  }
}

function describeConstraints(set: NameConstraintSet): string {
  return [...set.dns, ...set.ip, ...set.email.map((email) => `email:${email}`)].join(', ');
}

import type { CertificateInfo } from '../../pki/certificate.js';
import { describeKey, generateKeyPair, type KeyPair, type KeySpec, type SigningKey } from '../../pki/keys.js';
import type { TokenKey } from '../../pki/pkcs11.js';
import type { Pkcs11Uri } from '../../pki/pkcs11-uri.js';
import { formatDn } from '../../pki/name.js';
import type { DistinguishedName } from '../../pki/types.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import type { CertificateRecord } from '../../store/records.js';
import { RECORDS_DIR, ROOT_NAME, certPath, chainPath, crlPath, keyPath } from '../../store/layout.js';
import { loadCertificate, loadConfig } from '../ca-files.js';
import { lastRevocation } from '../find-record.js';
import type { AskPassword } from '../passwords.js';
import { loadIssuer, type Issuer } from '../load-issuer.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { crlDaysFor, withDefaults, type CaConfig, type TokenKeyRecord } from '../config.js';
import { assertMaySign, buildCertificate, type CaRequest } from '../certificate-builder.js';
import type { NameConstraintSet } from './name-constraints.js';
import { assertNewName } from '../names-in-use.js';
import { InvalidInputError } from '../errors.js';
import { buildCrl, loadRecords, publishedCrl, type PublishedCrl } from '../revocation/generate-crl.js';
import { assertKeyNotInUse, assertOwnTokenKey, configWrite, describeTokenKeyWithFingerprint, makeTokenCaKey, tokenKeyHolders, tokenKeyPair } from '../token-keys.js';
import { keyWrite } from './init-ca.js';
import { resolveIssuer } from './issuers.js';

export interface CreateSubCaParams {
  name: string;
  subject: DistinguishedName;
  /** The signing CA, by file name or CN. */
  issuer: string;
  key: KeySpec;
  days: number;
  /** Asked for the signing CA's key only when it is encrypted. */
  askPassword: AskPassword;
  /** Encrypts the new CA's key (and then commits it). */
  password?: string;
  /** The new CA's key on a PKCS#11 token instead of a file: made there when the token has none of that name. */
  keyUri?: Pkcs11Uri;
  commandLine: string;
  now?: Date;
}

export interface CreateSubCaResult {
  /** The signing CA's file name. */
  issuer: string;
  certificate: CertificateInfo;
  chainPem: string;
  files: { certificate: string; chain: string; key: string; crl: string };
  keyEncrypted: boolean;
  /** The URI of the key when a token holds it (then there is no key file). */
  keyOnToken?: string;
  warnings: string[];
  /** What records/ keeps of it. */
  record: CertificateRecord;
  /** Its first CRL, empty. */
  crls: PublishedCrl[];
  commit: string;
}

/** A subordinate CA (pathlen 0) signed by `issuer`, with its own empty CRL, in one commit. */
export async function createSubCa(store: CaStore, params: CreateSubCaParams): Promise<CreateSubCaResult> {
  params = { ...params, issuer: await resolveIssuer(store, params.issuer) };
  return store.locked(async () => {
    const config = await loadConfig(store);
    await assertNewName(store, params.name, [certPath(params.name), keyPath(params.name)]);
    // A CA of this name may have been revoked: its key is not for the new one either.
    if (params.keyUri) assertOwnTokenKey(config, params.keyUri, { option: 'key' }, params.name, params.name);
    const issuer = await loadIssuer(store, params.issuer, params.askPassword, 'sub-ca');
    const token = params.keyUri ? await makeTokenCaKey(params.name, params.keyUri, params.key, params.askPassword, { dryRun: store.dryRun }) : undefined;
    if (token) {
      const root = issuer.name === ROOT_NAME ? undefined : await loadCertificate(store, ROOT_NAME);
      const holders = [{ name: issuer.name, certificate: issuer.certificate.der }, ...(root ? [{ name: ROOT_NAME, certificate: root.der }] : []), ...(await tokenKeyHolders(store, config, params.name))];
      assertKeyNotInUse(token.key, params.keyUri!, { option: 'key' }, params.name, holders, (await lastRevocation(store, params.name))?.subjectKeyId);
    }
    const now = params.now ?? new Date();
    const prepared = await prepareSubCa(store, config, issuer, { ...params, now, ...(token ? { token } : {}) });
    const { certificate, subject } = prepared;
    const keyName = describeKey(token ? token.key.spec : params.key);
    const message = commitMessage({
      summary: `Create sub-CA ${params.name} under ${params.issuer} (${keyName}, expires ${isoDate(certificate.notAfter)})`,
      commandLine: params.commandLine,
      details: [
        `Subject: ${formatDn(subject)}`,
        `Issuer:  ${params.issuer} (${issuer.certificate.subject.CN ?? ''})`,
        `Serial:  ${certificate.serial}`,
        `Valid:   ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`,
        `SHA-256: ${certificate.fingerprint}`,
        token
          ? `The key is an ${describeTokenKeyWithFingerprint(token)}.`
          : `The key is ${params.password === undefined ? 'not encrypted and not committed' : 'encrypted and committed'}.`,
      ],
      trailers: {
        'Certified-Action': 'create-ca',
        'Certified-Name': params.name,
        'Certified-Issuer': params.issuer,
        'Certified-Serial': certificate.serial,
        'Certified-Fingerprint': certificate.fingerprint,
      },
    });
    const { commit } = await store.apply({ message, writes: prepared.writes });
    const { chainPem, files, warnings, record } = prepared;
    const crls = prepared.crl ? [publishedCrl(prepared.crl)] : [];
    return { issuer: params.issuer, certificate, chainPem, files, keyEncrypted: params.password !== undefined, ...(token ? { keyOnToken: token.record.uri } : {}), warnings, record, crls, commit };
  });
}

export interface PrepareSubCaParams {
  name: string;
  /** Attributes given; the rest (not the CN) from the CA's saved DN. */
  subject: DistinguishedName;
  key: KeySpec;
  days: number;
  /** Encrypts the new CA's key (and then commits it). */
  password?: string;
  now: Date;
  /** The same change moves the name's current files away (apply reissuing a sub-CA). */
  replacing?: boolean;
  /** The new CA's key, on a PKCS#11 token: no key file, and certified.json records it. */
  token?: { key: SigningKey & { token: TokenKey }; record: TokenKeyRecord };
  /**
   * A CA whose key is in another engine (from its CSR): no key file and no CRL (the engine signs its
   * own), a path length and name constraints of its own, and a record marked external.
   */
  external?: { publicKey: CaRequest['publicKey']; pathLength: number; nameConstraints?: NameConstraintSet };
}

export interface PreparedSubCa {
  certificate: CertificateInfo;
  subject: DistinguishedName;
  chainPem: string;
  files: CreateSubCaResult['files'];
  writes: FileWrite[];
  record: CertificateRecord;
  /** The new sub-CA, ready to sign (the leaves of the same apply); none for an external CA. */
  self?: Issuer;
  /** Its first CRL (among the writes); none for an external CA. */
  crl?: PublishedCrl;
  warnings: string[];
}

/**
 * Everything a new sub-CA writes (certificate, chain, key, record, empty CRL), without writing: for
 * createSubCa and for apply, which holds the lock and commits many changes at once.
 */
export async function prepareSubCa(store: CaStore, config: CaConfig, issuer: Issuer, params: PrepareSubCaParams): Promise<PreparedSubCa> {
  if (!params.replacing) await assertNewName(store, params.name, [certPath(params.name), keyPath(params.name)]);
  const { external } = params;
  assertMaySign(issuer, 'sub-ca', external?.pathLength);
  // An engine's CSR names its CA as the engine wants it; a CA made here takes the CA's defaults.
  const subject = external ? params.subject : withDefaults(params.subject, config.subject);
  if (!params.replacing) await assertSubjectOfNoCa(store, subject);
  const keys = external ? undefined : params.token ? tokenKeyPair(params.token.key) : await generateKeyPair(params.key);
  const { certificate, warnings } = await buildCertificate({
    kind: 'sub-ca',
    subject,
    publicKey: external ? external.publicKey : keys!.publicKey,
    issuer,
    policy: config,
    days: params.days,
    now: params.now,
    ...(external ? { pathLength: external.pathLength, excludeUnlisted: true, ...(external.nameConstraints ? { nameConstraints: external.nameConstraints } : {}) } : {}),
  });
  const chainPem = certificate.pem + issuer.chainPem;
  const record: CertificateRecord = { ...toRecord(certificate, params.name, issuer.name, 'ca'), ...(external ? { external: true } : {}) };
  const files = { certificate: certPath(params.name), chain: chainPath(params.name), key: keyPath(params.name), crl: crlPath(params.name) };
  const certificateWrites: FileWrite[] = [
    { path: files.certificate, content: certificate.pem, commit: true },
    { path: files.chain, content: chainPem, commit: true },
  ];
  if (!keys) return { certificate, subject, chainPem, files, writes: [...certificateWrites, recordWrite(record)], record, warnings };
  const self: Issuer = { name: params.name, certificate, chainPem, key: keys };
  const crl = await buildCrl(store, self, { now: params.now, days: crlDaysFor(config, self.name) });
  const writes: FileWrite[] = [
    ...certificateWrites,
    ...(params.token ? [configWrite(config, params.name, params.token.record)] : [await keyWrite(params.name, keys as KeyPair, params.password, true)]),
    // A CA of this name whose key was on a token is gone: its key file now says where the key is.
    ...(!params.token && config.tokenKeys?.[params.name] ? [configWrite(config, params.name, undefined)] : []),
    recordWrite(record),
    crl,
  ];
  return { certificate, subject, chainPem, files, writes, record, self, crl: publishedCrl(crl), warnings };
}

/**
 * Refuses a new CA whose subject is another valid CA's (the issuer's, the root's): its certificates
 * would look self-issued or issued by that CA to every verifier that goes by names. A revoked CA's
 * successor may take its name, as a new intermediate takes the revoked one's.
 */
export async function assertSubjectOfNoCa(store: CaStore, subject: DistinguishedName): Promise<void> {
  const wanted = formatDn(subject);
  for (const issuer of await store.list(RECORDS_DIR)) {
    const holder = (await loadRecords(store, issuer)).find((record) => (record.profile === 'root' || record.profile === 'ca') && record.status === 'valid' && formatDn(record.subject) === wanted);
    if (holder) {
      throw new InvalidInputError(
        `the subject "${wanted}" is the subject of the CA "${holder.name}"`,
        'Nothing was written. Give the new CA a name of its own (another CN).',
      );
    }
  }
}


import type { CertificateInfo } from '../../pki/certificate.js';
import { describeKey, exportPrivateKey, generateKeyPair, type KeyPair, type KeySpec } from '../../pki/keys.js';
import type { Pkcs11Uri } from '../../pki/pkcs11-uri.js';
import type { DistinguishedName } from '../../pki/types.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import type { CertificateRecord } from '../../store/records.js';
import {
  CONFIG_FILE,
  GITATTRIBUTES_CONTENT,
  GITATTRIBUTES_FILE,
  GITIGNORE_CONTENT,
  GITIGNORE_FILE,
  INTERMEDIATE_NAME,
  REVOKED_INDEX_COMPLETE,
  REVOKED_INDEX_COMPLETE_CONTENT,
  ROOT_NAME,
  certPath,
  chainPath,
  keyPath,
} from '../../store/layout.js';
import type { Issuer } from '../load-issuer.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { crlDaysFor, serializeConfig, type CaConfig } from '../config.js';
import { CaExistsError, InvalidInputError } from '../errors.js';
import { noPassword, type AskPassword } from '../passwords.js';
import { describeTokenKeyWithFingerprint, makeTokenCaKey, tokenKeyPair } from '../token-keys.js';
import { buildCrl, publishedCrl, type PublishedCrl } from '../revocation/generate-crl.js';
import { formatDn } from '../../pki/name.js';
import type { NameConstraintSet } from '../../pki/extensions.js';
import { buildCertificate } from '../certificate-builder.js';
import { refuseCaInsideCa } from './choose-init.js';
import { DEFAULT_CRL_DAYS, DEFAULT_ROOT_CRL_DAYS } from '../profiles.js';

export interface InitCaParams {
  subject: DistinguishedName;
  key: KeySpec;
  days: number;
  crlUrl?: string;
  rootCrlUrl?: string;
  ocspUrl?: string;
  /** Permitted subtrees for a critical nameConstraints extension on the intermediate. */
  nameConstraints?: NameConstraintSet;
  /** Required unless the root's key is on a token. */
  rootPassword?: string;
  intermediatePassword?: string;
  /** Keys on PKCS#11 tokens instead of files: made there when the token has none of that name. */
  rootKeyUri?: Pkcs11Uri;
  intermediateKeyUri?: Pkcs11Uri;
  /** Asked for the token's PIN when a key is on a token. */
  askPassword?: AskPassword;
  /** The root CRL's lifetime, saved as rootCrlDays. */
  rootCrlDays?: number;
  commandLine: string;
  now?: Date;
}

export interface InitCaResult {
  root: CertificateInfo;
  intermediate: CertificateInfo;
  rootKeyPath: string;
  intermediateKeyEncrypted: boolean;
  /** The URIs of keys on tokens. */
  rootKeyOnToken?: string;
  intermediateKeyOnToken?: string;
  /** What records/ keeps of the root and the intermediate, in that order. */
  records: CertificateRecord[];
  /** The root's CRL and the intermediate's. */
  crls: PublishedCrl[];
  commit: string;
}

/** The intermediate's name differs from the root's so that the two can never be confused. */
export function intermediateSubject(root: DistinguishedName): DistinguishedName {
  return { ...root, CN: `${root.CN ?? ''} Intermediate`.trim() };
}

export async function initCa(store: CaStore, params: InitCaParams): Promise<InitCaResult> {
  return store.locked(async () => {
    if ((await store.exists(certPath(ROOT_NAME))) || (await store.exists(certPath(INTERMEDIATE_NAME)))) {
      throw new CaExistsError(store.dir);
    }
    refuseCaInsideCa(store);
    const now = params.now ?? new Date();
    const ask = params.askPassword ?? noPassword;
    // Token keys first: a wrong PIN, a missing module or a key that cannot be used stops here, and
    // both are looked at before either is made, so that a refusal leaves nothing on the token either.
    if (params.rootKeyUri && params.intermediateKeyUri && !store.dryRun) {
      await makeTokenCaKey(ROOT_NAME, params.rootKeyUri, params.key, ask, { dryRun: true });
      await makeTokenCaKey(INTERMEDIATE_NAME, params.intermediateKeyUri, params.key, ask, { dryRun: true });
    }
    const rootToken = params.rootKeyUri ? await makeTokenCaKey(ROOT_NAME, params.rootKeyUri, params.key, ask, { dryRun: store.dryRun }) : undefined;
    const intermediateToken = params.intermediateKeyUri ? await makeTokenCaKey(INTERMEDIATE_NAME, params.intermediateKeyUri, params.key, ask, { dryRun: store.dryRun }) : undefined;
    // However the two URIs spell it: the same public key is the same key.
    if (rootToken && intermediateToken && rootToken.key.token.publicKey.equals(intermediateToken.key.token.publicKey)) {
      throw new InvalidInputError([{ option: 'rootKey' }, ' and ', { option: 'intermediateKey' }, ' name the same key on the token'], 'Give each CA a key of its own (object=root-ca, object=intermediate).');
    }
    if (!rootToken && params.rootPassword === undefined) throw new Error('a root key file needs a password');
    const [rootKeys, intermediateKeys] = await Promise.all([
      rootToken ? tokenKeyPair(rootToken.key) : generateKeyPair(params.key),
      intermediateToken ? tokenKeyPair(intermediateToken.key) : generateKeyPair(params.key),
    ]);
    // Encrypting a key (PBKDF2, 600,000 rounds) takes ~170 ms on libuv's threads: start now, sign meanwhile.
    const keyWrites = Promise.all([
      ...(rootToken ? [] : [keyWrite(ROOT_NAME, rootKeys as KeyPair, params.rootPassword, false)]),
      ...(intermediateToken ? [] : [keyWrite(INTERMEDIATE_NAME, intermediateKeys as KeyPair, params.intermediatePassword, true)]),
    ]);
    keyWrites.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
    const tokenKeys = {
      ...(rootToken ? { [ROOT_NAME]: rootToken.record } : {}),
      ...(intermediateToken ? { [INTERMEDIATE_NAME]: intermediateToken.record } : {}),
    };

    const config: CaConfig = {
      version: 1,
      subject: params.subject,
      ...(params.crlUrl ? { crlUrl: params.crlUrl } : {}),
      ...(params.rootCrlUrl ? { rootCrlUrl: params.rootCrlUrl } : {}),
      ...(params.ocspUrl ? { ocspUrl: params.ocspUrl } : {}),
      ...(params.nameConstraints ? { nameConstraints: params.nameConstraints } : {}),
      crlDays: DEFAULT_CRL_DAYS,
      rootCrlDays: params.rootCrlDays ?? DEFAULT_ROOT_CRL_DAYS,
      ...(Object.keys(tokenKeys).length ? { tokenKeys } : {}),
    };
    const { certificate: root } = await buildCertificate({ kind: 'root', subject: params.subject, publicKey: rootKeys.publicKey, signingKey: rootKeys, days: params.days, now });
    const rootIssuer: Issuer = { name: ROOT_NAME, certificate: root, chainPem: '', key: rootKeys };
    const { certificate: intermediate } = await buildCertificate({
      kind: 'intermediate',
      subject: intermediateSubject(params.subject),
      publicKey: intermediateKeys.publicKey,
      issuer: rootIssuer,
      policy: config,
      days: params.days,
      now,
    });
    const notAfter = root.notAfter;

    const rootRecord = toRecord(root, ROOT_NAME, ROOT_NAME, 'root');
    const intermediateRecord = toRecord(intermediate, INTERMEDIATE_NAME, ROOT_NAME, 'ca');
    const intermediateIssuer: Issuer = { name: INTERMEDIATE_NAME, certificate: intermediate, chainPem: intermediate.pem, key: intermediateKeys };
    const crls = [
      await buildCrl(store, rootIssuer, { now, days: crlDaysFor(config, ROOT_NAME), records: [rootRecord, intermediateRecord] }),
      await buildCrl(store, intermediateIssuer, { now, days: crlDaysFor(config, INTERMEDIATE_NAME), records: [] }),
    ];
    const writes: FileWrite[] = [
      { path: GITIGNORE_FILE, content: GITIGNORE_CONTENT, commit: true },
      { path: GITATTRIBUTES_FILE, content: GITATTRIBUTES_CONTENT, commit: true },
      { path: CONFIG_FILE, content: serializeConfig(config), commit: true },
      { path: certPath(ROOT_NAME), content: root.pem, commit: true },
      { path: certPath(INTERMEDIATE_NAME), content: intermediate.pem, commit: true },
      { path: chainPath(INTERMEDIATE_NAME), content: intermediate.pem, commit: true },
      ...(await keyWrites),
      recordWrite(rootRecord),
      recordWrite(intermediateRecord),
      ...crls,
      // A new CA keeps the index of revoked certificates from the start (see loadCrlRecords).
      { path: REVOKED_INDEX_COMPLETE, content: REVOKED_INDEX_COMPLETE_CONTENT, commit: true },
    ];
    const [rootKeyName, intermediateKeyName] = [describeKey(rootKeys.spec), describeKey(intermediateKeys.spec)];
    const keyName = rootKeyName === intermediateKeyName ? rootKeyName : `${rootKeyName} and ${intermediateKeyName}`;
    const keyLines = [
      rootToken ? `The root key is an ${describeTokenKeyWithFingerprint(rootToken)}.` : 'The root key is encrypted and not committed.',
      intermediateToken
        ? `The intermediate key is an ${describeTokenKeyWithFingerprint(intermediateToken)}.`
        : `The intermediate key is ${params.intermediatePassword === undefined ? 'not encrypted and not committed' : 'encrypted and committed'}.`,
    ];
    const message = commitMessage({
      summary: `Create CA "${params.subject.CN}" (${keyName}, expires ${isoDate(notAfter)})`,
      commandLine: params.commandLine,
      details: [
        `Root:         ${formatDn(root.subject)}`,
        `              serial ${root.serial}, ${rootKeyName}, expires ${isoDate(root.notAfter)}`,
        `              SHA-256 ${root.fingerprint}`,
        `Intermediate: ${formatDn(intermediate.subject)}`,
        `              serial ${intermediate.serial}, ${intermediateKeyName}, expires ${isoDate(intermediate.notAfter)}`,
        `              SHA-256 ${intermediate.fingerprint}`,
        ...(params.nameConstraints ? [`Name constraints (critical, on the intermediate): permitted ${describePermitted(params.nameConstraints)}`] : []),
        ...(rootToken || intermediateToken
          ? keyLines
          : [`The root key is encrypted and not committed; the intermediate key is ${params.intermediatePassword === undefined ? 'not encrypted and not committed' : 'encrypted and committed'}.`]),
      ],
      trailers: {
        'Certified-Action': 'init-ca',
        'Certified-Name': INTERMEDIATE_NAME,
        'Certified-Serial': intermediate.serial,
        'Certified-Fingerprint': intermediate.fingerprint,
        'Certified-Root-Serial': root.serial,
        'Certified-Root-Fingerprint': root.fingerprint,
      },
    });
    const { commit } = await store.apply({ message, writes });
    return {
      root,
      intermediate,
      rootKeyPath: keyPath(ROOT_NAME),
      intermediateKeyEncrypted: params.intermediatePassword !== undefined,
      ...(rootToken ? { rootKeyOnToken: rootToken.record.uri } : {}),
      ...(intermediateToken ? { intermediateKeyOnToken: intermediateToken.record.uri } : {}),
      records: [rootRecord, intermediateRecord],
      crls: crls.map(publishedCrl),
      commit,
    };
  });
}

/** A key file: committed only when encrypted, and the root key never. */
export async function keyWrite(name: string, keys: KeyPair, password: string | undefined, commitWhenEncrypted: boolean): Promise<FileWrite> {
  return {
    path: keyPath(name),
    content: await exportPrivateKey(keys.privateKey, password),
    private: true,
    commit: commitWhenEncrypted && password !== undefined,
  };
}

export function describePermitted(set: NameConstraintSet): string {
  return [...set.dns.map((d) => `DNS:${d}`), ...set.ip.map((i) => `IP:${i}`), ...set.email.map((e) => `email:${e}`)].join(', ');
}

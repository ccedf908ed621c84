import type { CertificateInfo } from '../../pki/certificate.js';
import { describeKey, generateKeyPair, type KeyPair, type KeySpec } from '../../pki/keys.js';
import type { Pkcs11Uri } from '../../pki/pkcs11-uri.js';
import { formatDn } from '../../pki/name.js';
import type { DistinguishedName } from '../../pki/types.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import type { CertificateRecord } from '../../store/records.js';
import { INTERMEDIATE_NAME, ROOT_NAME, certPath, chainPath, crlPath, retiredCrlPath } from '../../store/layout.js';
import { lastRevocation } from '../find-record.js';
import { loadConfig } from '../ca-files.js';
import type { AskPassword } from '../passwords.js';
import { loadIssuer, type Issuer } from '../load-issuer.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { crlDaysFor, withDefaults } from '../config.js';
import { CaExistsError } from '../errors.js';
import { buildCrl, publishedCrl, type PublishedCrl } from '../revocation/generate-crl.js';
import { assertKeyNotInUse, assertOwnTokenKey, configWrite, describeTokenKeyWithFingerprint, makeTokenCaKey, tokenKeyHolders, tokenKeyPair } from '../token-keys.js';
import { intermediateSubject, keyWrite } from './init-ca.js';
import { buildCertificate } from '../certificate-builder.js';

export interface ReplaceIntermediateParams {
  /** Attributes for the new intermediate; the rest from the saved DN (CN: "<root CN> Intermediate"). */
  subject: DistinguishedName;
  /** Default: the root's key type. */
  key?: KeySpec;
  days: number;
  /** Asked for the root key only when it is encrypted. */
  askPassword: AskPassword;
  intermediatePassword?: string;
  /** The new intermediate's key on a PKCS#11 token instead of a file: made there when the token has none of that name. */
  intermediateKeyUri?: Pkcs11Uri;
  commandLine: string;
  now?: Date;
}

export interface ReplaceIntermediateResult {
  intermediate: CertificateInfo;
  warnings: string[];
  keyEncrypted: boolean;
  /** The URI of the key when a token holds it (then there is no key file). */
  keyOnToken?: string;
  /** What records/ keeps of the new intermediate. */
  record: CertificateRecord;
  /** Its first CRL, empty. */
  crls: PublishedCrl[];
  commit: string;
}

/**
 * A new intermediate under the existing root, after the old one was revoked: the saved defaults
 * (DN, CRL and OCSP URLs) stay. Refused while an intermediate exists.
 */
export async function replaceIntermediate(store: CaStore, params: ReplaceIntermediateParams): Promise<ReplaceIntermediateResult> {
  return store.locked(async () => {
    const config = await loadConfig(store);
    if (await store.exists(certPath(INTERMEDIATE_NAME))) throw new CaExistsError(store.dir);
    if (params.intermediateKeyUri) assertOwnTokenKey(config, params.intermediateKeyUri, { option: 'intermediateKey' }, INTERMEDIATE_NAME, INTERMEDIATE_NAME);
    const root = await loadIssuer(store, ROOT_NAME, params.askPassword);
    const now = params.now ?? new Date();
    const token = params.intermediateKeyUri ? await makeTokenCaKey(INTERMEDIATE_NAME, params.intermediateKeyUri, params.key ?? root.certificate.key, params.askPassword, { dryRun: store.dryRun }) : undefined;
    const retired = await lastRevocation(store, INTERMEDIATE_NAME);
    if (token) assertKeyNotInUse(token.key, params.intermediateKeyUri!, { option: 'intermediateKey' }, INTERMEDIATE_NAME, [{ name: ROOT_NAME, certificate: root.certificate.der }, ...(await tokenKeyHolders(store, config, INTERMEDIATE_NAME))], retired?.subjectKeyId);
    const spec = token ? token.key.spec : (params.key ?? root.certificate.key);
    const keys = token ? tokenKeyPair(token.key) : await generateKeyPair(spec);
    const subject = withDefaults({ ...intermediateSubject(config.subject), ...params.subject }, config.subject);
    const { certificate: intermediate, warnings } = await buildCertificate({
      kind: 'intermediate',
      subject,
      publicKey: keys.publicKey,
      issuer: root,
      policy: config,
      days: params.days,
      now,
    });
    const notAfter = intermediate.notAfter;
    const record = toRecord(intermediate, INTERMEDIATE_NAME, ROOT_NAME, 'ca');
    // The root's chain is the cross-certificate while a root rotation bridges the two roots.
    const issuer: Issuer = { name: INTERMEDIATE_NAME, certificate: intermediate, chainPem: intermediate.pem + root.chainPem, key: keys };
    const crl = await buildCrl(store, issuer, { now, days: crlDaysFor(config, issuer.name) });
    const writes: FileWrite[] = [
      { path: certPath(INTERMEDIATE_NAME), content: intermediate.pem, commit: true },
      { path: chainPath(INTERMEDIATE_NAME), content: issuer.chainPem, commit: true },
      ...(token ? [] : [await keyWrite(INTERMEDIATE_NAME, keys as KeyPair, params.intermediatePassword, true)]),
      // certified.json records the new key on the token, or no longer the revoked one's.
      ...(token || config.tokenKeys?.[INTERMEDIATE_NAME] ? [configWrite(config, INTERMEDIATE_NAME, token?.record)] : []),
      recordWrite(record),
      crl,
    ];
    const keyName = describeKey(spec);
    const message = commitMessage({
      summary: `Replace the intermediate with "${subject.CN}" (${keyName}, expires ${isoDate(notAfter)})`,
      commandLine: params.commandLine,
      details: [
        `Subject: ${formatDn(subject)}`,
        `Issuer:  ${ROOT_NAME} (${root.certificate.subject.CN ?? ''})`,
        `Serial:  ${intermediate.serial}`,
        `Valid:   ${intermediate.notBefore.toISOString()} to ${intermediate.notAfter.toISOString()}`,
        `SHA-256: ${intermediate.fingerprint}`,
        token
          ? `The key is an ${describeTokenKeyWithFingerprint(token)}.`
          : `The key is ${params.intermediatePassword === undefined ? 'not encrypted and not committed' : 'encrypted and committed'}.`,
      ],
      trailers: {
        'Certified-Action': 'init-intermediate',
        'Certified-Name': INTERMEDIATE_NAME,
        'Certified-Issuer': ROOT_NAME,
        'Certified-Serial': intermediate.serial,
        'Certified-Fingerprint': intermediate.fingerprint,
      },
    });
    // The old intermediate's last CRL stays published (its revocations still matter to whoever
    // checks a certificate it issued), under a name of its own: the new one takes crl/ca.crl.
    const keepOldCrl = retired && (await store.exists(crlPath(INTERMEDIATE_NAME)));
    const moves = keepOldCrl ? [{ from: crlPath(INTERMEDIATE_NAME), to: retiredCrlPath(INTERMEDIATE_NAME, retired.serial), commit: true }] : [];
    const { commit } = await store.apply({ message, writes, moves });
    return { intermediate, warnings, keyEncrypted: params.intermediatePassword !== undefined, ...(token ? { keyOnToken: token.record.uri } : {}), record, crls: [publishedCrl(crl)], commit };
  });
}

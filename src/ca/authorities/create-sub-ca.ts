import { createCertificate, type CertificateInfo } from '../../pki/certificate.js';
import { nameConstraintsExtension } from '../../pki/extensions.js';
import { describeKey, generateKeyPair, type KeySpec } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import { randomSerial } from '../../pki/serial.js';
import type { DistinguishedName } from '../../pki/types.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import { INTERMEDIATE_NAME, ROOT_NAME, certPath, chainPath, crlPath, keyPath } from '../../store/layout.js';
import { loadConfig } from '../ca-files.js';
import type { AskPassword } from '../passwords.js';
import { loadIssuer, type Issuer } from '../load-issuer.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { withDefaults } from '../config.js';
import { CertifiedError, NameTakenError } from '../errors.js';
import { buildCrl } from '../revocation/generate-crl.js';
import { keyWrite } from './init-ca.js';
import { crlUrlFor, resolveIssuer } from './issuers.js';
import { BACKDATE_MS, CA_KEY_USAGE, SUB_CA_PATH_LENGTH } from '../profiles.js';

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
  warnings: string[];
  commit: string;
}

/** A subordinate CA (pathlen 0) signed by `issuer`, with its own empty CRL, in one commit. */
export async function createSubCa(store: CaStore, params: CreateSubCaParams): Promise<CreateSubCaResult> {
  params = { ...params, issuer: await resolveIssuer(store, params.issuer) };
  return store.locked(async () => {
    const config = await loadConfig(store);
    if (params.name === ROOT_NAME || params.name === INTERMEDIATE_NAME) {
      throw new CertifiedError(`"${params.name}" is reserved for the root and the intermediate`, { code: 'RESERVED_NAME', hint: ['Choose another CN or ', { option: 'name' }, '.'] });
    }
    for (const path of [certPath(params.name), keyPath(params.name)]) {
      if (await store.exists(path)) throw new NameTakenError(params.name, path);
    }
    const issuer = await loadIssuer(store, params.issuer, params.askPassword);
    if (issuer.certificate.pathLength === 0) {
      throw new CertifiedError(`the CA "${params.issuer}" may not sign CAs (pathlen 0)`, {
        code: 'PATH_LENGTH',
        hint: ['Sign the new CA with the intermediate: ', { option: 'issuer', value: 'ca' }, '.'],
      });
    }
    const now = params.now ?? new Date();
    const warnings: string[] = [];
    const notAfter = new Date(Math.min(now.getTime() + params.days * 86_400_000, issuer.certificate.notAfter.getTime()));
    const asked = new Date(now.getTime() + params.days * 86_400_000);
    // Within a day of the issuer's end is what the default asks for: no warning for that.
    if (asked.getTime() > issuer.certificate.notAfter.getTime() + 86_400_000) {
      warnings.push(`the CA is cut to end with its issuer on ${isoDate(notAfter)}.`);
    }
    const subject = withDefaults(params.subject, config.subject);
    const keys = await generateKeyPair(params.key);
    const crlUrl = crlUrlFor(config, params.issuer);
    const certificate = await createCertificate({
      subject,
      publicKey: keys.publicKey,
      serial: randomSerial(),
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter,
      issuerPem: issuer.certificate.pem,
      signingKey: issuer.key,
      ca: { pathLength: SUB_CA_PATH_LENGTH },
      keyUsage: CA_KEY_USAGE,
      ...(crlUrl ? { crlUrl } : {}),
      ...(config.ocspUrl ? { ocspUrl: config.ocspUrl } : {}),
      // The CA's name constraints bind every CA below the root, not only the first intermediate.
      ...(config.nameConstraints ? { extraExtensions: [nameConstraintsExtension(config.nameConstraints)] } : {}),
    });
    const chainPem = certificate.pem + issuer.chainPem;
    const record = toRecord(certificate, params.name, params.issuer, 'ca');
    const self: Issuer = { name: params.name, certificate, chainPem, key: keys };
    const files = { certificate: certPath(params.name), chain: chainPath(params.name), key: keyPath(params.name), crl: crlPath(params.name) };
    const writes: FileWrite[] = [
      { path: files.certificate, content: certificate.pem, commit: true },
      { path: files.chain, content: chainPem, commit: true },
      await keyWrite(params.name, keys, params.password, true),
      recordWrite(record),
      await buildCrl(store, self, { now, days: config.crlDays }),
    ];
    const keyName = describeKey(params.key);
    const message = commitMessage({
      summary: `Create sub-CA ${params.name} under ${params.issuer} (${keyName}, expires ${isoDate(notAfter)})`,
      commandLine: params.commandLine,
      details: [
        `Subject: ${formatDn(subject)}`,
        `Issuer:  ${params.issuer} (${issuer.certificate.subject.CN ?? ''})`,
        `Serial:  ${certificate.serial}`,
        `Valid:   ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`,
        `SHA-256: ${certificate.fingerprint}`,
        `The key is ${params.password === undefined ? 'not encrypted and not committed' : 'encrypted and committed'}.`,
      ],
      trailers: {
        'Certified-Action': 'create-ca',
        'Certified-Name': params.name,
        'Certified-Issuer': params.issuer,
        'Certified-Serial': certificate.serial,
        'Certified-Fingerprint': certificate.fingerprint,
      },
    });
    const { commit } = await store.apply({ message, writes });
    return { issuer: params.issuer, certificate, chainPem, files, keyEncrypted: params.password !== undefined, warnings, commit };
  });
}

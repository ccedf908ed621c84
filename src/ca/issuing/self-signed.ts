import { createCertificate, type CertificateInfo } from '../../pki/certificate.js';
import { describeKey, generateKeyPair } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import { randomSerial } from '../../pki/serial.js';
import type { CaStore } from '../../store/ca-store.js';
import { SELF_SIGNED_ISSUER, certPath, keyPath } from '../../store/layout.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { keyWrite } from '../authorities/init-ca.js';
import type { LeafParams } from './issue-certificate.js';
import { formatSan } from '../names.js';
import { APPLE_MAX_SERVER_DAYS, BACKDATE_MS, leafKeyUsage } from '../profiles.js';
import { gitignoreWrites, refuseTakenName, subjectWithOptionalDefaults } from './standalone.js';

export type SelfSignParams = LeafParams;

export interface SelfSignResult {
  name: string;
  certificate: CertificateInfo;
  files: { certificate: string; key: string };
  keyEncrypted: boolean;
  warnings: string[];
  commit: string;
}

/**
 * A self-signed leaf (issuer = subject, CA:FALSE), with or without a CA in the directory. Its
 * record goes to records/self-signed/<serial>.json; without a CA the directory becomes a git
 * repository with a .gitignore, as with --ca.
 */
export async function selfSignCertificate(store: CaStore, params: SelfSignParams): Promise<SelfSignResult> {
  return store.locked(async () => {
    await refuseTakenName(store, params.name);
    const subject = await subjectWithOptionalDefaults(store, params.subject);
    const now = params.now ?? new Date();
    const notAfter = new Date(now.getTime() + params.days * 86_400_000);
    const warnings: string[] = [];
    if (params.profile !== 'client' && params.days > APPLE_MAX_SERVER_DAYS) {
      warnings.push(`Apple platforms reject TLS server certificates valid for more than ${APPLE_MAX_SERVER_DAYS} days.`);
    }
    const keys = await generateKeyPair(params.key);
    const certificate = await createCertificate({
      subject,
      publicKey: keys.publicKey,
      serial: randomSerial(),
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter,
      signingKey: keys,
      ...leafKeyUsage(params.profile, params.key),
      sans: params.sans,
    });
    const record = toRecord(certificate, params.name, SELF_SIGNED_ISSUER, 'self-signed');
    const files = { certificate: certPath(params.name), key: keyPath(params.name) };
    const message = commitMessage({
      summary: `Self-sign ${params.name} (${params.profile}, ${describeKey(params.key)}, expires ${isoDate(notAfter)})`,
      commandLine: params.commandLine,
      details: [
        `Subject: ${formatDn(subject)}`,
        `SANs:    ${params.sans.map(formatSan).join(', ') || '(none)'}`,
        `Serial:  ${certificate.serial}`,
        `Valid:   ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`,
        `SHA-256: ${certificate.fingerprint}`,
      ],
      trailers: {
        'Certified-Action': 'self-sign',
        'Certified-Name': params.name,
        'Certified-Issuer': SELF_SIGNED_ISSUER,
        'Certified-Serial': certificate.serial,
        'Certified-Fingerprint': certificate.fingerprint,
      },
    });
    const { commit } = await store.apply({
      message,
      writes: [
        ...(await gitignoreWrites(store)),
        { path: files.certificate, content: certificate.pem, commit: true },
        await keyWrite(params.name, keys, params.password, true),
        recordWrite(record),
      ],
    });
    return { name: params.name, certificate, files, keyEncrypted: params.password !== undefined, warnings, commit };
  });
}

import type { CertificateInfo } from '../../pki/certificate.js';
import { describeKey, generateKeyPair } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import type { CaStore } from '../../store/ca-store.js';
import type { CertificateRecord } from '../../store/records.js';
import { SELF_SIGNED_ISSUER, certPath, keyPath } from '../../store/layout.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { keyWrite } from '../authorities/init-ca.js';
import type { LeafParams } from './issue-certificate.js';
import { formatSan } from '../names.js';
import { buildCertificate } from '../certificate-builder.js';
import { gitignoreWrites, refuseTakenName, subjectWithOptionalDefaults } from './standalone.js';

export type SelfSignParams = LeafParams;

export interface SelfSignResult {
  name: string;
  certificate: CertificateInfo;
  files: { certificate: string; key: string };
  keyEncrypted: boolean;
  warnings: string[];
  /** What records/ keeps of it. */
  record: CertificateRecord;
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
    const keys = await generateKeyPair(params.key);
    const { certificate, warnings } = await buildCertificate({
      kind: 'self-signed',
      subject,
      publicKey: keys.publicKey,
      signingKey: keys,
      key: params.key,
      profile: params.profile,
      sans: params.sans,
      days: params.days,
      now: params.now ?? new Date(),
    });
    const notAfter = certificate.notAfter;
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
    return { name: params.name, certificate, files, keyEncrypted: params.password !== undefined, warnings, record, commit };
  });
}

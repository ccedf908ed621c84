import { createCsr } from '../../pki/csr.js';
import { describeKey, generateKeyPair, type KeySpec } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import type { DistinguishedName, SubjectAltName } from '../../pki/types.js';
import type { CaStore } from '../../store/ca-store.js';
import { csrPath, keyPath } from '../../store/layout.js';
import { commitMessage } from '../commit-message.js';
import { keyWrite } from '../authorities/init-ca.js';
import { formatSan } from '../names.js';
import { gitignoreWrites, refuseTakenName, subjectWithOptionalDefaults } from './standalone.js';

export interface RequestCertificateParams {
  name: string;
  subject: DistinguishedName;
  sans: SubjectAltName[];
  key: KeySpec;
  /** Encrypts the new key (and then commits it). */
  password?: string;
  commandLine: string;
}

export interface RequestCertificateResult {
  name: string;
  subject: DistinguishedName;
  /** The names the CSR asks for, as records write them ("DNS:www.example.com"). */
  sans: string[];
  /** The new key, as records describe it ("ECDSA P-256"). */
  key: string;
  csrPem: string;
  files: { csr: string; key: string };
  keyEncrypted: boolean;
  commit: string;
}

/**
 * A key and csr/NAME.csr (the SANs in an extensionRequest) for someone else to sign; no
 * certificate and no record. Works without a CA; with one, the subject takes the CA's defaults.
 */
export async function requestCertificate(store: CaStore, params: RequestCertificateParams): Promise<RequestCertificateResult> {
  return store.locked(async () => {
    await refuseTakenName(store, params.name);
    const subject = await subjectWithOptionalDefaults(store, params.subject);
    const keys = await generateKeyPair(params.key);
    const csrPem = await createCsr({ subject, sans: params.sans, keyPair: keys });
    const files = { csr: csrPath(params.name), key: keyPath(params.name) };
    const message = commitMessage({
      summary: `Request ${params.name} (${describeKey(params.key)}, not signed)`,
      commandLine: params.commandLine,
      details: [`Subject: ${formatDn(subject)}`, `SANs:    ${params.sans.map(formatSan).join(', ') || '(none)'}`],
      trailers: { 'Certified-Action': 'request', 'Certified-Name': params.name },
    });
    const { commit } = await store.apply({
      message,
      writes: [
        ...(await gitignoreWrites(store)),
        { path: files.csr, content: csrPem, commit: true },
        await keyWrite(params.name, keys, params.password, true),
      ],
    });
    return { name: params.name, subject, sans: params.sans.map(formatSan), key: describeKey(params.key), csrPem, files, keyEncrypted: params.password !== undefined, commit };
  });
}

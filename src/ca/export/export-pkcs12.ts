import { isAbsolute, relative } from 'node:path';
import { parseCertificate, type CertificateInfo } from '../../pki/certificate.js';
import { certificateMatchesKey, privateKeyInfoOf } from '../../pki/keys.js';
import { readPemBlocks } from '../../pki/pem.js';
import { createPkcs12 } from '../../pki/pkcs12.js';
import type { CaStore } from '../../store/ca-store.js';
import { locateNewFile, realDirectory, writeExportFile } from '../../store/export-file.js';
import { certPath, chainPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { loadSigningKey } from '../ca-files.js';
import { findRecord } from '../find-record.js';
import { CertifiedError, InvalidInputError } from '../errors.js';
import type { AskPassword } from '../passwords.js';

export interface ExportPkcs12Params {
  name: string;
  /** Asked for private/NAME.key only when it is encrypted. */
  askPassword: AskPassword;
  /** Password of the .p12 file. */
  p12Password: string;
  /** Absolute path of the file to create (outside the CA directory; never overwritten). */
  out: string;
}

export interface ExportPkcs12Result {
  der: Uint8Array;
  certificate: CertificateInfo;
  /** How many certificates went in: the certificate and its issuing CAs (not the root). */
  certificates: number;
  /** The certificate's record, when it has one. */
  record?: CertificateRecord;
}

/**
 * Refuses what no password can fix (no such certificate, a file inside the CA directory) before
 * the caller asks for any password; exportPkcs12 checks it again.
 */
export async function checkExportPkcs12(store: CaStore, params: Pick<ExportPkcs12Params, 'name' | 'out'>): Promise<string> {
  await checkExportPath(store.dir, params.out);
  const pem = await store.readText(certPath(params.name));
  if (pem === undefined) {
    throw new CertifiedError(`there is no certificate "${params.name}" in "${store.dir}"`, {
      code: 'NOT_FOUND',
      hint: 'Run "certified ls" to list the certificates and their names.',
    });
  }
  return pem;
}

/** Key, certificate and chain of NAME as one PKCS#12 file. Reads the CA, changes nothing. */
export async function exportPkcs12(store: CaStore, params: ExportPkcs12Params): Promise<ExportPkcs12Result> {
  const pem = await checkExportPkcs12(store, params);
  const certificate = parseCertificate(pem);
  const chainText = (await store.readText(chainPath(params.name))) ?? pem;
  const chain = readPemBlocks(chainText).filter((block) => block.label === 'CERTIFICATE').map((block) => block.der);
  // The chain file starts with the certificate itself; put it first in any case.
  const issuers = chain.filter((der) => Buffer.compare(Buffer.from(der), Buffer.from(certificate.der)) !== 0);
  const key = await loadSigningKey(store, params.name, params.askPassword, 'certificate');
  if (!certificateMatchesKey(certificate.der, key)) {
    throw new CertifiedError(`the key of "${params.name}" does not belong to its certificate`, {
      code: 'KEY_MISMATCH',
      hint: 'Restore the matching key and certificate from git or your backup.',
    });
  }
  const der = await createPkcs12({
    privateKeyInfo: await privateKeyInfoOf(key),
    certificates: [certificate.der, ...issuers],
    friendlyName: certificate.subject.CN ?? params.name,
    password: params.p12Password,
  });
  try {
    await writeExportFile(params.out, der);
  } catch (error) {
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'EEXIST') {
      throw new InvalidInputError(`"${params.out}" already exists`, ['Nothing was written. Remove it first, or choose another file with ', { option: 'out' }, '.']);
    }
    throw error;
  }
  const record = await findRecord(store, certificate.serial);
  return { der, certificate, certificates: 1 + issuers.length, ...(record ? { record } : {}) };
}

/**
 * A .p12 holds the private key in the clear for whoever has the password: never inside the CA
 * directory, also not through a symbolic link (to the file, or to a folder on its way) that leads
 * there, where it could overwrite a CA file.
 */
async function checkExportPath(caDir: string, outPath: string): Promise<void> {
  const inside = (dir: string, path: string) => {
    const rel = relative(dir, path);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  if (inside(caDir, outPath)) {
    throw new InvalidInputError(
      `"${outPath}" is inside the CA directory`,
      ['A .p12 file must never be committed: write it elsewhere with ', { option: 'out', value: 'FILE' }, '.'],
    );
  }
  const target = await locateNewFile(outPath);
  if (target.isSymlink) {
    throw new InvalidInputError(
      `"${outPath}" is a symbolic link, and the .p12 file is only ever written as a new file`,
      ['Nothing was written. Give the path of a new file with ', { option: 'out', value: 'FILE' }, '.'],
    );
  }
  const realCa = await realDirectory(caDir);
  if (inside(realCa, target.real) || inside(caDir, target.real)) {
    throw new InvalidInputError(
      `"${outPath}" leads into the CA directory (it is "${target.real}" once symbolic links are followed)`,
      ['Nothing was written. A .p12 file must never be committed: write it elsewhere with ', { option: 'out', value: 'FILE' }, '.'],
    );
  }
}

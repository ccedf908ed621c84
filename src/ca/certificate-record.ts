import type { CertificateInfo } from '../pki/certificate.js';
import { describeKey } from '../pki/keys.js';
import { recordPath } from '../store/layout.js';
import { parseRecord, serializeRecord, type CertificateRecord, type RecordProfile } from '../store/records.js';
import type { FileWrite } from '../store/ca-store.js';
import { CertifiedError } from './errors.js';
import { formatSan } from './names.js';

export function toRecord(certificate: CertificateInfo, name: string, issuer: string, profile: RecordProfile): CertificateRecord {
  return {
    name,
    serial: certificate.serial,
    issuer,
    subject: certificate.subject,
    sans: certificate.sans.map(formatSan),
    profile,
    key: describeKey(certificate.key),
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    fingerprint: certificate.fingerprint,
    ...((profile === 'root' || profile === 'ca') && certificate.subjectKeyId ? { subjectKeyId: certificate.subjectKeyId } : {}),
    ...(profile !== 'root' && profile !== 'self-signed' && certificate.authorityKeyId ? { authorityKeyId: certificate.authorityKeyId } : {}),
    status: 'valid',
  };
}

export function recordWrite(record: CertificateRecord): FileWrite {
  return { path: recordPath(record.issuer, record.serial), content: serializeRecord(record), commit: true };
}

/**
 * The record at `path` from its text; one that cannot be read is a CertifiedError naming it, and
 * one that still holds a merge conflict says so (a conflict "git add"ed unresolved).
 */
export function readRecord(path: string, text: string): CertificateRecord {
  try {
    return parseRecord(text);
  } catch (error) {
    if (/^(<{7}|={7}|>{7})( |$)/m.test(text)) {
      throw new CertifiedError(`the record "${path}" holds git conflict markers (<<<<<<<), so nothing was changed`, {
        code: 'BAD_RECORD',
        hint: `Edit it to keep one side of the conflict and remove the marker lines, then "git add" and commit it.`,
        cause: error,
      });
    }
    throw new CertifiedError(`the record "${path}" cannot be read: ${(error as Error).message}`, {
      code: 'BAD_RECORD',
      hint: `Restore it from git ("git checkout -- ${path}").`,
      cause: error,
    });
  }
}

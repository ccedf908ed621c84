import type { CertificateInfo } from '../pki/certificate.js';
import { describeKey } from '../pki/keys.js';
import { recordPath } from '../store/layout.js';
import { serializeRecord, type CertificateRecord, type RecordProfile } from '../store/records.js';
import type { FileWrite } from '../store/ca-store.js';
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

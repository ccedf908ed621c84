import type { CheckedView } from './check-certificates.js';
import { describeKey } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import { RECORDS_DIR, certPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { formatSan } from '../names.js';
import { finding, type Finding } from './check-findings.js';

/** A field of a record as the record holds it and as its certificate says it should be, both as shown to the user. */
interface FieldValues {
  field: string;
  record: string;
  certificate: string;
}

const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? 'nothing');

/** Whether two dates, as a record holds them and as a certificate has them, are the same instant. */
const sameInstant = (text: unknown, date: Date): boolean => typeof text === 'string' && Date.parse(text) === date.getTime();

/**
 * Every field of a record that certified derived from its certificate (toRecord), compared with the
 * certificate: `ls --expiring`, renew and the CRLs read the record, so a record edited by hand (a
 * notAfter moved out, a name added) would mislead them without a word. One finding per field.
 */
export function checkRecordFields(name: string, view: CheckedView, record: CertificateRecord, path: string): Finding[] {
  const differences: FieldValues[] = [];
  const compare = (field: string, recorded: unknown, actual: string, same = recorded === actual) => {
    if (!same) differences.push({ field, record: shown(recorded), certificate: actual });
  };
  compare('serial', record.serial, view.serial);
  const subject = formatDn(view.subject);
  compare('subject', isObject(record.subject) ? formatDn(record.subject) : record.subject, subject);
  const sans = view.sans.map(formatSan);
  const recordedSans = Array.isArray(record.sans) ? record.sans.map(shown) : undefined;
  compare('sans', recordedSans ? recordedSans.join(', ') : record.sans, sans.join(', '), recordedSans !== undefined && sameSet(recordedSans, sans));
  compare('key', record.key, describeKey(view.key));
  compare('notBefore', record.notBefore, view.notBefore.toISOString(), sameInstant(record.notBefore, view.notBefore));
  compare('notAfter', record.notAfter, view.notAfter.toISOString(), sameInstant(record.notAfter, view.notAfter));
  if (record.fingerprint !== view.fingerprint) differences.push({ field: 'fingerprint', record: shown(record.fingerprint), certificate: view.fingerprint });
  // Records made before key identifiers were kept have none: nothing to compare then.
  if (record.subjectKeyId !== undefined && view.subjectKeyId !== undefined) compare('subjectKeyId', record.subjectKeyId, view.subjectKeyId);
  if (record.authorityKeyId !== undefined && view.authorityKeyId !== undefined) compare('authorityKeyId', record.authorityKeyId, view.authorityKeyId);
  return differences.map(({ field, record: recorded, certificate }) =>
    field === 'fingerprint'
      ? finding(certPath(name), 'record-mismatch', `its SHA-256 fingerprint differs from its record's (the file was changed after issuing)`)
      : finding(path, 'record-mismatch', `its ${field} says ${recorded}, but "${certPath(name)}" has ${certificate || '(none)'}: the record was edited; restore it with "git checkout -- ${path}" (or from the commit that issued it)`),
  );
}

function isObject(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/**
 * A record is stored as records/ISSUER/SERIAL.json: a serial or issuer edited inside the file no
 * longer matches where it is (and the certificate, the CRL and `ls` would disagree on it).
 */
export function checkRecordPlace(record: CertificateRecord, path: string): Finding[] {
  const [, issuer, file] = path.split('/');
  const findings: Finding[] = [];
  if (record.issuer !== issuer) findings.push(placeFinding(path, 'issuer', record.issuer, `the directory ${RECORDS_DIR}/${issuer ?? ''}/`));
  if (`${shown(record.serial)}.json` !== file) findings.push(placeFinding(path, 'serial', record.serial, `the file name ${file ?? ''}`));
  return findings;
}

function placeFinding(path: string, field: string, recorded: unknown, place: string): Finding {
  return finding(path, 'record-mismatch', `its ${field} says ${shown(recorded)}, but it is stored in ${place}: the record was edited; restore it with "git checkout -- ${path}"`);
}

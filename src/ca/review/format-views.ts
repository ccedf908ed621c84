import { describeKey } from '../../pki/key-spec.js';
import type { CertificateView, CrlView, CsrView, PkiView } from '../../pki/inspect.js';
import { formatDn } from '../../pki/format-dn.js';
import { formatSan } from '../names.js';

/** The same views for the files a CA holds, read without the X.509 library, or undefined (see quick-inspect.ts). */
export { inspectContentQuickly } from '../../pki/quick-inspect.js';

/**
 * The decoded view of certificates, CSRs and CRLs that `certified show`, the git diff driver and
 * dry-run print: plain text, one field per line, always in the same order and with no colour,
 * so that two versions of a file diff line by line.
 */
export function formatViews(views: PkiView[]): string {
  return views
    .map((view, index) => {
      const title = TITLES[view.kind] + (views.length > 1 ? ` (${index + 1} of ${views.length})` : '');
      return [`${title}:`, ...fieldsOf(view).map(([label, value]) => `  ${`${label}:`.padEnd(WIDTH)} ${value}`.trimEnd())].join('\n');
    })
    .join('\n\n')
    .concat(views.length ? '\n' : '');
}

const WIDTH = 21;

const TITLES: Record<PkiView['kind'], string> = {
  certificate: 'Certificate',
  csr: 'Certificate request',
  crl: 'CRL',
  other: 'PEM block',
  unreadable: 'Unreadable PEM block',
};

type Field = [label: string, value: string];

function fieldsOf(view: PkiView): Field[] {
  switch (view.kind) {
    case 'certificate':
      return certificateFields(view);
    case 'csr':
      return csrFields(view);
    case 'crl':
      return crlFields(view);
    case 'other':
      return [['Label', `${view.label} (not decoded)`]];
    case 'unreadable':
      return [['Label', view.label], ['Error', view.error]];
  }
}

/** 2026-11-24T19:05:00Z: seconds precision is what certificates carry. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function critical(value: string, isCritical: boolean): string {
  return isCritical ? `critical, ${value}` : value;
}

function certificateFields(view: CertificateView): Field[] {
  const basic = view.isCa ? `CA:TRUE${view.pathLength !== undefined ? `, pathlen:${view.pathLength}` : ''}` : 'CA:FALSE';
  return [
    ['Subject', formatDn(view.subject)],
    ['Issuer', formatDn(view.issuer) + (view.selfSigned ? ' (self-signed)' : '')],
    ['Serial', view.serial],
    ['Not before', isoSeconds(view.notBefore)],
    ['Not after', isoSeconds(view.notAfter)],
    ['Key', describeKey(view.key)],
    ['Signature algorithm', view.signatureAlgorithm],
    ['Basic constraints', critical(basic, view.basicConstraintsCritical)],
    ['Key usage', critical(view.keyUsageNames.join(', ') || '(none)', view.keyUsageCritical)],
    ['Extended key usage', view.extendedKeyUsageNames.join(', ') || '(none)'],
    ...(view.sans.length ? view.sans.map((san): Field => ['SAN', formatSan(san)]) : [['SAN', '(none)'] as Field]),
    ...view.crlUrls.map((url): Field => ['CRL distribution', url]),
    ...view.ocspUrls.map((url): Field => ['OCSP', url]),
    ['Subject key id', view.subjectKeyId ?? '(none)'],
    ['Authority key id', view.authorityKeyId ?? '(none)'],
    ['SHA-256 fingerprint', view.fingerprint],
  ];
}

function csrFields(view: CsrView): Field[] {
  return [
    ['Subject', formatDn(view.subject)],
    ['Key', describeKey(view.key)],
    ['Signature algorithm', view.signatureAlgorithm],
    ['Signature', view.signatureValid ? 'valid' : 'INVALID'],
    ...(view.sans.length ? view.sans.map((san): Field => ['SAN', formatSan(san)]) : [['SAN', '(none)'] as Field]),
  ];
}

function crlFields(view: CrlView): Field[] {
  return [
    ['Issuer', formatDn(view.issuer)],
    ['This update', isoSeconds(view.thisUpdate)],
    ['Next update', view.nextUpdate ? isoSeconds(view.nextUpdate) : '(none)'],
    ['CRL number', view.crlNumber === undefined ? '(none)' : String(view.crlNumber)],
    ['Signature algorithm', view.signatureAlgorithm],
    ['Revoked', String(view.entries.length)],
    ...view.entries.map((entry): Field => ['Revoked serial', `${entry.serial} ${isoSeconds(entry.revokedAt)} ${entry.reason}`]),
    ['SHA-256 fingerprint', view.fingerprint],
  ];
}

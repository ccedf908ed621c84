import { describeKey } from '../../pki/key-spec.js';
import type { PkiView } from '../../pki/inspect.js';
import { formatSan } from '../names.js';

// Apart from this file (which loads the X.509 library through inspectContent) so that the quick
// `certified show` git runs (cli/show-quickly.ts) loads only what it needs.
export { formatViews, isoSeconds } from './format-views.js';

/** The same views as plain JSON values (dates as ISO strings, no DER or PEM bytes). */
export function viewsToJson(views: PkiView[]): unknown[] {
  return views.map((view) => {
    if (view.kind === 'certificate') {
      return {
        kind: view.kind,
        subject: view.subject,
        issuer: view.issuer,
        serial: view.serial,
        notBefore: view.notBefore.toISOString(),
        notAfter: view.notAfter.toISOString(),
        key: describeKey(view.key),
        signatureAlgorithm: view.signatureAlgorithm,
        isCa: view.isCa,
        ...(view.pathLength !== undefined ? { pathLength: view.pathLength } : {}),
        keyUsage: view.keyUsageNames,
        extendedKeyUsage: view.extendedKeyUsageNames,
        sans: view.sans.map(formatSan),
        crlUrls: view.crlUrls,
        ocspUrls: view.ocspUrls,
        subjectKeyId: view.subjectKeyId ?? null,
        authorityKeyId: view.authorityKeyId ?? null,
        selfSigned: view.selfSigned,
        fingerprint: view.fingerprint,
      };
    }
    if (view.kind === 'csr') {
      const { kind, subject, signatureAlgorithm, signatureValid } = view;
      return { kind, subject, key: describeKey(view.key), signatureAlgorithm, signatureValid, sans: view.sans.map(formatSan) };
    }
    if (view.kind === 'crl') {
      const { kind, issuer, thisUpdate, nextUpdate, crlNumber, signatureAlgorithm, fingerprint } = view;
      return {
        kind,
        issuer,
        thisUpdate: thisUpdate.toISOString(),
        nextUpdate: nextUpdate?.toISOString() ?? null,
        crlNumber: crlNumber ?? null,
        signatureAlgorithm,
        entries: view.entries.map((entry) => ({ serial: entry.serial, revokedAt: entry.revokedAt.toISOString(), reason: entry.reason })),
        fingerprint,
      };
    }
    return view;
  });
}
export { inspectContent } from '../../pki/inspect.js';

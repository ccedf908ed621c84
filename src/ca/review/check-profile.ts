import type { CheckedView } from './check-certificates.js';
import type { CertificateRecord } from '../../store/records.js';
import { certPath } from '../../store/layout.js';
import { isoDate } from '../commit-message.js';
import { finding, type Finding } from './check-findings.js';

export const MIN_RSA_BITS = 2048;
const STRONG_HASH = /SHA-(256|384|512)/;
const LEAF_EKU: Record<string, string[]> = {
  server: ['serverAuth'],
  client: ['clientAuth'],
  'server+client': ['serverAuth', 'clientAuth'],
};

/**
 * The profile rules for one certificate: key size, signature hash, validity inside the issuer's,
 * and the extensions certified puts in a CA or a leaf of the record's profile.
 */
export function checkProfile(name: string, view: CheckedView, record: CertificateRecord | undefined, issuer: CheckedView | undefined): Finding[] {
  const path = certPath(name);
  const findings: Finding[] = [];
  const problem = (text: string) => findings.push(finding(path, 'profile', text));
  if (view.key.type === 'rsa' && view.key.bits < MIN_RSA_BITS) {
    findings.push(finding(path, 'weak-key', `an RSA key of ${view.key.bits} bits (at least ${MIN_RSA_BITS} are required)`));
  }
  if (!STRONG_HASH.test(view.signatureAlgorithm)) problem(`signed with ${view.signatureAlgorithm} (SHA-256 or better is required)`);
  if (view.notBefore >= view.notAfter) problem('notBefore is not before notAfter');
  if (issuer && issuer !== view && view.notAfter > issuer.notAfter) {
    problem(`valid until ${isoDate(view.notAfter)}, after its issuer (${isoDate(issuer.notAfter)})`);
  }
  if (!view.subjectKeyId) problem('no subject key identifier');
  if (issuer && view.authorityKeyId !== issuer.subjectKeyId) problem("the authority key identifier is not the issuer's subject key identifier");
  const isCaProfile = record ? ['root', 'ca', 'sub-ca'].includes(record.profile) : view.isCa;
  if (isCaProfile) {
    if (!view.isCa || !view.basicConstraintsCritical) problem('a CA certificate without a critical basicConstraints CA:TRUE');
    if (!view.keyUsageCritical || !view.keyUsageNames.includes('keyCertSign') || !view.keyUsageNames.includes('cRLSign')) {
      problem('a CA certificate without a critical keyUsage keyCertSign, cRLSign');
    }
    return findings;
  }
  if (view.isCa) problem('a leaf certificate with basicConstraints CA:TRUE');
  if (!view.basicConstraintsCritical) problem('basicConstraints is missing or not critical');
  if (!view.keyUsageCritical || !view.keyUsageNames.includes('digitalSignature')) problem('no critical keyUsage digitalSignature');
  if (view.keyUsageNames.some((usage) => usage === 'keyCertSign' || usage === 'cRLSign')) problem('a leaf certificate that may sign certificates or CRLs');
  const expected = record ? LEAF_EKU[record.profile] : undefined;
  // emailProtection comes with an e-mail address on a client certificate (older ones lack it).
  const withEmail = expected?.includes('clientAuth') && view.sans.some((san) => san.type === 'email');
  const actual = view.extendedKeyUsageNames.filter((usage) => !(withEmail && usage === 'emailProtection'));
  if (expected && [...actual].sort().join(',') !== [...expected].sort().join(',')) {
    problem(`extended key usage ${view.extendedKeyUsageNames.join(', ') || '(none)'} does not match the "${record?.profile}" profile (${expected.join(', ')})`);
  }
  return findings;
}

import type { DistinguishedName, RevocationReason } from '../pki/types.js';

export type RecordProfile = 'root' | 'ca' | 'server' | 'client' | 'server+client' | 'self-signed';

/** One issued certificate, stored at records/<issuer>/<serial>.json. */
export interface CertificateRecord {
  name: string;
  serial: string;
  issuer: string;
  subject: DistinguishedName;
  /** Formatted as OpenSSL prints them: DNS:x, IP Address:y, email:z, URI:u. */
  sans: string[];
  profile: RecordProfile;
  key: string;
  notBefore: string;
  notAfter: string;
  fingerprint: string;
  /** A CA's own key identifier, matched by the authorityKeyId of what it issued. */
  subjectKeyId?: string;
  /** The key identifier of the CA certificate that issued it: which one, when a name was reused. */
  authorityKeyId?: string;
  status: 'valid' | 'revoked';
  revocation?: { date: string; reason: RevocationReason };
  /** Issued by `certified apply` from certificates.yaml: apply may renew, reissue and revoke it. */
  managed?: boolean;
  /** Issued by the ACME server: the account (its JWK thumbprint) and the order it was issued for. No key file, no CSR. */
  acme?: { account: string; order: string };
  /** A CA whose key lives in another engine (Vault, step-ca, ...): certified signed its CSR, holds no key and publishes no CRL of its. */
  external?: boolean;
}

export function serializeRecord(record: CertificateRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

export function parseRecord(text: string): CertificateRecord {
  return JSON.parse(text) as CertificateRecord;
}

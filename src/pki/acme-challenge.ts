import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, Extension, SubjectAlternativeName, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import { formatIpAddress, ipAddressBytes } from './ip-address.js';

/**
 * The bytes of the ACME challenges (RFC 8555 8.3-8.4, RFC 8737): the digests of a key
 * authorization, and the reading of a tls-alpn-01 certificate. Deciding whether they match is the
 * validator's; this file only reads and encodes.
 */

/** id-pe-acmeIdentifier (RFC 8737 6.1). */
export const ID_PE_ACME_IDENTIFIER = '1.3.6.1.5.5.7.1.31';

/** SHA-256 of the key authorization: the value of the acmeIdentifier extension. */
export function keyAuthorizationDigest(keyAuthorization: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(keyAuthorization, 'utf8').digest());
}

/** The TXT record value of dns-01: base64url (no padding) of SHA-256 of the key authorization. */
export function dnsChallengeValue(keyAuthorization: string): string {
  return createHash('sha256').update(keyAuthorization, 'utf8').digest('base64url');
}

/** A critical acmeIdentifier extension, Authorization ::= OCTET STRING (SIZE (32)), for a tls-alpn-01 certificate. */
export function acmeIdentifierExtension(keyAuthorization: string): Extension {
  const value = AsnConvert.serialize(new OctetString(keyAuthorizationDigest(keyAuthorization)));
  return new Extension({ extnID: ID_PE_ACME_IDENTIFIER, critical: true, extnValue: new OctetString(value) });
}

/** One subjectAltName entry: a DNS name, an IP address (canonical text), or any other kind. */
export type ChallengeSan = { type: 'dns' | 'ip'; value: string } | { type: 'other' };

export interface TlsAlpnCertificate {
  /** Every entry of every subjectAltName extension, in order. */
  sans: ChallengeSan[];
  /** How many subjectAltName extensions the certificate has (RFC 5280 allows one). */
  sanExtensions: number;
  /** Each acmeIdentifier extension: its critical flag and the OCTET STRING it holds (undefined when it holds something else). */
  acmeIdentifiers: { critical: boolean; value: Uint8Array | undefined }[];
}

/** Reads what tls-alpn-01 checks in a certificate (DER). Throws an Error when it is not a certificate. */
export function readTlsAlpnCertificate(der: Uint8Array): TlsAlpnCertificate {
  const certificate = AsnConvert.parse(der, Certificate);
  const extensions = certificate.tbsCertificate.extensions ?? [];
  const result: TlsAlpnCertificate = { sans: [], sanExtensions: 0, acmeIdentifiers: [] };
  for (const extension of extensions) {
    const bytes = extension.extnValue.buffer;
    if (extension.extnID === id_ce_subjectAltName) {
      result.sanExtensions += 1;
      for (const name of AsnConvert.parse(bytes, SubjectAlternativeName)) result.sans.push(readSan(name.dNSName, name.iPAddress));
    } else if (extension.extnID === ID_PE_ACME_IDENTIFIER) {
      result.acmeIdentifiers.push({ critical: extension.critical, value: readOctetString(bytes) });
    }
  }
  return result;
}

function readSan(dnsName: string | undefined, ipAddress: string | undefined): ChallengeSan {
  if (dnsName !== undefined) return { type: 'dns', value: dnsName };
  const bytes = ipAddress === undefined ? undefined : ipAddressBytes(ipAddress);
  return bytes ? { type: 'ip', value: formatIpAddress(bytes) } : { type: 'other' };
}

function readOctetString(bytes: ArrayBuffer): Uint8Array | undefined {
  try {
    const value = AsnConvert.parse(bytes, OctetString);
    // The whole extnValue must be the one OCTET STRING, with nothing after it.
    return AsnConvert.serialize(value).byteLength === bytes.byteLength ? new Uint8Array(value.buffer) : undefined;
  } catch {
    return undefined;
  }
}

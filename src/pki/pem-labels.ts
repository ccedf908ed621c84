/** What a PEM block holds, by its label (OpenSSL's older spellings included). */
export const PEM_KINDS: Readonly<Record<string, 'certificate' | 'csr' | 'crl'>> = {
  CERTIFICATE: 'certificate',
  'TRUSTED CERTIFICATE': 'certificate',
  'CERTIFICATE REQUEST': 'csr',
  'NEW CERTIFICATE REQUEST': 'csr',
  'X509 CRL': 'crl',
  CRL: 'crl',
};

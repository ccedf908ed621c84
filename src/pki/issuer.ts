import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name as AsnName } from '@peculiar/asn1-x509';
import { SubjectKeyIdentifierExtension, X509Certificate } from './x509.js';
import { fromX509Name } from './name.js';
import type { DistinguishedName } from './types.js';

/** What a certificate or CRL needs of its issuer: its subject name, exactly as encoded, and its key identifier. */
export interface IssuerName {
  pem: string;
  name: AsnName;
  nameDer: Buffer;
  dn: DistinguishedName;
  keyId: string | undefined;
}

/** The last issuer read, kept between calls: a process that issues many parses it once. */
let lastIssuer: IssuerName | undefined;

export function readIssuer(pem: string): IssuerName {
  if (lastIssuer?.pem !== pem) {
    const certificate = new X509Certificate(pem);
    const name = AsnConvert.parse(certificate.rawData, Certificate).tbsCertificate.subject;
    lastIssuer = {
      pem,
      name,
      nameDer: Buffer.from(AsnConvert.serialize(name)),
      dn: fromX509Name(certificate.subjectName),
      keyId: certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId,
    };
  }
  return lastIssuer;
}

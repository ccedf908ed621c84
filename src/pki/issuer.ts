import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { inspectCertificateTextQuickly } from './quick-check.js';
import { certificateSubjectDer } from './quick-inspect.js';
import { SubjectKeyIdentifierExtension, X509Certificate } from './x509.js';
import { fromX509Name } from './name.js';
import type { DistinguishedName } from './types.js';

/** What a certificate or CRL needs of its issuer: its subject name, exactly as encoded, and its key identifier. */
export interface IssuerName {
  pem: string;
  nameDer: Buffer;
  dn: DistinguishedName;
  keyId: string | undefined;
}

/** The last issuer read, kept between calls: a process that issues many parses it once. */
let lastIssuer: IssuerName | undefined;

export function readIssuer(pem: string): IssuerName {
  if (lastIssuer?.pem !== pem) lastIssuer = readIssuerQuickly(pem) ?? readIssuerWithLibrary(pem);
  return lastIssuer;
}

/** readIssuer of a certificate file as certified writes it, without the X.509 library (see quick-check.ts). */
function readIssuerQuickly(pem: string): IssuerName | undefined {
  const view = inspectCertificateTextQuickly(pem);
  if (!view) return undefined;
  return { pem, nameDer: Buffer.from(certificateSubjectDer(view.der)), dn: view.subject, keyId: view.subjectKeyId };
}

function readIssuerWithLibrary(pem: string): IssuerName {
  const certificate = new X509Certificate(pem);
  const name = AsnConvert.parse(certificate.rawData, Certificate).tbsCertificate.subject;
  return {
    pem,
    nameDer: Buffer.from(AsnConvert.serialize(name)),
    dn: fromX509Name(certificate.subjectName),
    keyId: certificate.getExtension(SubjectKeyIdentifierExtension)?.keyId,
  };
}

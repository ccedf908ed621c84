import { Pkcs10CertificateRequest, type PublicKey, SubjectAlternativeNameExtension } from './x509.js';
import { createPublicKey } from 'node:crypto';
import { Attributes, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Attribute, Extensions } from '@peculiar/asn1-x509';
import { sanExtension } from './extensions.js';
import { keySpecOf, type KeyPair, type KeySpec } from './keys.js';
import { fromX509Name, toAsnName } from './name.js';
import { signStructure, subjectPublicKeyInfo } from './signature.js';
import { toPem } from './pem.js';
import type { DistinguishedName, SanType, SubjectAltName } from './types.js';
import { toArrayBuffer } from './bytes.js';

const OID_SUBJECT_ALT_NAME = '2.5.29.17';

export interface CreateCsrParams {
  subject: DistinguishedName;
  sans: SubjectAltName[];
  keyPair: KeyPair;
}

/** A PKCS#10 request signed by its own key; the SANs travel in an extensionRequest attribute. */
export async function createCsr(params: CreateCsrParams): Promise<string> {
  const attributes = new Attributes();
  if (params.sans.length) {
    attributes.push(new Attribute({ type: id_pkcs9_at_extensionRequest, values: [AsnConvert.serialize(new Extensions([sanExtension(params.sans)]))] }));
  }
  const info = new CertificationRequestInfo({ subject: toAsnName(params.subject), subjectPKInfo: subjectPublicKeyInfo(params.keyPair.publicKey), attributes });
  return toPem(signStructure(info, params.keyPair), 'CERTIFICATE REQUEST');
}

export interface CsrInfo {
  pem: string;
  subject: DistinguishedName;
  sans: SubjectAltName[];
  key: KeySpec;
  publicKey: PublicKey;
  signatureValid: boolean;
}

const SAN_TYPES: Record<string, SanType> = { dns: 'dns', ip: 'ip', email: 'email', url: 'uri' };

/** Parses a PEM or DER CSR; throws on anything that is not one. */
export async function parseCsr(input: string | Uint8Array): Promise<CsrInfo> {
  const csr = new Pkcs10CertificateRequest(typeof input === 'string' ? input : toArrayBuffer(input));
  // @peculiar/x509 finds CSR extensions reliably only by OID.
  const sanRaw = csr.extensions.find((extension) => extension.type === OID_SUBJECT_ALT_NAME);
  const san = sanRaw ? new SubjectAlternativeNameExtension(sanRaw.rawData) : undefined;
  const keyObject = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  return {
    pem: toPem(new Uint8Array(csr.rawData), 'CERTIFICATE REQUEST'),
    subject: fromX509Name(csr.subjectName),
    sans: (san?.names.items ?? []).map((name) => {
      const type = SAN_TYPES[name.type];
      if (!type) throw new Error(`unsupported subjectAltName type ${name.type}`);
      return { type, value: name.value };
    }),
    key: keySpecOf(keyObject),
    publicKey: csr.publicKey,
    signatureValid: await csr.verify(),
  };
}

import { Pkcs10CertificateRequest, type PublicKey, SubjectAlternativeNameExtension } from './x509.js';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
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

/** A CSR whose key is of a type or curve this CA does not sign; `keyName` says which, like "Ed25519". */
export class UnsupportedCsrKeyError extends Error {
  constructor(readonly keyName: string) {
    super(`unsupported key ${keyName}`);
    this.name = 'UnsupportedCsrKeyError';
  }
}

const CURVE_NAMES: Record<string, string> = { secp521r1: 'P-521', prime256v1: 'P-256', secp384r1: 'P-384', prime192v1: 'P-192', secp224r1: 'P-224' };
const KEY_TYPE_NAMES: Record<string, string> = { ed25519: 'Ed25519', ed448: 'Ed448', 'rsa-pss': 'RSA-PSS', dsa: 'DSA', dh: 'DH', x25519: 'X25519', x448: 'X448' };

/** "ECDSA P-521", "ECDSA secp256k1", "Ed25519": the key's kind as a user names it. */
function keyNameOf(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve';
    return `ECDSA ${CURVE_NAMES[curve] ?? curve}`;
  }
  return KEY_TYPE_NAMES[type] ?? type;
}

/** The key of a CSR, from its SubjectPublicKeyInfo, read natively (it knows every curve). */
function csrKeySpec(spki: ArrayBuffer): KeySpec {
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw new UnsupportedCsrKeyError('of an unknown type');
  }
  try {
    return keySpecOf(keyObject);
  } catch {
    throw new UnsupportedCsrKeyError(keyNameOf(keyObject));
  }
}

/** Parses a PEM or DER CSR; throws on anything that is not one, UnsupportedCsrKeyError for a key we do not sign. */
export async function parseCsr(input: string | Uint8Array): Promise<CsrInfo> {
  const csr = new Pkcs10CertificateRequest(typeof input === 'string' ? input : toArrayBuffer(input));
  // The key first: the library cannot read or verify some (secp256k1), and the user must hear which.
  const spki = AsnConvert.serialize(AsnConvert.parse(csr.rawData, CertificationRequest).certificationRequestInfo.subjectPKInfo);
  const key = csrKeySpec(spki);
  // @peculiar/x509 finds CSR extensions reliably only by OID.
  const sanRaw = csr.extensions.find((extension) => extension.type === OID_SUBJECT_ALT_NAME);
  const san = sanRaw ? new SubjectAlternativeNameExtension(sanRaw.rawData) : undefined;
  return {
    pem: toPem(new Uint8Array(csr.rawData), 'CERTIFICATE REQUEST'),
    subject: fromX509Name(csr.subjectName),
    sans: (san?.names.items ?? []).map((name) => {
      const type = SAN_TYPES[name.type];
      if (!type) throw new Error(`unsupported subjectAltName type ${name.type}`);
      return { type, value: name.value };
    }),
    key,
    publicKey: csr.publicKey,
    signatureValid: await csr.verify(),
  };
}

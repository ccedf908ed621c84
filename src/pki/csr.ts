import { GeneralNames, Name, Pkcs10CertificateRequest } from './x509.js';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Attribute, Extensions, SubjectAlternativeName, type Extension, type Name as AsnName, type SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { encodedItem } from './encoded-block.js';
import { sanExtensionDer } from './extensions.js';
import { keySpecOf, type KeyPair, type KeySpec } from './keys.js';
import { fromX509Name, nameDer } from './name.js';
import { signStructure, subjectPublicKeyInfoDer, type SpkiKey } from './signature.js';
import { toPem } from './pem.js';
import type { DistinguishedName, SanType, SubjectAltName } from './types.js';
import { toArrayBuffer } from './bytes.js';

const OID_SUBJECT_ALT_NAME = '2.5.29.17';

export interface CreateCsrParams {
  subject: DistinguishedName;
  sans: SubjectAltName[];
  keyPair: KeyPair;
}

/**
 * A PKCS#10 request signed by its own key; the SANs travel in an extensionRequest attribute. The
 * subject and the key go in already encoded, as in the certificate made with it (see toBeSigned).
 */
export async function createCsr(params: CreateCsrParams): Promise<string> {
  const attributes = new Attributes();
  if (params.sans.length) {
    attributes.push(new Attribute({ type: id_pkcs9_at_extensionRequest, values: [AsnConvert.serialize(new Extensions([encodedItem<Extension>(sanExtensionDer(params.sans))]))] }));
  }
  const info = new CertificationRequestInfo({
    subject: encodedItem<AsnName>(nameDer(params.subject)),
    subjectPKInfo: encodedItem<SubjectPublicKeyInfo>(subjectPublicKeyInfoDer(params.keyPair.publicKey)),
    attributes,
  });
  return toPem(signStructure(info, params.keyPair), 'CERTIFICATE REQUEST');
}

export interface CsrInfo {
  pem: string;
  subject: DistinguishedName;
  sans: SubjectAltName[];
  key: KeySpec;
  publicKey: SpkiKey;
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
function csrKeyObject(spki: ArrayBuffer): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw new UnsupportedCsrKeyError('of an unknown type');
  }
}

function csrKeySpec(keyObject: KeyObject): KeySpec {
  try {
    return keySpecOf(keyObject);
  } catch {
    throw new UnsupportedCsrKeyError(keyNameOf(keyObject));
  }
}

/** Signature algorithms a CSR is verified with natively: the hash Node's verify takes and the key type they are for, by OID. */
const NATIVE_SIGNATURES: Record<string, { hash: string; keyType: 'ec' | 'rsa' }> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', keyType: 'ec' }, // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': { hash: 'sha384', keyType: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', keyType: 'ec' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', keyType: 'rsa' }, // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': { hash: 'sha384', keyType: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', keyType: 'rsa' },
};

/**
 * Whether the request's signature is its key's: natively for the usual algorithms (WebCrypto's
 * promise round trip and key import cost more than the check), through @peculiar/x509 for the rest.
 */
async function csrSignatureValid(der: ArrayBuffer, request: CertificationRequest, key: KeyObject): Promise<boolean> {
  const algorithm = NATIVE_SIGNATURES[request.signatureAlgorithm.algorithm];
  const signed = request.certificationRequestInfoRaw;
  if (algorithm === undefined || signed === undefined) return new Pkcs10CertificateRequest(der).verify();
  // Node would check an RSA signature labelled ECDSA (or the reverse) as the key's kind: a request must say what it is.
  if (key.asymmetricKeyType !== algorithm.keyType) return false;
  // On libuv's thread pool: a server checking CSRs under load goes on answering meanwhile.
  return new Promise((resolve) => {
    try {
      verify(algorithm.hash, new Uint8Array(signed), key, new Uint8Array(request.signature), (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false); // a signature algorithm that does not fit the key
    }
  });
}

/** The subjectAltName names of the request's extensionRequest attribute. */
function requestedSans(request: CertificationRequest): SubjectAltName[] {
  for (const attribute of request.certificationRequestInfo.attributes) {
    if (attribute.type !== id_pkcs9_at_extensionRequest) continue;
    for (const value of attribute.values) {
      const san = AsnConvert.parse(value, Extensions).find((extension) => extension.extnID === OID_SUBJECT_ALT_NAME);
      if (!san) continue;
      // Read from the parsed schema: the library's extension class would encode it and parse it again.
      return new GeneralNames(AsnConvert.parse(san.extnValue.buffer, SubjectAlternativeName)).items.map((name) => {
        const type = SAN_TYPES[name.type];
        if (!type) throw new Error(`unsupported subjectAltName type ${name.type}`);
        return { type, value: name.value };
      });
    }
  }
  return [];
}

/** Parses a PEM or DER CSR; throws on anything that is not one, UnsupportedCsrKeyError for a key we do not sign. */
export async function parseCsr(input: string | Uint8Array): Promise<CsrInfo> {
  const der = typeof input === 'string' ? new Pkcs10CertificateRequest(input).rawData : toArrayBuffer(input);
  // One parse of the ASN.1 (the X.509 library's request object parses it again, and each extension).
  const request = AsnConvert.parse(der, CertificationRequest);
  const info = request.certificationRequestInfo;
  // The key first: the library cannot read or verify some (secp256k1), and the user must hear which.
  const spkiDer = AsnConvert.serialize(info.subjectPKInfo);
  const keyObject = csrKeyObject(spkiDer);
  const key = csrKeySpec(keyObject);
  return {
    pem: toPem(new Uint8Array(der), 'CERTIFICATE REQUEST'),
    subject: fromX509Name(new Name(info.subject)),
    sans: requestedSans(request),
    key,
    publicKey: { rawData: spkiDer, spki: info.subjectPKInfo, spec: key, keyObject },
    signatureValid: await csrSignatureValid(der, request, keyObject),
  };
}

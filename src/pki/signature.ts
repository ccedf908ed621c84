import { KeyObject, createHash } from 'node:crypto';
import { id_ecdsaWithSHA256, id_ecdsaWithSHA384 } from '@peculiar/asn1-ecc';
import { id_sha256WithRSAEncryption } from '@peculiar/asn1-rsa';
import { AsnConvert, AsnProp, AsnSerializer, AsnPropTypes, AsnType, AsnTypeTypes, type IAsnConverter } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { Null, type AsnType as Asn1jsType } from 'asn1js';
import type { webcrypto } from 'node:crypto';
import { toArrayBuffer } from './bytes.js';
import { encodedBlock } from './encoded-block.js';
import { signWith, type KeySpec, type SigningKey } from './keys.js';

/**
 * The AlgorithmIdentifier of the signatures a key makes: ECDSA with SHA-384 for P-384, with
 * SHA-256 for P-256 (RFC 5758, no parameters), sha256WithRSAEncryption with NULL parameters for
 * RSA (RFC 4055). Built from the OIDs: @peculiar/asn1-rsa's ready-made `sha256WithRSAEncryption`
 * carries the OID of sha512-256 (1.2.840.113549.1.1.16).
 */
export function signatureAlgorithmIdentifier(spec: KeySpec): AlgorithmIdentifier {
  if (spec.type === 'rsa') return new AlgorithmIdentifier({ algorithm: id_sha256WithRSAEncryption, parameters: null });
  return new AlgorithmIdentifier({ algorithm: spec.curve === 'P-384' ? id_ecdsaWithSHA384 : id_ecdsaWithSHA256 });
}

/** A part already converted to asn1js blocks, put in as they are (AsnPropTypes.Any alone wants DER, and parses it). */
const ConvertedBlock: IAsnConverter<Asn1jsType, Asn1jsType> = {
  fromASN: (value) => value,
  toASN: (value) => value,
};

/**
 * The outer SEQUENCE of every signed X.509 structure: a certificate (RFC 5280 4.1), a CRL
 * (5.1) and a PKCS#10 request (RFC 2986 4.2) are the encoded to-be-signed part, the signature
 * algorithm and the signature bits. The to-be-signed part is converted from its schema once, for
 * signing, and put in as those blocks: converting it again would cost as much as the rest.
 */
@AsnType({ type: AsnTypeTypes.Sequence })
class SignedStructure {
  @AsnProp({ type: AsnPropTypes.Any, converter: ConvertedBlock })
  toBeSigned: Asn1jsType = new Null();

  @AsnProp({ type: AlgorithmIdentifier })
  signatureAlgorithm = new AlgorithmIdentifier();

  @AsnProp({ type: AsnPropTypes.BitString })
  signature = new ArrayBuffer(0);

  constructor(params: Partial<SignedStructure> = {}) {
    Object.assign(this, params);
  }
}

/**
 * Encodes `toBeSigned` (a TBSCertificate, CertificationRequestInfo, ...: its `signature` field,
 * if it has one, must already name `signatureAlgorithmIdentifier(key.spec)`), signs it, and
 * returns the DER of the signed structure.
 */
export function signStructure(toBeSigned: object, key: SigningKey): Uint8Array {
  const encoded = AsnSerializer.toASN(toBeSigned).toBER();
  // Put in as encoded: encoding it a second time cost as much as the first (~60 ms for a CRL of 1,000 entries).
  const signed = new SignedStructure({ toBeSigned: encodedBlock(encoded), signatureAlgorithm: signatureAlgorithmIdentifier(key.spec), signature: signDer(encoded, key) });
  return new Uint8Array(AsnConvert.serialize(signed));
}


/**
 * Signs DER-encoded to-be-signed bytes as X.509 and PKCS#10 want them: ECDSA signatures as a DER
 * Ecdsa-Sig-Value, RSA as PKCS#1 v1.5. Synchronous and native (Node's crypto), without WebCrypto's
 * promise round trip: apply signs thousands.
 */
function signDer(data: ArrayBuffer, key: SigningKey): ArrayBuffer {
  const hash = key.spec.type === 'ecdsa' && key.spec.curve === 'P-384' ? 'sha384' : 'sha256';
  return toArrayBuffer(signWith(key, hash, new Uint8Array(data)));
}

/**
 * A public key read from DER (a CSR's, a certificate's), with what reading it already learnt:
 * its parsed SubjectPublicKeyInfo and its type, so that building a certificate for it parses nothing again.
 */
export interface SpkiKey {
  rawData: ArrayBuffer;
  spki?: SubjectPublicKeyInfo;
  spec?: KeySpec;
  keyObject?: KeyObject;
}

/** The SubjectPublicKeyInfo of a public key: a WebCrypto key, or one read from a CSR or certificate (its DER). */
export function subjectPublicKeyInfo(key: webcrypto.CryptoKey | SpkiKey): SubjectPublicKeyInfo {
  if ('rawData' in key) return key.spki ?? AsnConvert.parse(key.rawData, SubjectPublicKeyInfo);
  // A new key goes into its certificate and its CSR: export it once.
  let spki = exportedKeys.get(key);
  if (!spki) exportedKeys.set(key, (spki = AsnConvert.parse(KeyObject.from(key).export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo)));
  return spki;
}

const exportedKeys = new WeakMap<webcrypto.CryptoKey, SubjectPublicKeyInfo>();

/** The key identifier of RFC 5280 4.2.1.2, method (1): SHA-1 of the subjectPublicKey bits, as hex. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): string {
  return createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest('hex');
}

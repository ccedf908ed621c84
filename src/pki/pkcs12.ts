import { createHash, createHmac, randomBytes } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { ContentInfo, EncryptedContent, EncryptedContentInfo, id_data, id_encryptedData } from '@peculiar/asn1-cms';
import { EncryptedData as Pkcs8EncryptedData, EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import {
  AuthenticatedSafe,
  CertBag,
  MacData,
  PFX,
  PKCS12Attribute,
  SafeBag,
  SafeContents,
  id_certBag,
  id_pkcs8ShroudedKeyBag,
  id_x509Certificate,
} from '@peculiar/asn1-pfx';
import { toArrayBuffer } from './bytes.js';
import { pbes2Encrypt } from './pbes2.js';

/**
 * Iterations for the PBES2 key derivation and for the MAC. OpenSSL 3 uses 2,048 and Java 10,000;
 * the MAC is a password oracle too, so both get the same, higher count.
 */
export const PKCS12_ITERATIONS = 100_000;

const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20';
const OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21';
const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

// CMS EncryptedData (RFC 5652 8): asn1-cms has its parts but not the envelope itself.
class CmsEncryptedData {
  @AsnProp({ type: AsnPropTypes.Integer }) version = 0;
  @AsnProp({ type: EncryptedContentInfo }) encryptedContentInfo = new EncryptedContentInfo();
}

// friendlyName is a BMPString (PKCS#9).
@AsnType({ type: AsnTypeTypes.Choice })
class BmpName {
  @AsnProp({ type: AsnPropTypes.BmpString }) value = '';
}

export interface CreatePkcs12Params {
  /** DER PrivateKeyInfo (PKCS#8), RSA or ECDSA alike. */
  privateKeyInfo: Uint8Array;
  /** DER certificates: the key's certificate first, then its issuing CAs. */
  certificates: Uint8Array[];
  friendlyName: string;
  password: string;
  iterations?: number;
}

/**
 * A PKCS#12 file that OpenSSL 3 (without -legacy), NSS, Java and Node read: the key in a shrouded
 * key bag and the certificates in an encrypted safe, both PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC),
 * and an HMAC-SHA256 integrity MAC. The same code serves RSA and ECDSA keys.
 */
export async function createPkcs12(params: CreatePkcs12Params): Promise<Uint8Array> {
  const iterations = params.iterations ?? PKCS12_ITERATIONS;
  const [leaf] = params.certificates;
  if (!leaf) throw new Error('a PKCS#12 file needs at least the certificate');
  const localKeyId = createHash('sha1').update(leaf).digest();
  const leafAttributes = [
    attribute(OID_FRIENDLY_NAME, AsnConvert.serialize(Object.assign(new BmpName(), { value: params.friendlyName }))),
    attribute(OID_LOCAL_KEY_ID, AsnConvert.serialize(new OctetString(toArrayBuffer(localKeyId)))),
  ];

  const certBags = params.certificates.map(
    (der, index) =>
      new SafeBag({
        bagId: id_certBag,
        bagValue: AsnConvert.serialize(new CertBag({ certId: id_x509Certificate, certValue: AsnConvert.serialize(new OctetString(toArrayBuffer(der))) })),
        ...(index === 0 ? { bagAttributes: leafAttributes } : {}),
      }),
  );
  const certSafe = await encryptedContentInfo(new Uint8Array(AsnConvert.serialize(new SafeContents(certBags))), params.password, iterations);

  const shrouded = await pbes2Encrypt(params.privateKeyInfo, params.password, iterations);
  const keyBag = new SafeBag({
    bagId: id_pkcs8ShroudedKeyBag,
    bagValue: AsnConvert.serialize(
      new EncryptedPrivateKeyInfo({ encryptionAlgorithm: shrouded.algorithm, encryptedData: new Pkcs8EncryptedData(toArrayBuffer(shrouded.ciphertext)) }),
    ),
    bagAttributes: leafAttributes,
  });
  const keySafe = new ContentInfo({
    contentType: id_data,
    content: AsnConvert.serialize(new OctetString(AsnConvert.serialize(new SafeContents([keyBag])))),
  });

  const authenticatedSafe = new Uint8Array(AsnConvert.serialize(new AuthenticatedSafe([certSafe, keySafe])));
  const macSalt = randomBytes(16);
  const macKey = await pkcs12MacKey(params.password, macSalt, iterations);
  const macData = new MacData({ macSalt: new OctetString(toArrayBuffer(macSalt)), iterations });
  macData.mac.digestAlgorithm = new AlgorithmIdentifier({ algorithm: OID_SHA256, parameters: DER_NULL });
  macData.mac.digest = new OctetString(toArrayBuffer(createHmac('sha256', macKey).update(authenticatedSafe).digest()));

  const pfx = new PFX({
    version: 3,
    authSafe: new ContentInfo({ contentType: id_data, content: AsnConvert.serialize(new OctetString(toArrayBuffer(authenticatedSafe))) }),
    macData,
  });
  return new Uint8Array(AsnConvert.serialize(pfx));
}

// PKCS12Attribute's constructor drops its params (asn1-pfx 2.11.1): set the fields afterwards.
function attribute(attrId: string, value: ArrayBuffer): PKCS12Attribute {
  return Object.assign(new PKCS12Attribute(), { attrId, attrValues: [value] });
}

async function encryptedContentInfo(data: Uint8Array, password: string, iterations: number): Promise<ContentInfo> {
  const { algorithm, ciphertext } = await pbes2Encrypt(data, password, iterations);
  const encrypted = new CmsEncryptedData();
  encrypted.encryptedContentInfo = new EncryptedContentInfo({
    contentType: id_data,
    contentEncryptionAlgorithm: algorithm,
    encryptedContent: new EncryptedContent({ value: new OctetString(toArrayBuffer(ciphertext)) }),
  });
  return new ContentInfo({ contentType: id_encryptedData, content: AsnConvert.serialize(encrypted) });
}

/** The MAC key: RFC 7292 appendix B key derivation (ID 3) with SHA-256, from node-forge. */
async function pkcs12MacKey(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const { default: forge } = await import('node-forge');
  const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt.toString('binary')), 3, iterations, 32, forge.md.sha256.create());
  return Buffer.from(key.getBytes(), 'binary');
}

import { createCipheriv, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { AsnConvert, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { EncryptedData, EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { toArrayBuffer } from './bytes.js';

const pbkdf2Async = promisify(pbkdf2);

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';
const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

/** Committed keys must resist offline guessing: far above Node's fixed 2,048 iterations. */
export const PBKDF2_ITERATIONS = 600_000;

// RFC 8018 A.2: PBKDF2-params, with the salt always "specified" and the PRF always given.
class Pbkdf2Params {
  @AsnProp({ type: AsnPropTypes.OctetString }) salt = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.Integer }) iterationCount = 0;
  @AsnProp({ type: AsnPropTypes.Integer, optional: true }) keyLength?: number;
  @AsnProp({ type: AlgorithmIdentifier }) prf = new AlgorithmIdentifier();
}

// RFC 8018 A.4: PBES2-params.
class Pbes2Params {
  @AsnProp({ type: AlgorithmIdentifier }) keyDerivationFunc = new AlgorithmIdentifier();
  @AsnProp({ type: AlgorithmIdentifier }) encryptionScheme = new AlgorithmIdentifier();
}

/** What PBES2 made: the AlgorithmIdentifier to put beside the ciphertext, and the ciphertext. */
export interface Pbes2Result {
  algorithm: AlgorithmIdentifier;
  ciphertext: Uint8Array;
}

/** PBES2 (RFC 8018) with PBKDF2-HMAC-SHA256 and AES-256-CBC over any bytes: keys, PKCS#12 safes. */
export async function pbes2Encrypt(data: Uint8Array, password: string, iterations = PBKDF2_ITERATIONS): Promise<Pbes2Result> {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);

  const kdfParams = new Pbkdf2Params();
  kdfParams.salt = toArrayBuffer(salt);
  kdfParams.iterationCount = iterations;
  kdfParams.keyLength = 32;
  kdfParams.prf = new AlgorithmIdentifier({ algorithm: OID_HMAC_SHA256, parameters: DER_NULL });

  const schemeParams = new Pbes2Params();
  schemeParams.keyDerivationFunc = new AlgorithmIdentifier({
    algorithm: OID_PBKDF2,
    parameters: AsnConvert.serialize(kdfParams),
  });
  schemeParams.encryptionScheme = new AlgorithmIdentifier({
    algorithm: OID_AES256_CBC,
    parameters: AsnConvert.serialize(new EncryptedData(toArrayBuffer(iv))),
  });
  return {
    algorithm: new AlgorithmIdentifier({ algorithm: OID_PBES2, parameters: AsnConvert.serialize(schemeParams) }),
    ciphertext: new Uint8Array(ciphertext),
  };
}

/**
 * Encrypts a DER PrivateKeyInfo as PKCS#8 EncryptedPrivateKeyInfo with PBES2:
 * PBKDF2-HMAC-SHA256 and AES-256-CBC, which OpenSSL 3 and Node both read.
 */
export async function encryptPrivateKeyInfo(
  privateKeyInfo: Uint8Array,
  password: string,
  iterations = PBKDF2_ITERATIONS,
): Promise<Uint8Array> {
  const { algorithm, ciphertext } = await pbes2Encrypt(privateKeyInfo, password, iterations);
  const info = new EncryptedPrivateKeyInfo({
    encryptionAlgorithm: algorithm,
    encryptedData: new EncryptedData(toArrayBuffer(ciphertext)),
  });
  return new Uint8Array(AsnConvert.serialize(info));
}

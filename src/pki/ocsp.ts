import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, type Extension } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { toArrayBuffer } from './bytes.js';
import { signWith, type SigningKey } from './keys.js';
import { readPemBlocks } from './pem.js';
import { normalizeSerial } from './serial.js';
import type { RevocationReason } from './types.js';

/** RFC 6960 responder (OCSP over HTTP): parse requests, sign responses with the issuing CA's key. */

const HASHES: Record<string, string> = { '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
const REASON_CODES: Record<RevocationReason, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
};

export class OcspRequestError extends Error {}

export interface OcspCertQuery {
  /** Kept as parsed, to be echoed in the response. */
  certId: CertID;
  /** Node's name for the hash ("sha1", "sha256"...), or undefined when unsupported. */
  hash: string | undefined;
  issuerNameHash: string;
  issuerKeyHash: string;
  serial: string;
}

export interface OcspRequestInfo {
  queries: OcspCertQuery[];
  nonce?: Extension;
}

/** Parses a DER OCSPRequest; throws OcspRequestError on anything else. */
export function parseOcspRequest(der: Uint8Array): OcspRequestInfo {
  let request: OCSPRequest;
  try {
    request = AsnConvert.parse(toArrayBuffer(der), OCSPRequest);
  } catch (error) {
    throw new OcspRequestError(`not an OCSP request: ${(error as Error).message}`);
  }
  const queries = request.tbsRequest.requestList.map(({ reqCert }) => ({
    certId: reqCert,
    hash: HASHES[reqCert.hashAlgorithm.algorithm],
    issuerNameHash: Buffer.from(reqCert.issuerNameHash.buffer).toString('hex'),
    issuerKeyHash: Buffer.from(reqCert.issuerKeyHash.buffer).toString('hex'),
    serial: normalizeSerial(Buffer.from(reqCert.serialNumber).toString('hex')),
  }));
  if (!queries.length) throw new OcspRequestError('the OCSP request asks about no certificate');
  const nonce = request.tbsRequest.requestExtensions?.find((extension) => extension.extnID === id_pkix_ocsp_nonce);
  return { queries, ...(nonce ? { nonce } : {}) };
}

/** The hashes an OCSP CertID uses to name this issuer: of its subject DN and of its public key bits. */
export function issuerHashes(issuerPem: string, hash: string): { nameHash: string; keyHash: string } {
  const [block] = readPemBlocks(issuerPem);
  if (!block) throw new Error('not a PEM certificate');
  const tbs = AsnConvert.parse(toArrayBuffer(block.der), Certificate).tbsCertificate;
  return {
    nameHash: createHash(hash).update(Buffer.from(AsnConvert.serialize(tbs.subject))).digest('hex'),
    keyHash: createHash(hash).update(Buffer.from(tbs.subjectPublicKeyInfo.subjectPublicKey)).digest('hex'),
  };
}

export type OcspCertStatus = { status: 'good' } | { status: 'unknown' } | { status: 'revoked'; revokedAt: Date; reason: RevocationReason };

export interface CreateOcspResponseParams {
  issuerPem: string;
  signingKey: SigningKey;
  answers: { query: OcspCertQuery; status: OcspCertStatus }[];
  nonce?: Extension;
  now: Date;
  /** How long the answer may be cached (nextUpdate). */
  validForMs: number;
}

/** A successful, signed BasicOCSPResponse; the responder is the issuing CA itself (byKey). */
export function createOcspResponse(params: CreateOcspResponseParams): Uint8Array {
  const now = wholeSeconds(params.now);
  const nextUpdate = wholeSeconds(new Date(now.getTime() + params.validForMs));
  const [block] = readPemBlocks(params.issuerPem);
  if (!block) throw new Error('not a PEM certificate');
  const issuer = AsnConvert.parse(toArrayBuffer(block.der), Certificate);
  const keyId = createHash('sha1').update(Buffer.from(issuer.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)).digest();

  const responses = params.answers.map(({ query, status }) => {
    const certStatus =
      status.status === 'good' ? new CertStatus({ good: null })
      : status.status === 'unknown' ? new CertStatus({ unknown: null })
      : new CertStatus({
          revoked: new RevokedInfo({
            revocationTime: wholeSeconds(status.revokedAt),
            ...(status.reason === 'unspecified' ? {} : { revocationReason: new CRLReason(REASON_CODES[status.reason]) }),
          }),
        });
    return new SingleResponse({ certID: query.certId, certStatus, thisUpdate: now, nextUpdate });
  });
  const data = new ResponseData({
    responderID: new ResponderID({ byKey: new OctetString(toArrayBuffer(keyId)) }),
    producedAt: now,
    responses,
    ...(params.nonce ? { responseExtensions: [params.nonce] } : {}),
  });
  const tbs = Buffer.from(AsnConvert.serialize(data));
  const { algorithm, hash } = signatureAlgorithm(params.signingKey);
  const signature = signWith(params.signingKey, hash, tbs);
  const basic = new BasicOCSPResponse({ tbsResponseData: data, signatureAlgorithm: algorithm, signature: toArrayBuffer(signature) });
  return encodeResponse(OCSPResponseStatus.successful, new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }));
}

export type OcspErrorStatus = 'malformedRequest' | 'internalError' | 'unauthorized';

/** An unsigned error response (RFC 6960 2.3). */
export function ocspErrorResponse(status: OcspErrorStatus): Uint8Array {
  return encodeResponse(OCSPResponseStatus[status]);
}

function encodeResponse(status: OCSPResponseStatus, responseBytes?: ResponseBytes): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(new OCSPResponse({ responseStatus: status, ...(responseBytes ? { responseBytes } : {}) })));
}

function signatureAlgorithm(key: SigningKey): { algorithm: AlgorithmIdentifier; hash: 'sha256' | 'sha384' } {
  if (key.spec.type === 'rsa') {
    return { algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: new Uint8Array([0x05, 0x00]).buffer }), hash: 'sha256' };
  }
  return key.spec.curve === 'P-384'
    ? { algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.3' }), hash: 'sha384' }
    : { algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), hash: 'sha256' };
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

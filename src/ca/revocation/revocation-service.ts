import { createOcspResponse, issuerHashes, ocspErrorResponse, parseOcspRequest, OcspRequestError, type OcspCertQuery, type OcspCertStatus } from '../../pki/ocsp.js';
import type { SigningKey } from '../../pki/keys.js';
import { readPemBlocks } from '../../pki/pem.js';
import type { CaStore } from '../../store/ca-store.js';
import { INTERMEDIATE_NAME, RECORDS_DIR, certPath, crlPath, recordPath } from '../../store/layout.js';
import { parseRecord } from '../../store/records.js';
import { loadConfig, loadSigningKey } from '../ca-files.js';
import { caKeyRole, type AskPassword } from '../passwords.js';
import { assertCaKey } from '../load-issuer.js';
import { CertifiedError, PasswordError } from '../errors.js';

/** What `certified serve` answers: CRLs as DER and OCSP (RFC 6960), from the CA directory as it is at each request. */

export interface ServiceRequest {
  method: string;
  /** The request target: path and query. */
  url: string;
  body: Uint8Array;
}

export interface ServiceAnswer {
  status: number;
  contentType: string;
  body: Uint8Array | string;
  cacheSeconds?: number;
  /** One line for the log: what was asked and answered. */
  summary: string;
}

interface OcspIssuer {
  name: string;
  pem: string;
  key: SigningKey;
  hashes: Map<string, { nameHash: string; keyHash: string }>;
}

export interface RevocationService {
  /** The CAs whose certificates get OCSP answers. */
  issuers: string[];
  /** CAs left out, with the reason (their key is offline or encrypted with another password). */
  skipped: { name: string; reason: string }[];
  ocspPath: string;
  handle(request: ServiceRequest): Promise<ServiceAnswer>;
}

/** An OCSP answer may be cached this long (nextUpdate); a revocation shows at the next fetch. */
export const OCSP_VALIDITY_MS = 3_600_000;
const NAME = /^[a-z0-9][a-z0-9._@-]{0,99}$/;

/**
 * Loads every CA key it can use. A key it cannot open is skipped (and listed), except the
 * intermediate's when its password is missing: then nothing useful could be served.
 */
export async function openRevocationService(store: CaStore, options: { askPassword: AskPassword }): Promise<RevocationService> {
  const config = await loadConfig(store);
  const ocspPath = config.ocspUrl ? new URL(config.ocspUrl).pathname : '/';
  const issuers: OcspIssuer[] = [];
  const skipped: RevocationService['skipped'] = [];
  // The intermediate before it issued anything has no records folder yet, but answers all the same.
  for (const name of new Set([INTERMEDIATE_NAME, ...(await store.list(RECORDS_DIR))])) {
    const pem = await store.readText(certPath(name));
    if (pem === undefined) continue;
    try {
      const key = await loadSigningKey(store, name, options.askPassword, caKeyRole(name));
      assertCaKey(name, pem, key);
      issuers.push({ name, pem, key, hashes: new Map() });
    } catch (error) {
      if (!(error instanceof CertifiedError)) throw error;
      if (error instanceof PasswordError && error.problem === 'missing' && name === INTERMEDIATE_NAME) throw error;
      // Answers signed by the wrong key would fail every client: refuse to serve rather than skip the intermediate.
      if (error.code === 'CA_KEY_MISMATCH' && name === INTERMEDIATE_NAME) throw error;
      skipped.push({ name, reason: error.message });
    }
  }
  if (!issuers.length) {
    // Say why with the intermediate's own key when that is what fails (usually a missing password).
    if (!skipped.some((entry) => entry.name === INTERMEDIATE_NAME)) await loadSigningKey(store, INTERMEDIATE_NAME, options.askPassword, 'ca');
    throw new PasswordError('no CA key is available to sign OCSP responses', undefined, { role: 'ca', problem: 'missing' });
  }
  return {
    issuers: issuers.map((issuer) => issuer.name),
    skipped,
    ocspPath,
    handle: (request) => handle(store, issuers, ocspPath, request),
  };
}

async function handle(store: CaStore, issuers: OcspIssuer[], ocspPath: string, request: ServiceRequest): Promise<ServiceAnswer> {
  const path = request.url.split('?')[0] ?? '/';
  // HEAD is answered as GET; the HTTP layer leaves the body out.
  if (request.method === 'HEAD') return handle(store, issuers, ocspPath, { ...request, method: 'GET' });
  if (request.method === 'GET' && path.startsWith('/crl/')) return serveCrl(store, path);
  if (request.method === 'POST') return answerOcsp(store, issuers, request.body, false);
  if (request.method === 'GET') {
    // GET <OCSP URL path>/<url-encoded base64>. Clients differ on the path they put before it (the
    // certificate's OCSP URL, an override in nginx), so try the part after each "/".
    const base = ocspPath.endsWith('/') ? ocspPath : `${ocspPath}/`;
    const candidates = [...(path.startsWith(base) ? [path.slice(base.length)] : []), ...[...path.matchAll(/\//g)].map((m) => path.slice((m.index ?? 0) + 1))];
    const requests = candidates.flatMap((encoded) => {
      try {
        const der = new Uint8Array(Buffer.from(decodeURIComponent(encoded), 'base64'));
        return der.length && isOcspRequest(der) ? [der] : [];
      } catch {
        return [];
      }
    });
    if (requests[0]) return answerOcsp(store, issuers, requests[0], true);
    if (path === '/' || path === ocspPath) return text(404, 'Not found: CRLs are at /crl/<issuer>.crl; OCSP takes POST or GET <base64>.', 'no such path');
    return malformed('the GET path holds no base64 OCSP request');
  }
  return text(405, 'Only GET, HEAD and POST are served.', `method ${request.method.slice(0, 10)} refused`);
}

async function serveCrl(store: CaStore, path: string): Promise<ServiceAnswer> {
  const match = /^\/crl\/(.+)\.crl$/.exec(path);
  const name = match?.[1] ?? '';
  if (!NAME.test(name) || name.includes('..')) return text(404, 'No such CRL.', 'no such CRL');
  const pem = await store.readText(crlPath(name));
  const block = pem === undefined ? undefined : readPemBlocks(pem).find((candidate) => candidate.label === 'X509 CRL');
  if (!block) return text(404, 'No such CRL.', `no CRL for "${name}"`);
  return { status: 200, contentType: 'application/pkix-crl', body: block.der, cacheSeconds: 300, summary: `CRL of ${name}` };
}

async function answerOcsp(store: CaStore, issuers: OcspIssuer[], der: Uint8Array, cacheable: boolean): Promise<ServiceAnswer> {
  let parsed;
  try {
    parsed = parseOcspRequest(der);
  } catch (error) {
    if (error instanceof OcspRequestError) return malformed(error.message);
    throw error;
  }
  const [first] = parsed.queries;
  const issuer = first ? findIssuer(issuers, first) : undefined;
  if (!issuer || parsed.queries.some((query) => findIssuer(issuers, query) !== issuer)) {
    return { status: 200, contentType: 'application/ocsp-response', body: ocspErrorResponse('unauthorized'), summary: 'OCSP unauthorized: not an issuer served here' };
  }
  let answers;
  try {
    answers = await Promise.all(parsed.queries.map(async (query) => ({ query, status: await statusOf(store, issuer.name, query.serial) })));
  } catch (error) {
    // A record that cannot be read or parsed: say so the OCSP way (RFC 6960 internalError), not with an HTTP error.
    const why = (error as Error).message.split('\n')[0]?.slice(0, 160) ?? '';
    return { status: 200, contentType: 'application/ocsp-response', body: ocspErrorResponse('internalError'), summary: `OCSP internal error: a record of "${issuer.name}" is unreadable: ${why}` };
  }
  const body = createOcspResponse({
    issuerPem: issuer.pem,
    signingKey: issuer.key,
    answers,
    ...(parsed.nonce ? { nonce: parsed.nonce } : {}),
    now: new Date(),
    validForMs: OCSP_VALIDITY_MS,
  });
  return {
    status: 200,
    contentType: 'application/ocsp-response',
    body,
    // A response with a nonce answers one request only.
    ...(cacheable && !parsed.nonce ? { cacheSeconds: OCSP_VALIDITY_MS / 1000 } : {}),
    summary: `OCSP ${issuer.name} ${answers.map((answer) => `${answer.query.serial} ${answer.status.status}`).join(', ')}`,
  };
}

function isOcspRequest(der: Uint8Array): boolean {
  try {
    parseOcspRequest(der);
    return true;
  } catch {
    return false;
  }
}

function findIssuer(issuers: OcspIssuer[], query: OcspCertQuery): OcspIssuer | undefined {
  const hash = query.hash;
  if (!hash) return undefined;
  return issuers.find((issuer) => {
    let hashes = issuer.hashes.get(hash);
    if (!hashes) {
      hashes = issuerHashes(issuer.pem, hash);
      issuer.hashes.set(hash, hashes);
    }
    return hashes.nameHash === query.issuerNameHash && hashes.keyHash === query.issuerKeyHash;
  });
}

/** From the record of the serial, read at each request so that a revocation shows at once. */
async function statusOf(store: CaStore, issuer: string, serial: string): Promise<OcspCertStatus> {
  if (!/^[0-9a-f]{1,40}$/.test(serial)) return { status: 'unknown' };
  const text = await store.readText(recordPath(issuer, serial));
  if (text === undefined) return { status: 'unknown' };
  const record = parseRecord(text);
  if (record === null || typeof record !== 'object' || (record.status !== 'revoked' && record.status !== 'valid')) {
    throw new Error(`"${recordPath(issuer, serial)}" holds no certificate status`);
  }
  if (record.status === 'revoked') {
    return { status: 'revoked', revokedAt: new Date(record.revocation?.date ?? record.notBefore), reason: record.revocation?.reason ?? 'unspecified' };
  }
  return { status: 'good' };
}

function malformed(reason: string): ServiceAnswer {
  return { status: 400, contentType: 'application/ocsp-response', body: ocspErrorResponse('malformedRequest'), summary: `bad OCSP request: ${reason.slice(0, 80)}` };
}

function text(status: number, body: string, summary: string): ServiceAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${body}\n`, summary };
}

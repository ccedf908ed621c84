/** Certificate download, revokeCert (RFC 8555 §7.4.2, §7.6) and renewalInfo (RFC 9773). */
import { acmeCertificateChain, findAcmeRecord, revocationReason, revokeAcmeCertificate } from '../../ca/acme/issue.js';
import { AcmeProblem } from '../../ca/acme/types.js';
import { parseCertificate } from '../../pki/certificate.js';
import { JwsError, ariCertId, certificateKeyObject, fromBase64url, jwkThumbprint, parseAriCertId } from '../../pki/jws.js';
import { isObject, verifyRequest, type AcmeContext } from './context.js';
import type { Reply } from './http.js';

/** A client should ask again for renewal information after this long (RFC 9773 §4.3). */
const ARI_RETRY_SECONDS = '21600';

export async function certificateResource(ctx: AcmeContext, body: Buffer, requestUrl: string, serial: string): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'kid');
  // Most downloads follow their finalize at once: the chain is still in memory.
  const issued = await ctx.view.issuedChain(serial);
  if (issued && issued.account === request.account?.id) return { status: 200, text: issued.chainPem, contentType: 'application/pem-certificate-chain' };
  const record = await findAcmeRecord(ctx.store, serial);
  if (!record || record.acme?.account !== request.account?.id) throw new AcmeProblem('malformed', 'there is no such certificate for this account', 404);
  const chain = await acmeCertificateChain(ctx.store, serial);
  if (chain === undefined) throw new AcmeProblem('serverInternal', 'the certificate file is missing from the CA directory', 500);
  return { status: 200, text: chain, contentType: 'application/pem-certificate-chain' };
}

export async function revokeCert(ctx: AcmeContext, body: Buffer, requestUrl: string): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'either');
  const payload = request.payload;
  if (!isObject(payload) || typeof payload.certificate !== 'string') throw new AcmeProblem('malformed', 'revokeCert needs a "certificate" (base64url DER)');
  let der: Uint8Array;
  let serial: string;
  let fingerprint: string;
  try {
    der = fromBase64url(payload.certificate, 'the certificate');
    ({ serial, fingerprint } = parseCertificate(der));
  } catch (error) {
    if (error instanceof JwsError || error instanceof Error) throw new AcmeProblem('malformed', 'the certificate cannot be decoded');
    throw error;
  }
  const reason = revocationReason(payload.reason);
  const record = await findAcmeRecord(ctx.store, serial);
  if (!record || record.fingerprint !== fingerprint) throw new AcmeProblem('malformed', 'this certificate was not issued by this ACME server', 404);
  if (request.account) {
    // RFC 8555 §7.6: the ordering account, or one holding valid authorizations for every name of the certificate.
    if (record.acme?.account !== request.account.id && !holdsAuthorizations(ctx, request.account.id, record.sans)) {
      throw new AcmeProblem('unauthorized', 'the account neither ordered this certificate nor holds valid authorizations for all its names', 403);
    }
  } else {
    const certificateKey = certificateKeyObject(der);
    if (!certificateKey || jwkThumbprint(certificateKey) !== jwkThumbprint(request.key)) throw new AcmeProblem('unauthorized', "the request is signed neither by the ordering account nor by the certificate's key", 403);
  }
  if (record.status === 'revoked') throw new AcmeProblem('alreadyRevoked', `the certificate (serial ${serial}) is already revoked`);
  const { commit } = await revokeAcmeCertificate(ctx.store, { serial, reason, askPassword: ctx.askPassword, commandLine: ctx.commandLine });
  ctx.log(`ACME revoked ${record.name} (${reason}, commit ${commit.slice(0, 12)})`);
  return { status: 200 };
}

/** Whether `account` holds a valid, unexpired authorization for each of `sans` (as records spell them: "DNS:name", "IP Address:ip"). */
function holdsAuthorizations(ctx: AcmeContext, account: string, sans: string[]): boolean {
  const now = Date.now();
  const held = new Set<string>();
  for (const authz of ctx.authorizations.values()) {
    if (authz.account !== account || authz.status !== 'valid' || authz.expires.getTime() <= now) continue;
    held.add(`${authz.identifier.type}:${authz.wildcard ? '*.' : ''}${authz.identifier.value}`);
  }
  return sans.length > 0 && sans.every((san) => {
    const colon = san.indexOf(':');
    const label = san.slice(0, colon);
    const type = label === 'DNS' ? 'dns' : label === 'IP Address' ? 'ip' : undefined;
    return type !== undefined && held.has(`${type}:${san.slice(colon + 1)}`);
  });
}

/** GET renewalInfo/<cert id>: the suggested window is the last third of the lifetime (now, once revoked). */
export async function renewalInfo(ctx: AcmeContext, id: string): Promise<Reply> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(id);
  } catch {
    throw new AcmeProblem('malformed', 'the renewalInfo path is not valid percent-encoding');
  }
  const parsed = parseAriCertId(decoded);
  if (!parsed) throw new AcmeProblem('malformed', 'the renewalInfo path must be base64url(AKI keyIdentifier).base64url(serial)');
  const record = await findAcmeRecord(ctx.store, parsed.serial);
  if (!record || !record.authorityKeyId || ariCertId(record.authorityKeyId, record.serial) !== ariCertId(parsed.authorityKeyId, parsed.serial)) {
    throw new AcmeProblem('malformed', 'there is no certificate with this id', 404);
  }
  const notBefore = Date.parse(record.notBefore);
  const notAfter = Date.parse(record.notAfter);
  const now = Date.now();
  const window =
    record.status === 'revoked'
      ? { start: new Date(now - 3_600_000).toISOString(), end: new Date(now).toISOString() }
      : { start: new Date(notBefore + ((notAfter - notBefore) * 2) / 3).toISOString(), end: new Date(notAfter).toISOString() };
  return { status: 200, body: { suggestedWindow: window }, headers: { 'Retry-After': ARI_RETRY_SECONDS } };
}

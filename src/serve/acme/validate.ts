import { AcmeProblem, type AcmeIdentifier, type ChallengeType, type ValidationTargets } from '../../ca/acme/types.js';
import { normalizeIp } from '../../ca/address-forms.js';
import { CertifiedError, InvalidInputError } from '../../ca/errors.js';
import { normalizeDnsName } from '../../ca/names.js';
import { deadlineIn, shown } from './validation/deadline.js';
import { validateDns01 } from './validation/dns-01.js';
import { validateHttp01 } from './validation/http-01.js';
import { validateTlsAlpn01 } from './validation/tls-alpn-01.js';

/**
 * The three ACME challenge validations. Each attempt is bounded by targets.timeoutMs and ends in
 * nothing (valid) or an AcmeProblem: connection, dns, tls, incorrectResponse or unauthorized
 * (malformed for an identifier or token the server should never have made, serverInternal for a
 * bug).
 */
export async function validateChallenge(
  type: ChallengeType,
  identifier: AcmeIdentifier,
  token: string,
  keyAuthorization: string,
  targets: ValidationTargets,
): Promise<void> {
  try {
    const deadline = deadlineIn(targets.timeoutMs);
    // A token is base64url (RFC 8555 8): anything else would change the path requested.
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(token)) throw new AcmeProblem('malformed', 'the challenge token is not base64url');
    const canonical = canonicalIdentifier(identifier);
    if (type === 'dns-01') return await validateDns01(canonical, keyAuthorization, targets, deadline);
    // RFC 8555 7.1.3: a wildcard is proven through DNS only.
    if (canonical.value.startsWith('*.')) throw new AcmeProblem('unauthorized', `${type} cannot validate the wildcard "${shown(canonical.value)}"; use dns-01`);
    if (type === 'http-01') return await validateHttp01(canonical.value, token, keyAuthorization, targets, deadline);
    if (type === 'tls-alpn-01') return await validateTlsAlpn01(canonical, keyAuthorization, targets, deadline);
    throw new AcmeProblem('malformed', `"${shown(String(type))}" is not a challenge type`);
  } catch (error) {
    if (error instanceof AcmeProblem) throw error;
    if (error instanceof CertifiedError) throw new AcmeProblem('malformed', error.message);
    // The exception's text is for the server's log (the caller logs the cause), not for the client.
    const problem = new AcmeProblem('serverInternal', `the ${shown(String(type))} validation failed unexpectedly; the server's log says why`, 500);
    problem.cause = error;
    throw problem;
  }
}

function canonicalIdentifier(identifier: AcmeIdentifier): AcmeIdentifier {
  if (identifier.type === 'ip') return { type: 'ip', value: normalizeIp(identifier.value) };
  if (identifier.type === 'dns') return { type: 'dns', value: normalizeDnsName(identifier.value) };
  throw new AcmeProblem('malformed', `"${shown(String((identifier as { type: unknown }).type))}" is not an identifier type`);
}

/**
 * One NAME=IP rule pinning where validations of NAME connect: NAME a DNS name or "*." and a name
 * (every name below it), IP in any form an address may take. Throws InvalidInputError.
 */
export function parseResolveRule(text: string): { pattern: string; address: string } {
  const hint = 'Write it as NAME=IP, like host.example.test=10.0.0.5 or *.example.test=127.0.0.1.';
  const equals = text.indexOf('=');
  if (equals < 0) throw new InvalidInputError(`"${shown(text)}" is not a NAME=IP rule: it has no "="`, hint);
  const name = text.slice(0, equals).trim();
  const ip = text.slice(equals + 1).trim();
  if (name === '' || ip === '') throw new InvalidInputError(`"${shown(text)}" is not a NAME=IP rule: the ${name === '' ? 'name' : 'IP address'} is missing`, hint);
  let pattern: string;
  let address: string;
  try {
    pattern = normalizeDnsName(name);
    address = normalizeIp(ip);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(`"${shown(text)}" is not a NAME=IP rule: ${error.message}`, hint);
    throw error;
  }
  return { pattern, address };
}

import { AcmeProblem, type AcmeIdentifier, type ValidationTargets } from '../../../ca/acme/types.js';
import { dnsChallengeValue } from '../../../pki/acme-challenge.js';
import type { Deadline } from './deadline.js';
import { txtRecordsOf } from './resolve.js';

/**
 * dns-01 (RFC 8555 8.4): one TXT record of _acme-challenge.NAME (a wildcard's name without its
 * "*.") is base64url(SHA-256(key authorization)). Not for IP addresses (RFC 8738 7).
 */
export async function validateDns01(identifier: AcmeIdentifier, keyAuthorization: string, targets: ValidationTargets, deadline: Deadline): Promise<void> {
  if (identifier.type === 'ip') throw new AcmeProblem('unauthorized', 'dns-01 cannot validate an IP address; use http-01 or tls-alpn-01');
  const name = `_acme-challenge.${identifier.value.replace(/^\*\./, '')}`;
  const records = await txtRecordsOf(name, targets, deadline);
  if (records.length === 0) throw new AcmeProblem('incorrectResponse', `there is no TXT record at "${name}"`);
  const expected = dnsChallengeValue(keyAuthorization);
  if (!records.includes(expected)) {
    throw new AcmeProblem('incorrectResponse', `none of the ${records.length} TXT record${records.length === 1 ? '' : 's'} at "${name}" is the digest of the key authorization`);
  }
}

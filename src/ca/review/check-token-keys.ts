import type { CheckedView } from './check-certificates.js';
import { certificateMatchesKey } from '../../pki/keys.js';
import { CONFIG_FILE, certPath } from '../../store/layout.js';
import type { CaConfig } from '../config.js';
import { CertifiedError } from '../errors.js';
import { lostCaKey } from '../load-issuer.js';
import type { AskPassword } from '../passwords.js';
import { finding, type Finding } from './check-findings.js';

/** How a CA key on a token compared with the CA certificate: checked, or why it could not be. */
export interface TokenKeyCheck {
  name: string;
  uri: string;
  /** unchecked: the token could not be reached; unusable: the token lacks the key or refuses it (a finding, as a mismatch is). */
  result: 'match' | 'mismatch' | 'unusable' | 'unchecked';
  /** Why the key could not be compared or used. */
  reason?: string;
}

/**
 * Each CA key certified.json puts on a PKCS#11 token, opened when the token can be reached (its
 * module found, the PIN given: check never prompts) and compared with the CA's certificate: a key
 * that is not the CA's, or that the token no longer holds, is a finding; a token that cannot be
 * reached is reported as not checked, never as a failure. CAs without a certificate (a revoked
 * intermediate not yet replaced) are left out.
 */
export async function checkTokenKeys(config: CaConfig, certificates: Map<string, CheckedView>, askPassword: AskPassword): Promise<{ findings: Finding[]; tokenKeys: TokenKeyCheck[] }> {
  const findings: Finding[] = [];
  const tokenKeys: TokenKeyCheck[] = [];
  const records = Object.entries(config.tokenKeys ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (records.length === 0) return { findings, tokenKeys };
  const { isUnreachableTokenKey, openTokenCaKey } = await import('../token-keys.js');
  for (const [name, record] of records) {
    const certificate = certificates.get(name);
    if (!certificate) continue;
    const where = `the key of "${name}" on the PKCS#11 token (${record.uri})`;
    let key;
    try {
      key = await openTokenCaKey(name, record, askPassword);
    } catch (error) {
      if (!(error instanceof CertifiedError)) throw error;
      const cause = error.cause instanceof Error ? error.cause.message : error.message;
      const wrongPin = (error.cause as { problem?: string } | undefined)?.problem === 'pin';
      if (wrongPin || isUnreachableTokenKey(error)) {
        tokenKeys.push({ name, uri: record.uri, result: 'unchecked', reason: cause });
      } else {
        tokenKeys.push({ name, uri: record.uri, result: 'unusable', reason: cause });
        findings.push(finding(CONFIG_FILE, 'token-key', [`${where} cannot be used (${cause}), so the CA cannot sign: point its URI at the CA's own key; `, ...lostCaKey(name)]));
      }
      continue;
    }
    const matches = certificateMatchesKey(certificate.pem, key);
    tokenKeys.push({ name, uri: record.uri, result: matches ? 'match' : 'mismatch' });
    if (!matches) {
      findings.push(finding(CONFIG_FILE, 'key-mismatch', [`${where} is not the key of the CA in "${certPath(name)}", so the CA cannot sign with it: point its URI at the CA's own key; `, ...lostCaKey(name)]));
    }
  }
  return { findings, tokenKeys };
}

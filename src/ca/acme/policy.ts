/**
 * The ACME policy (certificates.yaml, section acme:) and which identifiers it allows.
 * A minimal stand-in so that the server runs: the POLICY engineer's version replaces this file.
 */
import { BlockList, isIP } from 'node:net';
import type { CaStore } from '../../store/ca-store.js';
import { certPath, chainPath, keyPath } from '../../store/layout.js';
import { loadCertificate } from '../ca-files.js';
import { CertifiedError } from '../errors.js';
import { issueCertificate } from '../issuing/issue-certificate.js';
import { renewCertificate } from '../issuing/renew-certificate.js';
import { MANIFEST_FILE } from '../manifest/manifest.js';
import { parseSan } from '../names.js';
import type { AskPassword } from '../passwords.js';
import { AcmeProblem, CHALLENGE_TYPES, type AcmeIdentifier, type AcmePolicy, type ChallengeType } from './types.js';

const HINT = 'Add an "acme:" section with "allow:" to certificates.yaml, like acme: { allow: [.internal.example.com] }.';

export async function readAcmePolicy(store: CaStore): Promise<AcmePolicy> {
  const text = await store.readText(MANIFEST_FILE);
  if (text === undefined) throw new CertifiedError(`there is no ${MANIFEST_FILE}, so there is no ACME policy`, { code: 'NO_ACME_POLICY', hint: HINT });
  const loaded = await import('yaml');
  const yaml = ((loaded as unknown as { default?: typeof loaded }).default ?? loaded) as typeof loaded;
  const doc = yaml.parse(text) as Record<string, unknown> | null;
  const acme = doc?.acme as Record<string, unknown> | undefined;
  if (!acme || typeof acme !== 'object') throw new CertifiedError(`${MANIFEST_FILE} has no "acme:" section`, { code: 'NO_ACME_POLICY', hint: HINT });
  const allow = acme.allow;
  if (!Array.isArray(allow) || !allow.length || allow.some((entry) => typeof entry !== 'string')) {
    throw new CertifiedError(`"acme.allow" in ${MANIFEST_FILE} must be a list of names and IP ranges`, { code: 'BAD_ACME_POLICY', hint: HINT });
  }
  const days = acme.days === undefined ? 30 : Number(acme.days);
  const challenges = (acme.challenges === undefined ? [...CHALLENGE_TYPES] : acme.challenges) as ChallengeType[];
  if (!Number.isInteger(days) || days < 1 || !Array.isArray(challenges) || challenges.some((type) => !CHALLENGE_TYPES.includes(type))) {
    throw new CertifiedError(`"acme" in ${MANIFEST_FILE} is invalid`, { code: 'BAD_ACME_POLICY', hint: HINT });
  }
  return { allow: allow as string[], days, challenges, eab: acme.eab === true };
}

export async function identifierProblem(_store: CaStore, policy: AcmePolicy, identifier: AcmeIdentifier): Promise<AcmeProblem | undefined> {
  const refuse = (why: string) => new AcmeProblem('rejectedIdentifier', `${identifier.type} identifier "${identifier.value.slice(0, 80)}" ${why}`, 400, [{ type: 'rejectedIdentifier', detail: why, identifier }]);
  try {
    const san = parseSan(`${identifier.type === 'ip' ? 'IP' : 'DNS'}:${identifier.value}`);
    if (identifier.type === 'ip') {
      const family = isIP(san.value) === 6 ? 'ipv6' : 'ipv4';
      const allowed = policy.allow.some((entry) => {
        const [base, bits] = entry.split('/');
        if (!base || !isIP(base)) return false;
        const list = new BlockList();
        const entryFamily = isIP(base) === 6 ? 'ipv6' : 'ipv4';
        if (bits === undefined) list.addAddress(base, entryFamily);
        else list.addSubnet(base, Number(bits), entryFamily);
        return list.check(san.value, family);
      });
      return allowed ? undefined : refuse('is not allowed by the ACME policy');
    }
    const name = san.value.replace(/^\*\./, '');
    const allowed = policy.allow.some((entry) => (entry.startsWith('.') ? name.endsWith(entry.toLowerCase()) && name.length > entry.length : name === entry.toLowerCase()));
    return allowed ? undefined : refuse('is not allowed by the ACME policy');
  } catch (error) {
    if (error instanceof CertifiedError) return refuse(`is not a valid name: ${error.message}`);
    throw error;
  }
}

/** The server's own HTTPS certificate for `name`: issued once, renewed when a third of its life is left. */
export async function acmeServerCertificate(store: CaStore, name: string, issuerKey: AskPassword, now: Date): Promise<{ chainPem: string; keyPem: string; notBefore: Date; notAfter: Date }> {
  const fileName = 'acme-server';
  const current = await loadCertificate(store, fileName);
  const covers = current?.sans.some((san) => san.value === name.toLowerCase()) ?? false;
  const fresh = current && current.notAfter.getTime() - now.getTime() > (current.notAfter.getTime() - current.notBefore.getTime()) / 3;
  const commandLine = `certified serve (ACME server certificate for ${name})`;
  if (!current) {
    await issueCertificate(store, { name: fileName, subject: { CN: name }, sans: [parseSan(name)], profile: 'server', key: { type: 'ecdsa', curve: 'P-256' }, days: 30, askPassword: issuerKey, commandLine, now });
  } else if (!covers || !fresh) {
    await renewCertificate(store, { name: fileName, days: 30, askPassword: issuerKey, commandLine, now });
  }
  const certificate = await loadCertificate(store, fileName);
  const chainPem = await store.readText(chainPath(fileName));
  const keyPem = await store.readText(keyPath(fileName));
  if (!certificate || chainPem === undefined || keyPem === undefined) throw new CertifiedError(`the ACME server certificate "${certPath(fileName)}" could not be read`, { code: 'ACME_SERVER_CERT' });
  return { chainPem, keyPem, notBefore: certificate.notBefore, notAfter: certificate.notAfter };
}

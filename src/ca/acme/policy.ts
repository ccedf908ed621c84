import { compareKeyWithCertificate } from '../../pki/keys.js';
import type { SubjectAltName } from '../../pki/types.js';
import type { CaStore } from '../../store/ca-store.js';
import { INTERMEDIATE_NAME, chainPath, keyPath } from '../../store/layout.js';
import { normalizeIp } from '../address-forms.js';
import { assertNamesPermitted, chainNameConstraints } from '../authorities/name-constraints.js';
import { loadCertificate, loadChainPem } from '../ca-files.js';
import { CertifiedError, InvalidInputError } from '../errors.js';
import { findRecord } from '../find-record.js';
import { issueCertificate } from '../issuing/issue-certificate.js';
import { renewCertificate } from '../issuing/renew-certificate.js';
import { issuedByCurrentCa } from '../load-issuer.js';
import { MANIFEST_FILE, parseManifest } from '../manifest/manifest.js';
import { normalizeDnsName, parseSan, printable } from '../names.js';
import type { AskPassword } from '../passwords.js';
import { DEFAULT_LEAF_KEY } from '../profiles.js';
import { PLAIN } from '../text.js';
import { allowListCovers } from './allow-list.js';
import { AcmeProblem, type AcmeIdentifier, type AcmePolicy } from './types.js';

/** The certificate the ACME server answers HTTPS with: certs/acme-server.crt, private/acme-server.key. */
export const ACME_SERVER_NAME = 'acme-server';
export const ACME_SERVER_DAYS = 90;
/** A DNS name is at most 253 characters (255 with "*."); anything longer is refused before it is looked at. */
const MAX_IDENTIFIER_LENGTH = 255;

/**
 * The policy of the `acme:` section of certificates.yaml as committed (HEAD, or `commit`): a policy
 * is reviewed, so an edit takes effect once it is committed. Refuses to go on without one.
 */
export async function readAcmePolicy(store: CaStore, commit?: string): Promise<AcmePolicy> {
  const head = commit ?? (await store.headCommit());
  const text = head === undefined ? undefined : await store.readCommittedText(MANIFEST_FILE, head);
  if (text === undefined) {
    const uncommitted = await store.exists(MANIFEST_FILE);
    throw new NoAcmePolicyError(uncommitted ? `${MANIFEST_FILE} is not committed yet` : `there is no ${MANIFEST_FILE} in "${store.dir}"`);
  }
  const manifest = await parseManifest(text);
  if (!manifest.acme) throw new NoAcmePolicyError(`the committed ${MANIFEST_FILE} has none`);
  return manifest.acme;
}

export class NoAcmePolicyError extends CertifiedError {
  constructor(why: string) {
    super(['serve ', { option: 'acmeListen' }, ` needs an acme: section in ${MANIFEST_FILE} (${why})`], {
      code: 'NO_ACME_POLICY',
      hint: `Add one that says which names ACME clients may get, like "acme: { allow: [.internal.example.com, 10.0.0.0/8] }", commit it, and start the server again.`,
    });
  }
}

/**
 * Why the CA will not certify `identifier` for an ACME client, or undefined: a DNS name must be
 * lower-case ASCII (punycode) and pass the checks of a `+name` (a wildcard only as "*." and a
 * name), an IP address must be in its canonical text; either must be covered by the policy's
 * allow list and by the name constraints of the intermediate and the CAs above it.
 */
export async function identifierProblem(store: CaStore, policy: AcmePolicy, identifier: AcmeIdentifier): Promise<AcmeProblem | undefined> {
  const value: unknown = identifier.value;
  if (typeof value !== 'string' || value === '') return rejectedIdentifier('the identifier has no value');
  if (value.length > MAX_IDENTIFIER_LENGTH) return rejectedIdentifier(`the identifier "${printable(value)}" is over ${MAX_IDENTIFIER_LENGTH} characters`);
  const rejected = (detail: string) => rejectedIdentifier(detail, { type: identifier.type, value });
  let san: SubjectAltName;
  if (identifier.type === 'dns') {
    const problem = dnsProblem(value);
    if (problem) return rejected(problem);
    san = { type: 'dns', value };
  } else if (identifier.type === 'ip') {
    const problem = ipProblem(value);
    if (problem) return rejected(problem);
    san = { type: 'ip', value };
  } else {
    return rejected(`the identifier type "${printable(String(identifier.type))}" is not one this CA issues for (dns, ip)`);
  }
  if (!allowListCovers(policy.allow, { type: identifier.type, value })) {
    // The allow list itself is not shown: it maps the internal network to whoever asks.
    return rejected(`"${printable(value)}" is not allowed by the ACME policy of this CA`);
  }
  try {
    assertNamesPermitted([san], chainNameConstraints(await loadChainPem(store, INTERMEDIATE_NAME)));
  } catch (error) {
    if (error instanceof InvalidInputError) return rejected(error.renderMessage(PLAIN));
    throw error;
  }
  return undefined;
}

/** A rejectedIdentifier problem; with the identifier (once it is known to be a bounded string) as its one subproblem, as RFC 8555 6.7.1 has it. */
function rejectedIdentifier(detail: string, identifier?: AcmeIdentifier): AcmeProblem {
  return new AcmeProblem('rejectedIdentifier', detail, 400, identifier ? [{ type: 'rejectedIdentifier', detail, identifier }] : undefined);
}

function dnsProblem(value: string): string | undefined {
  if (value !== value.toLowerCase()) return `the DNS name "${printable(value)}" is not in lower case`;
  let normalized: string;
  try {
    normalized = normalizeDnsName(value);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.renderMessage(PLAIN);
    throw error;
  }
  if (normalized !== value) return `the DNS name "${printable(value)}" is not in ASCII: ask for "${normalized}"`;
  return undefined;
}

function ipProblem(value: string): string | undefined {
  let normalized: string;
  try {
    normalized = normalizeIp(value);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.renderMessage(PLAIN);
    throw error;
  }
  if (normalized !== value) return `the IP address "${printable(value)}" is not in its canonical form: ask for "${normalized}"`;
  return undefined;
}

export interface AcmeServerCertificateParams {
  /** The host name or IP address clients reach the server at. */
  name: string;
  /** Asked for the intermediate's key only when it is encrypted. */
  askPassword: AskPassword;
  now: Date;
  commandLine: string;
}

export interface AcmeServerCertificateResult {
  keyPem: string;
  /** The certificate, then the intermediate (no root). */
  chainPem: string;
  notBefore: Date;
  notAfter: Date;
  /** Whether a certificate was issued (and committed) now, rather than the one there reused. */
  issued: boolean;
}

/**
 * The HTTPS certificate of the ACME server for `name`, from the intermediate (server profile, 90
 * days): the one at certs/acme-server.crt while it names `name`, has its key here, comes from
 * the current intermediate and has more than a third of its lifetime left; else a new one, the
 * old one revoked as superseded, in one commit. The key is not encrypted, so git ignores it.
 */
export async function acmeServerCertificate(store: CaStore, params: AcmeServerCertificateParams): Promise<AcmeServerCertificateResult> {
  const san = serverName(params.name);
  const current = await loadCertificate(store, ACME_SERVER_NAME);
  if (current) {
    const record = await findRecord(store, current.serial);
    const keyPem = await store.readText(keyPath(ACME_SERVER_NAME));
    const chainPem = await store.readText(chainPath(ACME_SERVER_NAME));
    const lifetime = current.notAfter.getTime() - current.notBefore.getTime();
    const fresh = current.notAfter.getTime() - params.now.getTime() > lifetime / 3 && current.notBefore.getTime() <= params.now.getTime();
    const reusable =
      fresh &&
      record?.status === 'valid' &&
      record.profile === 'server' &&
      current.sans.length === 1 &&
      current.sans[0]?.type === san.type &&
      current.sans[0]?.value === san.value &&
      keyPem !== undefined &&
      chainPem !== undefined &&
      // Its chain as the intermediate's is now: after a root rotation, through the new root.
      chainPem === current.pem + (await loadChainPem(store, record.issuer)) &&
      compareKeyWithCertificate(keyPem, current).result === 'match' &&
      (await issuedByCurrentCa(store, record));
    if (reusable) return { keyPem, chainPem, notBefore: current.notBefore, notAfter: current.notAfter, issued: false };
  }
  const base = { askPassword: params.askPassword, commandLine: params.commandLine, now: params.now, days: ACME_SERVER_DAYS };
  const subject = { CN: san.value };
  const result = current
    ? await renewCertificate(store, { ...base, name: ACME_SERVER_NAME, issuer: INTERMEDIATE_NAME, names: { subject, sans: [san] } })
    : await issueCertificate(store, {
        ...base,
        name: ACME_SERVER_NAME,
        issuer: INTERMEDIATE_NAME,
        subject,
        sans: [san],
        profile: 'server',
        key: DEFAULT_LEAF_KEY,
      });
  const keyPem = await store.readText(keyPath(ACME_SERVER_NAME));
  if (keyPem === undefined) throw new CertifiedError(`the key of "${ACME_SERVER_NAME}" is missing right after it was made`, { code: 'NO_KEY', hint: 'Run the command again.' });
  return { keyPem, chainPem: result.chainPem, notBefore: result.certificate.notBefore, notAfter: result.certificate.notAfter, issued: true };
}

/** The server's host name or address as its certificate names it. */
function serverName(name: string): SubjectAltName {
  let san: SubjectAltName | undefined;
  try {
    san = parseSan(name);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
  }
  if ((san?.type !== 'dns' && san?.type !== 'ip') || san.value.startsWith('*')) {
    throw new InvalidInputError(`the ACME server's name "${printable(name)}" is not a host name or an IP address`, 'Give the name clients reach it at, like acme.internal.example.com or 10.0.0.5.');
  }
  return san;
}

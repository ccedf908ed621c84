import { UnsupportedCsrKeyError, parseCsr, type CsrInfo } from '../../pki/csr.js';
import { describeKey } from '../../pki/keys.js';
import { readPemBlocks } from '../../pki/pem.js';
import type { CaStore } from '../../store/ca-store.js';
import { CertifiedError, InvalidInputError } from '../errors.js';
import { issueCertificate, type IssueCertificateParams, type IssueCertificateResult } from './issue-certificate.js';
import type { DistinguishedName, SubjectAltName } from '../../pki/types.js';
import { deriveName, printable, subjectAltNames, validateDn } from '../names.js';
import type { LeafProfile } from '../profiles.js';
import type { AskPassword } from '../passwords.js';

const MIN_RSA_BITS = 2048;
const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];
const SUPPORTED_KEYS = `RSA of ${MIN_RSA_BITS} bits or more, ECDSA P-256 and P-384`;
const CSR_KEY_HINT = 'Ask for a CSR with an RSA 2048+ or ECDSA P-256/P-384 key.';

export interface SignCsrParams {
  /** The CSR file's bytes (PEM or DER), as read by the caller. */
  input: Uint8Array;
  /** How to name the file in messages. */
  source: string;
  name?: string;
  profile: LeafProfile;
  days: number;
  askPassword: AskPassword;
  /** The issuing CA by file name or CN; default: the intermediate. */
  issuer?: string;
  commandLine: string;
  now?: Date;
}

export type SignCsrResult = IssueCertificateResult & { csr: CsrInfo; keyName: string };

function badCsr(source: string, why: string, cause?: unknown): CertifiedError {
  return new CertifiedError(`"${printable(source)}" is not a usable certificate signing request: ${why}`, {
    code: 'BAD_CSR',
    hint: 'Give a PKCS#10 CSR in PEM or DER, like one from "openssl req -new".',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Reads and checks a CSR made elsewhere: its structure, its own signature, and its key. */
export async function readCsr(input: Uint8Array, source: string): Promise<CsrInfo> {
  const text = Buffer.from(input).toString('latin1');
  let der = input;
  if (text.includes('-----BEGIN')) {
    const blocks = readPemBlocks(text).filter((candidate) => CSR_LABELS.includes(candidate.label));
    const block = blocks[0];
    if (!block) throw badCsr(source, 'no complete "CERTIFICATE REQUEST" PEM block (is it truncated?)');
    // Which of several was meant is not for certified to guess.
    if (blocks.length > 1) throw badCsr(source, `it holds ${blocks.length} requests, not one`);
    der = block.der;
  }
  let csr: CsrInfo;
  try {
    csr = await parseCsr(der);
  } catch (error) {
    if (error instanceof UnsupportedCsrKeyError) {
      throw new InvalidInputError(`the CSR's key is ${error.keyName}, which certified does not sign (supported: ${SUPPORTED_KEYS})`, ['Nothing was written. ', CSR_KEY_HINT]);
    }
    throw badCsr(source, 'it cannot be decoded as PKCS#10', error);
  }
  if (!csr.signatureValid) throw badCsr(source, 'its signature does not match its key (it was altered or damaged)');
  if (csr.key.type === 'rsa' && csr.key.bits < MIN_RSA_BITS) {
    throw new InvalidInputError(`the CSR's key is RSA ${csr.key.bits}, below the minimum of ${MIN_RSA_BITS} bits`, CSR_KEY_HINT);
  }
  return csr;
}

/**
 * The names a CSR asks for, checked like `+name` arguments (the one rule for every CSR this CA
 * signs): its subject, and its SANs, led by the SAN its CN stands for when the CN is host-shaped.
 * Throws InvalidInputError.
 */
export function csrNames(csr: CsrInfo, { requireCn = true } = {}): { subject: DistinguishedName; sans: SubjectAltName[] } {
  const subject = validateDn(csr.subject, { requireCn });
  return { subject, sans: subjectAltNames(subject.CN, csr.sans.map(formatRequested)) };
}

/**
 * Signs a CSR made elsewhere (the key never exists here): its CN and SANs pass the same checks as
 * ours, the profile is ours (its other requested extensions are ignored), then it is issued like
 * any certificate, in one commit.
 */
export async function signCsr(store: CaStore, params: SignCsrParams): Promise<SignCsrResult> {
  const csr = await readCsr(params.input, params.source);
  let subject;
  let sans;
  let name;
  try {
    ({ subject, sans } = csrNames(csr));
    name = params.name ?? deriveName(subject.CN ?? '');
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidInputError(['the CSR is refused: ', ...error.messageParts], error.hintParts ?? 'Ask for a new CSR with valid names.');
  }
  const issue: IssueCertificateParams = {
    name,
    subject,
    sans,
    profile: params.profile,
    key: csr.key,
    days: params.days,
    askPassword: params.askPassword,
    ...(params.issuer === undefined ? {} : { issuer: params.issuer }),
    commandLine: params.commandLine,
    ...(params.now ? { now: params.now } : {}),
    existingKey: { publicKey: csr.publicKey, csrPem: csr.pem },
  };
  return { ...(await issueCertificate(store, issue)), csr, keyName: describeKey(csr.key) };
}

/** A SAN from the CSR as a `+name` argument with an explicit type, so it is checked like ours. */
function formatRequested(san: CsrInfo['sans'][number]): string {
  return { dns: 'DNS:', ip: 'IP:', email: 'EMAIL:', uri: 'URI:' }[san.type] + san.value;
}

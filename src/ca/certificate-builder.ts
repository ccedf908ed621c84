/**
 * The one place that decides what goes into a certificate of the CA, whatever asks for it: init,
 * a new intermediate, a sub-CA (by hand or from certificates.yaml), a leaf (ours or a CSR's key),
 * a self-signed leaf. pki/certificate.ts turns the decision into bytes.
 */
import { createCertificate, type CertificateInfo, type CreateCertificateParams } from '../pki/certificate.js';
import { nameConstraintsExtension, type NameConstraintSet } from '../pki/extensions.js';
import type { KeySpec, SigningKey } from '../pki/keys.js';
import { randomSerial } from '../pki/serial.js';
import type { DistinguishedName, SubjectAltName } from '../pki/types.js';
import { ROOT_NAME } from '../store/layout.js';
import { crlUrlFor } from './authorities/issuers.js';
import { assertNamesPermitted, chainNameConstraints, externalConstraints, issuerConstraints } from './authorities/name-constraints.js';
import { assertSanCount } from './address-forms.js';
import { isoDate } from './commit-message.js';
import type { CaConfig } from './config.js';
import { CertifiedError, PathLengthError, PathLengthTooLongError, RootSignsOnlyCasError } from './errors.js';
import type { Issuer } from './load-issuer.js';
import {
  APPLE_MAX_SERVER_DAYS,
  BACKDATE_MS,
  CA_KEY_USAGE,
  INTERMEDIATE_PATH_LENGTH,
  SUB_CA_PATH_LENGTH,
  leafKeyUsage,
  type LeafProfile,
} from './profiles.js';

const DAY_MS = 86_400_000;

type PublicKey = CreateCertificateParams['publicKey'];

interface Validity {
  days: number;
  now: Date;
}

/** The self-signed CA at the top: signs itself, carries no CRL or OCSP URL. */
export interface RootRequest extends Validity {
  kind: 'root';
  subject: DistinguishedName;
  publicKey: PublicKey;
  signingKey: SigningKey;
}

/**
 * A CA below the root: the intermediate (pathlen 1, signed by the root), a sub-CA (pathlen 0), or
 * a cross-certificate (a new root's key and name, signed by the old root: no path length and no
 * name constraints, exactly like the new root).
 */
export interface CaRequest extends Validity {
  kind: 'intermediate' | 'sub-ca' | 'cross';
  subject: DistinguishedName;
  publicKey: PublicKey;
  issuer: Issuer;
  /** The CA's settings: CRL and OCSP URLs, name constraints. */
  policy: CaConfig;
  /** A sub-CA that may sign CAs itself (an external engine's intermediate); default SUB_CA_PATH_LENGTH. */
  pathLength?: number;
  /** Narrower name constraints than the CA's own: each must lie inside the issuer chain's (externalConstraints). */
  nameConstraints?: NameConstraintSet;
  /** An engine's CA: the kinds of name its constraints do not list are excluded, not free. */
  excludeUnlisted?: boolean;
}

/** A server or client certificate signed by a CA: over a key made here or a CSR's key. */
export interface LeafRequest extends Validity {
  kind: 'leaf';
  subject: DistinguishedName;
  publicKey: PublicKey;
  /** The type of `publicKey` (RSA keys also get keyEncipherment). */
  key: KeySpec;
  profile: LeafProfile;
  sans: SubjectAltName[];
  issuer: Issuer;
  /** The CA's settings: CRL and OCSP URLs, name constraints. */
  policy: CaConfig;
}

/** A leaf that signs itself (no CA): no CRL or OCSP URL. */
export interface SelfSignedRequest extends Validity {
  kind: 'self-signed';
  subject: DistinguishedName;
  publicKey: PublicKey;
  signingKey: SigningKey;
  key: KeySpec;
  profile: LeafProfile;
  sans: SubjectAltName[];
}

export type CertificateRequest = RootRequest | CaRequest | LeafRequest | SelfSignedRequest;
export type CertificateKind = CertificateRequest['kind'];

export interface BuiltCertificate {
  certificate: CertificateInfo;
  /** Asides for the user, as sentences without the "Warning:" (the validity cut, Apple's limit, ...). */
  warnings: string[];
}

/**
 * Who may sign what: the root signs only CAs (its key stays offline; a leaf under it could not be
 * revoked without the root key), a CA with pathlen 0 signs no CA, and only a CA signs at all.
 * Cheap: use cases call it before they make a key, and buildCertificate calls it again.
 */
export function assertMaySign(issuer: Pick<Issuer, 'name' | 'certificate'>, kind: CertificateKind, pathLength?: number): void {
  const signsCa = kind === 'intermediate' || kind === 'sub-ca' || kind === 'cross';
  if (!issuer.certificate.isCa) {
    throw new CertifiedError(`"${issuer.name}" is not a CA and cannot sign certificates`, { code: 'NOT_A_CA', hint: 'Sign with the intermediate "ca" or a sub-CA.' });
  }
  if (!signsCa && (issuer.name === ROOT_NAME || issuer.certificate.selfSigned)) throw new RootSignsOnlyCasError();
  if (signsCa && issuer.certificate.pathLength === 0) throw new PathLengthError(issuer.name);
  // A CA below one with pathlen N may itself have at most N-1 (RFC 5280 4.2.1.9); the root has none.
  const given = pathLength ?? (kind === 'intermediate' ? INTERMEDIATE_PATH_LENGTH : SUB_CA_PATH_LENGTH);
  const limit = issuer.certificate.pathLength;
  if (signsCa && limit !== undefined && given >= limit) throw new PathLengthTooLongError(issuer.name, limit, given);
}

/**
 * Builds and signs one certificate: a fresh serial, notBefore backdated by BACKDATE_MS, notAfter
 * cut to the issuer's, the CRL and OCSP URLs of the issuer, the CA's name constraints on every CA
 * below the root, and key usages by kind and profile. Refuses what the issuer may not sign.
 */
export async function buildCertificate(request: CertificateRequest): Promise<BuiltCertificate> {
  // Every path checks the names when it reads them; this holds for a renewal of an older certificate too.
  if (request.kind === 'leaf' || request.kind === 'self-signed') assertSanCount(request.sans.length);
  const warnings: string[] = [];
  const asked = new Date(request.now.getTime() + request.days * DAY_MS);
  const common = {
    subject: request.subject,
    publicKey: request.publicKey,
    serial: randomSerial(),
    notBefore: new Date(request.now.getTime() - BACKDATE_MS),
    ...profileOf(request),
  };
  if (request.kind === 'root' || request.kind === 'self-signed') {
    if (request.kind === 'self-signed') warnings.push(...leafWarnings(request));
    const certificate = await createCertificate({ ...common, notAfter: asked, signingKey: request.signingKey });
    return { certificate, warnings };
  }
  const { issuer, policy } = request;
  assertMaySign(issuer, request.kind, request.kind === 'leaf' ? undefined : request.pathLength);
  if (request.kind === 'leaf') assertNamesPermitted(request.sans, chainNameConstraints(issuer.chainPem));
  const notAfter = cutToIssuer(asked, issuer, request.kind, warnings);
  if (request.kind === 'leaf') warnings.push(...leafWarnings(request));
  const crlUrl = crlUrlFor(policy, issuer.name);
  // The CA's name constraints bind every CA below the root, not only the first intermediate; a CA
  // for another engine may have narrower ones, never wider.
  const constraints = request.kind === 'leaf' || request.kind === 'cross' ? undefined
    : request.nameConstraints ? externalConstraints(issuerConstraints(issuer.chainPem, policy.nameConstraints), request.nameConstraints)
    : policy.nameConstraints;
  const certificate = await createCertificate({
    ...common,
    notAfter,
    issuerPem: issuer.certificate.pem,
    signingKey: issuer.key,
    ...(crlUrl ? { crlUrl } : {}),
    ...(policy.ocspUrl ? { ocspUrl: policy.ocspUrl } : {}),
    ...(constraints ? { extraExtensions: [nameConstraintsExtension(constraints, { excludeUnlisted: request.kind !== 'leaf' && request.excludeUnlisted === true })] } : {}),
  });
  return { certificate, warnings };
}

/** Basic constraints, key usages and names by kind (and, for a leaf, by profile). */
function profileOf(request: CertificateRequest): Pick<CreateCertificateParams, 'ca' | 'keyUsage' | 'extendedKeyUsage' | 'sans'> {
  switch (request.kind) {
    case 'root':
    case 'cross':
      return { ca: {}, keyUsage: CA_KEY_USAGE };
    case 'intermediate':
      return { ca: { pathLength: request.pathLength ?? INTERMEDIATE_PATH_LENGTH }, keyUsage: CA_KEY_USAGE };
    case 'sub-ca':
      return { ca: { pathLength: request.pathLength ?? SUB_CA_PATH_LENGTH }, keyUsage: CA_KEY_USAGE };
    case 'leaf':
    case 'self-signed':
      return { ...leafKeyUsage(request.profile, request.key, request.sans), sans: request.sans };
  }
}

const CUT: Partial<Record<CaRequest['kind'] | 'leaf', string>> = {
  leaf: 'the certificate is cut to end with its issuer',
  intermediate: 'the intermediate is cut to end with the root',
  cross: 'the cross-certificate is cut to end with the old root',
};

/**
 * No certificate outlives its issuer. One asked to end within a day after its issuer is what equal
 * lifetimes give when both count from "now" (a sub-CA and its leaves made by one apply, seconds
 * apart), so only a longer cut is worth a warning.
 */
function cutToIssuer(asked: Date, issuer: Issuer, kind: CaRequest['kind'] | 'leaf', warnings: string[]): Date {
  const end = issuer.certificate.notAfter;
  if (asked.getTime() <= end.getTime()) return asked;
  const date = isoDate(end);
  if (asked.getTime() > end.getTime() + DAY_MS) warnings.push(`${CUT[kind] ?? 'the CA is cut to end with its issuer'} on ${date}.`);
  return new Date(end.getTime());
}

/** What TLS clients will make of a server certificate. */
function leafWarnings(request: LeafRequest | SelfSignedRequest): string[] {
  if (request.profile === 'client') return [];
  const warnings: string[] = [];
  if (request.days > APPLE_MAX_SERVER_DAYS) warnings.push(`Apple platforms reject TLS server certificates valid for more than ${APPLE_MAX_SERVER_DAYS} days.`);
  if (request.kind === 'leaf' && !request.sans.some((san) => san.type === 'dns' || san.type === 'ip')) {
    warnings.push('the certificate has no DNS name or IP address, so TLS clients will not accept it for a server.');
  }
  return warnings;
}

/** What every ACME handler shares: the CA, the policy, URLs, nonces, accounts and the in-memory orders. */
import type { KeyObject } from 'node:crypto';
import type { CaStore } from '../../ca/ca-directory.js';
import type { AcmeAccount } from '../../ca/acme/accounts.js';
import { AcmeProblem as Problem, type AcmeIdentifier, type AcmePolicy, type ChallengeType, type ValidationTargets } from '../../ca/acme/types.js';
import type { AskPassword } from '../../ca/passwords.js';
import { identifierProblem } from '../../ca/acme/policy.js';
import type { AcmeView } from '../../ca/acme/view.js';
import { CertifiedError } from '../../ca/errors.js';
import {
  JwsError,
  algorithmFitsKey,
  importJwk,
  isJwsAlgorithm,
  parseJws,
  verifyJws,
  type ParsedJws,
} from '../../pki/jws.js';
import { INTERMEDIATE_NAME } from '../../ca/layout.js';
import { loadIssuer, type Issuer } from '../../ca/load-issuer.js';
import type { SigningKey } from '../../pki/keys.js';
import type { GroupCommitter } from './group-commit.js';
import type { NonceStore, Reply } from './http.js';
import type { AcmeLimits, PerMinute, ValidationSlots } from './limits.js';

export interface Challenge {
  id: string;
  type: ChallengeType;
  token: string;
  status: 'pending' | 'processing' | 'valid' | 'invalid';
  validated?: string;
  error?: Problem;
  authz: Authorization;
}

export interface Authorization {
  id: string;
  account: string;
  identifier: AcmeIdentifier;
  wildcard: boolean;
  status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired';
  expires: Date;
  challenges: Challenge[];
  order: Order;
}

export interface Order {
  id: string;
  account: string;
  status: 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
  identifiers: AcmeIdentifier[];
  authorizations: Authorization[];
  expires: Date;
  notBefore?: string;
  notAfter?: string;
  certificate?: string;
  error?: Problem;
}

export interface AcmeContext {
  store: CaStore;
  policy: AcmePolicy;
  targets: ValidationTargets;
  askPassword: AskPassword;
  /** The text recorded as the command of every commit the server makes. */
  commandLine: string;
  /** https://NAME:PORT, without a trailing slash. */
  base: string;
  nonces: NonceStore;
  /** Key thumbprint -> account id, for every key an account has or had, whatever its status. */
  keys: Map<string, string>;
  orders: Map<string, Order>;
  authorizations: Map<string, Authorization>;
  challenges: Map<string, Challenge>;
  /** Validations started and not finished, so that a stop can wait for them. */
  pending: Set<Promise<void>>;
  /** Finalizations that arrive together share one commit. */
  committer: GroupCommitter;
  log: (line: string) => void;
  limits: AcmeLimits;
  /** Validations running, in all and per account. */
  validations: ValidationSlots;
  /** Accounts registered per client address in the last minute. */
  newAccounts: PerMinute;
  /** The intermediate's key, opened once when the server starts (and again only if the intermediate changes). */
  issuerKey?: SigningKey;
  /** The committed policy and the account records, read once per change of the CA. */
  view: AcmeView;
}

export const url = (ctx: AcmeContext, path: string): string => `${ctx.base}/acme/${path}`;

/** A verified request: the JWS, its payload as JSON (undefined for POST-as-GET), and who signed it. */
export interface SignedRequest {
  jws: ParsedJws;
  payload: unknown;
  key: KeyObject;
  /** The signer's account, when the request names it with kid. */
  account?: AcmeAccount;
  /** The signer's public JWK, when the request carries jwk. */
  jwk?: JsonWebKey;
}

/**
 * RFC 8555 §6.2-6.5: a flattened JWS, an accepted algorithm that fits the key, a nonce this server
 * gave out and not used yet, the url header equal to the request's URL, exactly one of jwk (only
 * where `keyFrom` is "jwk" or "either") and kid (an existing, valid account), and a valid signature.
 */
export async function verifyRequest(ctx: AcmeContext, body: Buffer, requestUrl: string, keyFrom: 'jwk' | 'kid' | 'either'): Promise<SignedRequest> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Problem('malformed', 'the body is not JSON');
  }
  let jws: ParsedJws;
  try {
    jws = parseJws(json);
  } catch (error) {
    if (error instanceof JwsError) throw new Problem('malformed', error.message);
    throw error;
  }
  const { alg, nonce, url: signedUrl, jwk, kid } = jws.header;
  if (!isJwsAlgorithm(alg)) throw new Problem('badSignatureAlgorithm', `alg ${JSON.stringify(alg)?.slice(0, 30)} is not accepted (ES256, ES384, RS256, EdDSA)`);
  if (!ctx.nonces.consume(nonce)) throw new Problem('badNonce', 'the nonce is missing, unknown, expired or already used; get a new one');
  if (signedUrl !== requestUrl) throw new Problem('unauthorized', 'the url in the protected header is not the URL of the request', 403);
  if ((jwk === undefined) === (kid === undefined)) throw new Problem('malformed', 'the protected header must have exactly one of jwk and kid');
  let key: KeyObject;
  let account: AcmeAccount | undefined;
  if (jwk !== undefined) {
    if (keyFrom === 'kid') throw new Problem('malformed', 'this request must name its account with kid, not carry a jwk');
    try {
      key = importJwk(jwk);
    } catch (error) {
      if (error instanceof JwsError) throw new Problem('malformed', error.message);
      throw error;
    }
  } else {
    if (keyFrom === 'jwk') throw new Problem('malformed', 'this request must carry its key as jwk, not kid');
    const prefix = url(ctx, 'acct/');
    const id = typeof kid === 'string' && kid.startsWith(prefix) ? kid.slice(prefix.length) : '';
    account = await ctx.view.account(id);
    if (!account) throw new Problem('accountDoesNotExist', 'there is no account at this kid', 400);
    if (account.status !== 'valid') throw new Problem('unauthorized', `the account is ${account.status}`, 403);
    key = accountKey(account.jwk);
  }
  const verified = algorithmFitsKey(alg, key) && (await verifyJws(jws, alg, key));
  // A key the account has replaced is refused as such, whatever its type.
  if (!verified && (await signedByAny(jws, alg, account?.previousKeys?.map((previous) => previous.jwk) ?? []))) throw new Problem('unauthorized', 'the request is signed with a key this account has replaced', 403);
  if (!algorithmFitsKey(alg, key)) throw new Problem('badSignatureAlgorithm', `alg ${alg} does not fit the ${key.asymmetricKeyType} key`);
  if (!verified) throw new Problem('malformed', 'the JWS signature does not verify');
  let payload: unknown;
  if (jws.payload.length) {
    try {
      payload = JSON.parse(Buffer.from(jws.payload).toString('utf8'));
    } catch {
      throw new Problem('malformed', 'the payload is not JSON');
    }
  }
  return { jws, payload, key, ...(account ? { account } : {}), ...(jwk !== undefined ? { jwk: jwk as JsonWebKey } : {}) };
}

async function signedByAny(jws: ParsedJws, alg: Parameters<typeof verifyJws>[1], jwks: JsonWebKey[]): Promise<boolean> {
  for (const jwk of jwks) {
    let key: KeyObject;
    try {
      key = importJwk(jwk);
    } catch {
      continue;
    }
    if (algorithmFitsKey(alg, key) && (await verifyJws(jws, alg, key))) return true;
  }
  return false;
}

/**
 * The policy as the last commit of certificates.yaml says (kept in ctx.policy): a commit to the
 * `acme:` section takes effect at the next request, whether it adds EAB, takes a name out or
 * changes the days; an edit not committed does not. A policy that cannot be read refuses the
 * request (serverInternal) rather than use an old one.
 */
export async function currentPolicy(ctx: AcmeContext): Promise<AcmePolicy> {
  try {
    ctx.policy = await ctx.view.policy();
  } catch (error) {
    if (error instanceof CertifiedError) {
      // The details (a path, a line of certificates.yaml) are the operator's, in the log.
      ctx.log(`the ACME policy cannot be read: ${error.message}`);
      throw new Problem('serverInternal', "the ACME policy cannot be read; the server's log says why", 500);
    }
    throw error;
  }
  return ctx.policy;
}

/** The first identifier of `identifiers` the current policy refuses (rejectedIdentifier), or undefined. */
export async function refusedIdentifier(ctx: AcmeContext, identifiers: AcmeIdentifier[]): Promise<Problem | undefined> {
  const policy = await currentPolicy(ctx);
  for (const identifier of identifiers) {
    const found = await identifierProblem(ctx.store, policy, identifier);
    if (found) return found;
  }
  return undefined;
}

/**
 * The intermediate as it is now, with the key the server holds open when it is still the
 * intermediate's: its key file is decrypted again only after the intermediate was replaced.
 */
export async function currentIssuer(ctx: AcmeContext): Promise<Issuer> {
  const issuer = await loadIssuer(ctx.store, INTERMEDIATE_NAME, ctx.askPassword, undefined, ctx.issuerKey);
  ctx.issuerKey = issuer.key;
  return issuer;
}

/** Accounts' keys as imported: the same JWK always gives the same key, and importing one costs more than the signature check. */
const importedKeys = new Map<string, KeyObject>();
const IMPORTED_KEYS_LIMIT = 10_000;

function accountKey(jwk: JsonWebKey): KeyObject {
  const text = JSON.stringify(jwk);
  let key = importedKeys.get(text);
  if (!key) {
    key = importJwk(jwk);
    if (importedKeys.size >= IMPORTED_KEYS_LIMIT) importedKeys.delete(importedKeys.keys().next().value!);
    importedKeys.set(text, key);
  }
  return key;
}

/** The signer's own account, or unauthorized. */
export function requireAccount(request: SignedRequest): AcmeAccount {
  if (!request.account) throw new Problem('unauthorized', 'this request must be signed by an account (kid)', 403);
  return request.account;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `client` is the address the request came from. */
export type Handler = (ctx: AcmeContext, body: Buffer, requestUrl: string, id: string, client: string) => Promise<Reply>;

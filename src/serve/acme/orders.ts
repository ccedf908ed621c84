/** newOrder, orders, authorizations, challenges and finalize (RFC 8555 §7.4-7.5, RFC 8738), in memory. */
import { randomBytes } from 'node:crypto';
import { identifierProblem } from '../../ca/acme/policy.js';
import { checkAcmeRequest, identifierSan } from '../../ca/acme/issue.js';
import { AcmeProblem, type AcmeIdentifier, type ChallengeType } from '../../ca/acme/types.js';
import { CertifiedError } from '../../ca/errors.js';
import { fromBase64url, jwkThumbprint, JwsError } from '../../pki/jws.js';
import { currentPolicy, isObject, refusedIdentifier, requireAccount, url, verifyRequest, type AcmeContext, type Authorization, type Challenge, type Order } from './context.js';
import { problemBody, type Reply } from './http.js';
import { RateLimited } from './limits.js';
import { validateChallenge } from './validate.js';

const MAX_IDENTIFIERS = 100;
const ORDER_LIFETIME_MS = 7 * 86_400_000;
/** How long a client should wait before polling an order or challenge being processed. */
const RETRY_AFTER_SECONDS = '1';

/** How long a challenge's POST waits for its validation before answering "processing". */
const ANSWER_VALIDATION_WITHIN_MS = 100;

/** Resolves when `work` settles or after `ms`, whichever is first. */
function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([work.then(() => undefined, () => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

const newId = (): string => randomBytes(16).toString('base64url');

function orderBody(ctx: AcmeContext, order: Order): Record<string, unknown> {
  return {
    status: order.status,
    expires: order.expires.toISOString(),
    identifiers: order.identifiers,
    authorizations: order.authorizations.map((authz) => url(ctx, `authz/${authz.id}`)),
    finalize: url(ctx, `order/${order.id}/finalize`),
    ...(order.certificate ? { certificate: order.certificate } : {}),
    ...(order.error ? { error: problemBody(order.error) } : {}),
  };
}

function challengeBody(ctx: AcmeContext, challenge: Challenge): Record<string, unknown> {
  return {
    type: challenge.type,
    url: url(ctx, `chall/${challenge.id}`),
    status: challenge.status,
    token: challenge.token,
    ...(challenge.validated ? { validated: challenge.validated } : {}),
    ...(challenge.error ? { error: problemBody(challenge.error) } : {}),
  };
}

function authzBody(ctx: AcmeContext, authz: Authorization): Record<string, unknown> {
  return {
    status: authz.status,
    expires: authz.expires.toISOString(),
    identifier: authz.identifier,
    challenges: authz.challenges.map((challenge) => challengeBody(ctx, challenge)),
    ...(authz.wildcard ? { wildcard: true } : {}),
  };
}

/** The identifiers of a newOrder payload, checked in shape and canonical spelling. */
function readIdentifiers(payload: unknown): AcmeIdentifier[] {
  if (!isObject(payload) || !Array.isArray(payload.identifiers) || payload.identifiers.length === 0) throw new AcmeProblem('malformed', 'newOrder needs a non-empty "identifiers" list');
  if (payload.identifiers.length > MAX_IDENTIFIERS) throw new AcmeProblem('rejectedIdentifier', `an order may name at most ${MAX_IDENTIFIERS} identifiers`);
  if (payload.notBefore !== undefined || payload.notAfter !== undefined) throw new AcmeProblem('malformed', 'notBefore and notAfter are not supported: the lifetime is set by the ACME policy');
  const seen = new Map<string, AcmeIdentifier>();
  for (const entry of payload.identifiers) {
    if (!isObject(entry) || (entry.type !== 'dns' && entry.type !== 'ip') || typeof entry.value !== 'string' || entry.value.length > 255) {
      throw new AcmeProblem('unsupportedIdentifier', 'identifiers must be { type: "dns" | "ip", value: string }');
    }
    const identifier: AcmeIdentifier = { type: entry.type, value: entry.value };
    try {
      const wildcard = identifier.type === 'dns' && identifier.value.startsWith('*.');
      const san = identifierSan(wildcard ? { type: 'dns', value: identifier.value.slice(2) } : identifier);
      if (san.type !== identifier.type) throw new AcmeProblem('malformed', `"${entry.value.slice(0, 60)}" is not a ${identifier.type} identifier`);
      identifier.value = wildcard ? `*.${san.value}` : san.value;
    } catch (error) {
      if (error instanceof CertifiedError) throw new AcmeProblem('rejectedIdentifier', `"${entry.value.slice(0, 60)}" is refused: ${error.message}`, 400, [{ type: 'rejectedIdentifier', detail: error.message, identifier }]);
      throw error;
    }
    seen.set(`${identifier.type}:${identifier.value}`, identifier);
  }
  return [...seen.values()];
}

export async function newOrder(ctx: AcmeContext, body: Buffer, requestUrl: string): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'kid');
  const account = requireAccount(request);
  const identifiers = readIdentifiers(request.payload);
  makeRoomForOrder(ctx, account.id);
  // The policy is the reviewed certificates.yaml as it is now: a name taken out of it is refused at once.
  await currentPolicy(ctx);
  const problems = [];
  for (const identifier of identifiers) {
    const found = await identifierProblem(ctx.store, ctx.policy, identifier);
    if (found) problems.push(found);
    else if (identifier.value.startsWith('*.') && !ctx.policy.challenges.includes('dns-01')) {
      problems.push(new AcmeProblem('rejectedIdentifier', `"${identifier.value}" is a wildcard, which only dns-01 validates, and the ACME policy does not offer dns-01`));
    }
  }
  if (problems.length) {
    const subproblems = problems.map((found) => ({ type: found.type, detail: found.message, ...(found.subproblems?.[0]?.identifier ? { identifier: found.subproblems[0].identifier } : {}) }));
    throw new AcmeProblem('rejectedIdentifier', problems.map((found) => found.message).join('; '), 400, subproblems);
  }
  const expires = new Date(Date.now() + ORDER_LIFETIME_MS);
  const order: Order = { id: newId(), account: account.id, status: 'pending', identifiers, authorizations: [], expires };
  for (const identifier of identifiers) {
    const wildcard = identifier.value.startsWith('*.');
    const authz: Authorization = { id: newId(), account: account.id, identifier: wildcard ? { type: 'dns', value: identifier.value.slice(2) } : identifier, wildcard, status: 'pending', expires, challenges: [], order };
    // Wildcards only through dns-01; IP addresses have no DNS name to put a TXT record under (RFC 8738).
    const offered: ChallengeType[] = ctx.policy.challenges.filter((type) => (wildcard ? type === 'dns-01' : identifier.type === 'ip' ? type !== 'dns-01' : true));
    authz.challenges = offered.map((type) => ({ id: newId(), type, token: randomBytes(32).toString('base64url'), status: 'pending', authz }));
    order.authorizations.push(authz);
    ctx.authorizations.set(authz.id, authz);
    for (const challenge of authz.challenges) ctx.challenges.set(challenge.id, challenge);
  }
  makeRoomForOrder(ctx, account.id);
  ctx.orders.set(order.id, order);
  ctx.log(`ACME order ${order.id} for ${identifiers.map((identifier) => identifier.value).join(', ')}`);
  return { status: 201, body: orderBody(ctx, order), headers: { Location: url(ctx, `order/${order.id}`) } };
}

const isOpen = (order: Order): boolean => order.status === 'pending' || order.status === 'ready' || order.status === 'processing';

/**
 * Keeps the in-memory state bounded, per account: expired orders go; an account at its limit of
 * open orders is refused (rateLimited); past its limit of kept orders its own finished, then its
 * own oldest, are forgotten. Another account's orders are never forgotten for this one.
 */
function makeRoomForOrder(ctx: AcmeContext, account: string): void {
  const now = Date.now();
  const own: Order[] = [];
  for (const order of ctx.orders.values()) {
    if (order.expires.getTime() <= now) forgetOrder(ctx, order);
    else if (order.account === account) own.push(order);
  }
  const open = own.filter(isOpen);
  if (open.length >= ctx.limits.pendingOrdersPerAccount) {
    throw new RateLimited(`this account has ${open.length} orders not finished yet, the most one account may have; finish or deactivate some, or try again later`, 60);
  }
  const forgettable = [...own.filter((order) => !isOpen(order)), ...open];
  while (own.length >= ctx.limits.ordersPerAccount && forgettable.length) own.splice(own.indexOf(forgetOrder(ctx, forgettable.shift()!)), 1);
  if (ctx.orders.size >= ctx.limits.orders) throw new RateLimited('the server holds as many orders as it can; try again later', 60);
}

function forgetOrder(ctx: AcmeContext, order: Order): Order {
  ctx.orders.delete(order.id);
  for (const authz of order.authorizations) {
    ctx.authorizations.delete(authz.id);
    for (const challenge of authz.challenges) ctx.challenges.delete(challenge.id);
  }
  return order;
}

function ownOrder(ctx: AcmeContext, id: string, account: string): Order {
  const order = ctx.orders.get(id);
  if (!order || order.account !== account) throw new AcmeProblem('malformed', 'there is no such order for this account', 404);
  expireIfDue(order);
  return order;
}

/**
 * RFC 8555 §7.1.6: past its `expires`, an authorization not used yet (pending or valid) becomes
 * expired, and an order not finalized yet (pending or ready) invalid; issued orders stay valid.
 */
function expireIfDue(order: Order, now = Date.now()): void {
  for (const authz of order.authorizations) {
    if (authz.expires.getTime() <= now && (authz.status === 'pending' || authz.status === 'valid')) authz.status = 'expired';
  }
  if (order.expires.getTime() <= now && (order.status === 'pending' || order.status === 'ready')) {
    order.status = 'invalid';
    order.error = new AcmeProblem('malformed', `the order expired at ${order.expires.toISOString()}; make a new one`);
  }
}

export async function orderResource(ctx: AcmeContext, body: Buffer, requestUrl: string, id: string): Promise<Reply> {
  const account = requireAccount(await verifyRequest(ctx, body, requestUrl, 'kid'));
  const order = ownOrder(ctx, id, account.id);
  return { status: 200, body: orderBody(ctx, order), headers: order.status === 'processing' ? { 'Retry-After': RETRY_AFTER_SECONDS } : {} };
}

export async function ordersList(ctx: AcmeContext, body: Buffer, requestUrl: string, id: string): Promise<Reply> {
  const account = requireAccount(await verifyRequest(ctx, body, requestUrl, 'kid'));
  if (account.id !== id) throw new AcmeProblem('unauthorized', 'an account lists only its own orders', 403);
  const orders = [...ctx.orders.values()].filter((order) => order.account === id && (expireIfDue(order), order.status === 'pending' || order.status === 'ready' || order.status === 'processing'));
  return { status: 200, body: { orders: orders.map((order) => url(ctx, `order/${order.id}`)) } };
}

export async function authzResource(ctx: AcmeContext, body: Buffer, requestUrl: string, id: string): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'kid');
  const account = requireAccount(request);
  const authz = ctx.authorizations.get(id);
  if (!authz || authz.account !== account.id) throw new AcmeProblem('malformed', 'there is no such authorization for this account', 404);
  expireIfDue(authz.order);
  if (isObject(request.payload) && request.payload.status === 'deactivated') {
    // RFC 8555 §7.5.2: only a pending or valid authorization can be deactivated; an order already finalized keeps its status.
    if (authz.status !== 'pending' && authz.status !== 'valid') throw new AcmeProblem('malformed', `the authorization is ${authz.status}; only a pending or valid one can be deactivated`, 403);
    authz.status = 'deactivated';
    if (authz.order.status === 'pending' || authz.order.status === 'ready') authz.order.status = 'invalid';
  }
  return { status: 200, body: authzBody(ctx, authz) };
}

/** POST {} starts the validation (in the background); POST-as-GET reads the challenge. */
export async function challengeResource(ctx: AcmeContext, body: Buffer, requestUrl: string, id: string): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'kid');
  const account = requireAccount(request);
  const challenge = ctx.challenges.get(id);
  if (!challenge || challenge.authz.account !== account.id) throw new AcmeProblem('malformed', 'there is no such challenge for this account', 404);
  expireIfDue(challenge.authz.order);
  const links = [`<${url(ctx, `authz/${challenge.authz.id}`)}>;rel="up"`];
  if (request.payload !== undefined && challenge.status === 'pending') {
    if (challenge.authz.status === 'expired') throw new AcmeProblem('malformed', `the authorization expired at ${challenge.authz.expires.toISOString()}; make a new order`, 403);
    // One validation per authorization at a time: a second one could prove it while the first fails it.
    if (challenge.authz.challenges.some((other) => other.status === 'processing')) {
      throw new AcmeProblem('malformed', 'another challenge of this authorization is being validated; wait for its result', 409);
    }
  }
  if (request.payload !== undefined && challenge.status === 'pending' && challenge.authz.status === 'pending') {
    challenge.status = 'processing';
    const keyAuthorization = `${challenge.token}.${jwkThumbprint(request.key)}`;
    // Validations wait for a free slot (in all and for this account) rather than being refused.
    const run = ctx.validations.run(account.id, () => runValidation(ctx, challenge, keyAuthorization));
    ctx.pending.add(run);
    void run.finally(() => ctx.pending.delete(run));
    // A validation that ends quickly (a few ms on a local network) is answered with its outcome:
    // the client's first poll then finds the order ready instead of polling several times.
    await settledWithin(run, ANSWER_VALIDATION_WITHIN_MS);
  }
  return { status: 200, body: challengeBody(ctx, challenge), links, headers: challenge.status === 'processing' ? { 'Retry-After': RETRY_AFTER_SECONDS } : {} };
}

/**
 * Validates one challenge and records the outcome. The authorization and order move only from
 * where they were when it started (pending): one deactivated, expired or finalized meanwhile stays so.
 */
async function runValidation(ctx: AcmeContext, challenge: Challenge, keyAuthorization: string): Promise<void> {
  const authz = challenge.authz;
  try {
    // A challenge type taken out of the policy since the order was made proves nothing any more.
    const policy = await currentPolicy(ctx);
    if (!policy.challenges.includes(challenge.type)) throw new AcmeProblem('unauthorized', `the ACME policy no longer offers ${challenge.type}`, 403);
    await validateChallenge(challenge.type, authz.identifier, challenge.token, keyAuthorization, { ...ctx.targets, redirectAllow: policy.allow });
    challenge.status = 'valid';
    challenge.validated = new Date().toISOString();
    expireIfDue(authz.order);
    if (authz.status === 'pending') authz.status = 'valid';
    if (authz.order.status === 'pending' && authz.order.authorizations.every((each) => each.status === 'valid')) authz.order.status = 'ready';
    ctx.log(`ACME ${challenge.type} for ${authz.identifier.value}: valid`);
  } catch (error) {
    challenge.status = 'invalid';
    challenge.error = error instanceof AcmeProblem ? error : new AcmeProblem('serverInternal', "the validation failed unexpectedly; the server's log says why", 500);
    const cause = error instanceof AcmeProblem ? error.cause : error;
    if (authz.status === 'pending') authz.status = 'invalid';
    if (authz.order.status === 'pending' || authz.order.status === 'ready') {
      authz.order.status = 'invalid';
      authz.order.error = challenge.error;
    }
    ctx.log(`ACME ${challenge.type} for ${authz.identifier.value}: invalid (${challenge.error.message}${cause instanceof Error ? `: ${cause.message}` : ''})`);
  }
}

export async function finalize(ctx: AcmeContext, body: Buffer, requestUrl: string, id: string): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'kid');
  const account = requireAccount(request);
  const order = ownOrder(ctx, id, account.id);
  if (order.status !== 'ready') throw new AcmeProblem('orderNotReady', `the order is ${order.status}, not ready: ${order.status === 'pending' ? 'complete its authorizations first' : (order.error?.message ?? 'it cannot be finalized')}`, 403);
  const payload = request.payload;
  if (!isObject(payload) || typeof payload.csr !== 'string') throw new AcmeProblem('malformed', 'finalize needs a "csr" (base64url DER)');
  let csr: Uint8Array;
  try {
    csr = fromBase64url(payload.csr, 'the csr');
  } catch (error) {
    if (error instanceof JwsError) throw new AcmeProblem('malformed', error.message);
    throw error;
  }
  order.status = 'processing';
  // A name taken out of the policy since the order was made is not issued: the order cannot succeed.
  const refused = await refusedIdentifier(ctx, order.identifiers).catch((error: unknown) => {
    order.status = 'ready';
    throw error;
  });
  if (refused) {
    order.status = 'invalid';
    order.error = refused;
    throw refused;
  }
  try {
    const checked = await checkAcmeRequest({
      csr,
      identifiers: order.identifiers,
      account: account.id,
      accountKeys: [account.jwk, ...(account.previousKeys ?? []).map((previous) => previous.jwk)],
      order: order.id,
      days: ctx.policy.days,
      askPassword: ctx.askPassword,
      ...(ctx.issuerKey ? { issuerKey: ctx.issuerKey } : {}),
      commandLine: ctx.commandLine,
    });
    // Shares its commit with the finalizations that arrive while the previous commit runs.
    const issued = await ctx.committer.issue(checked);
    order.status = 'valid';
    order.certificate = url(ctx, `cert/${issued.serial}`);
    ctx.view.rememberIssued(issued.serial, { account: account.id, chainPem: issued.chainPem });
    ctx.log(`ACME order ${order.id}: issued ${issued.name} (commit ${issued.commit.slice(0, 12)})`);
  } catch (error) {
    // A refused CSR leaves the order ready for another one.
    order.status = 'ready';
    if (error instanceof AcmeProblem) throw error;
    // The CSR was checked; what fails now is the CA (a lock held too long, a key that cannot be opened).
    if (error instanceof CertifiedError) {
      ctx.log(`ACME order ${order.id}: the certificate could not be issued: ${error.message}`);
      throw new AcmeProblem('serverInternal', "the certificate could not be issued; the server's log says why", 500);
    }
    throw error;
  }
  return { status: 200, body: orderBody(ctx, order), headers: { Location: url(ctx, `order/${order.id}`) } };
}

/** newAccount, the account resource (read, contact update, deactivation) and keyChange (RFC 8555 §7.3). */
import { listAccounts, saveAccount, type AcmeAccount } from '../../ca/acme/accounts.js';
import type { CaStore } from '../../ca/ca-directory.js';
import { eabSealingKey, verifyEab } from '../../ca/acme/eab.js';
import { AcmeProblem } from '../../ca/acme/types.js';
import { JwsError, algorithmFitsKey, importJwk, isJwsAlgorithm, jwkThumbprint, parseJws, publicJwk, verifyJws } from '../../pki/jws.js';
import { currentIssuer, currentPolicy, isObject, requireAccount, url, verifyRequest, type AcmeContext, type SignedRequest } from './context.js';
import { problemBody, type Reply } from './http.js';
import { RateLimited } from './limits.js';

const MAX_CONTACTS = 10;
/** Per server, the accounts whose key change is being committed: a second one at that moment was signed by the key being replaced. */
const changingKeys = new WeakMap<AcmeContext, Set<string>>();

function accountBody(ctx: AcmeContext, account: AcmeAccount): Record<string, unknown> {
  return { status: account.status, contact: account.contact, orders: url(ctx, `acct/${account.id}/orders`), createdAt: account.createdAt };
}

function contacts(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_CONTACTS) throw new AcmeProblem('invalidContact', `contact must be a list of at most ${MAX_CONTACTS} mailto: URLs`);
  return value.map((entry) => {
    if (typeof entry !== 'string' || entry.length > 254) throw new AcmeProblem('invalidContact', 'each contact must be a mailto: URL');
    if (!entry.startsWith('mailto:')) throw new AcmeProblem('unsupportedContact', `only mailto: contacts are accepted, got "${printableAscii(entry.slice(0, 40))}"`);
    // Printable ASCII only: a contact is committed, and must not carry terminal escapes or bidi controls into git log.
    if (!/^mailto:[\x21-\x7e]+$/.test(entry) || !/^mailto:[^@\s,?]+@[A-Za-z0-9.-]+$/.test(entry)) throw new AcmeProblem('invalidContact', `"${printableAscii(entry.slice(0, 60))}" is not a single e-mail address in printable ASCII`);
    return entry;
  });
}

const printableAscii = (text: string): string => text.replace(/[^\x20-\x7e]/g, '?');

export async function newAccount(ctx: AcmeContext, body: Buffer, requestUrl: string, client = ''): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'jwk');
  const payload = isObject(request.payload) ? request.payload : {};
  const id = jwkThumbprint(request.key);
  const existing = await accountOfKey(ctx, id);
  if (existing) {
    // RFC 8555 §7.3.6: the key of a deactivated account, or one an account has replaced, is refused for good.
    if (existing.status !== 'valid') throw new AcmeProblem('unauthorized', `the account of this key is ${existing.status}`, 403);
    if (jwkThumbprint(importJwk(existing.jwk)) !== id) {
      if (payload.onlyReturnExisting === true) throw new AcmeProblem('accountDoesNotExist', 'no account has this key', 400);
      throw new AcmeProblem('unauthorized', 'an account was registered with this key and has changed keys since', 403);
    }
    return { status: 200, body: accountBody(ctx, existing), headers: { Location: url(ctx, `acct/${existing.id}`) } };
  }
  if (payload.onlyReturnExisting === true) throw new AcmeProblem('accountDoesNotExist', 'no account has this key', 400);
  // Each new account is a commit under the CA lock: one client address may make only so many a minute.
  const wait = ctx.newAccounts.waitSeconds(client);
  if (wait > 0) throw new RateLimited(`this address registered ${ctx.limits.newAccountsPerMinute} accounts in the last minute; try again in ${wait} s`, wait);
  const contact = contacts(payload.contact);
  const jwk = publicJwk(request.key);
  let eabKid: string | undefined;
  if ((await currentPolicy(ctx)).eab) {
    if (payload.externalAccountBinding === undefined) throw new AcmeProblem('externalAccountRequired', 'this server requires an External Account Binding for new accounts', 400);
    const caKey = async () => eabSealingKey((await currentIssuer(ctx)).key);
    ({ kid: eabKid } = await verifyEab(ctx.store, { binding: payload.externalAccountBinding, accountJwk: jwk, url: requestUrl, caKey }));
  }
  const account: AcmeAccount = { id, jwk, contact, status: 'valid', createdAt: new Date().toISOString(), ...(eabKid ? { eabKid } : {}) };
  // A key change or registration of this key since the lookup above holds it now.
  if (ctx.keys.has(id)) throw new AcmeProblem('malformed', 'another request took this key at the same moment; send the request again', 409);
  ctx.newAccounts.record(client);
  await holdingKey(ctx, id, id, () => saveAccount(ctx.store, account, 'create', ctx.commandLine));
  ctx.log(`ACME account ${id} registered`);
  return { status: 201, body: accountBody(ctx, account), headers: { Location: url(ctx, `acct/${id}`) } };
}

export async function accountResource(ctx: AcmeContext, body: Buffer, requestUrl: string, id: string): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'kid');
  const account = requireAccount(request);
  if (account.id !== id) throw new AcmeProblem('unauthorized', 'an account can only be read and changed by its own key', 403);
  const payload = request.payload;
  if (payload === undefined || (isObject(payload) && Object.keys(payload).length === 0)) return { status: 200, body: accountBody(ctx, account), headers: { Location: url(ctx, `acct/${id}`) } };
  if (!isObject(payload)) throw new AcmeProblem('malformed', 'the payload must be a JSON object');
  let updated = account;
  if (payload.status !== undefined) {
    if (payload.status !== 'deactivated') throw new AcmeProblem('malformed', 'an account status can only be changed to "deactivated"');
    updated = { ...account, status: 'deactivated' };
    await saveAccount(ctx.store, updated, 'deactivate', ctx.commandLine);
    for (const authz of ctx.authorizations.values()) if (authz.account === id && authz.status === 'pending') authz.status = 'deactivated';
    ctx.log(`ACME account ${id} deactivated`);
  } else if (payload.contact !== undefined) {
    updated = { ...account, contact: contacts(payload.contact) };
    await saveAccount(ctx.store, updated, 'update', ctx.commandLine);
  }
  return { status: 200, body: accountBody(ctx, updated), headers: { Location: url(ctx, `acct/${id}`) } };
}

/** RFC 8555 §7.3.5: the inner JWS, signed by the new key, names the account and its old key. */
export async function keyChange(ctx: AcmeContext, body: Buffer, requestUrl: string): Promise<Reply> {
  const request = await verifyRequest(ctx, body, requestUrl, 'kid');
  const account = requireAccount(request);
  let changing = changingKeys.get(ctx);
  if (!changing) changingKeys.set(ctx, (changing = new Set()));
  if (changing.has(account.id)) throw new AcmeProblem('malformed', 'another key change of this account is in progress; read the account again', 409);
  changing.add(account.id);
  try {
    // Read again now that no other change can run: a change committed since the request was verified replaced its key.
    const current = await ctx.view.account(account.id);
    if (!current || current.status !== 'valid' || jwkThumbprint(importJwk(current.jwk)) !== jwkThumbprint(request.key)) {
      throw new AcmeProblem('malformed', 'another key change of this account is in progress; read the account again', 409);
    }
    return await changeKey(ctx, request, requestUrl, current);
  } finally {
    changing.delete(account.id);
  }
}

async function changeKey(ctx: AcmeContext, request: SignedRequest, requestUrl: string, account: AcmeAccount): Promise<Reply> {
  let inner;
  let newKey;
  try {
    inner = parseJws(request.payload);
    newKey = importJwk(inner.header.jwk);
  } catch (error) {
    if (error instanceof JwsError) throw new AcmeProblem('malformed', `the inner JWS: ${error.message}`);
    throw error;
  }
  const { alg } = inner.header;
  if (!isJwsAlgorithm(alg) || !algorithmFitsKey(alg, newKey)) throw new AcmeProblem('badSignatureAlgorithm', 'the inner JWS alg is not accepted or does not fit its key');
  if (inner.header.url !== requestUrl) throw new AcmeProblem('malformed', 'the inner JWS url must be the keyChange URL');
  if ('nonce' in inner.header) throw new AcmeProblem('malformed', 'the inner JWS must not have a nonce');
  if ('kid' in inner.header) throw new AcmeProblem('malformed', 'the inner JWS must carry the new key as jwk, not a kid');
  if (!(await verifyJws(inner, alg, newKey))) throw new AcmeProblem('malformed', 'the inner JWS signature does not verify');
  let change: unknown;
  try {
    change = JSON.parse(Buffer.from(inner.payload).toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', 'the inner payload is not JSON');
  }
  if (!isObject(change) || change.account !== url(ctx, `acct/${account.id}`)) throw new AcmeProblem('malformed', 'the inner payload must name the signing account');
  let oldKey;
  try {
    oldKey = importJwk(change.oldKey);
  } catch {
    throw new AcmeProblem('malformed', 'the inner payload oldKey is not a public key');
  }
  if (jwkThumbprint(oldKey) !== jwkThumbprint(request.key)) throw new AcmeProblem('unauthorized', 'oldKey is not the account key', 403);
  const newId = jwkThumbprint(newKey);
  let holder = ctx.keys.get(newId);
  if (holder === undefined && (await ctx.view.account(newId))) holder = newId;
  // Another request may have taken the key while the record was read.
  holder ??= ctx.keys.get(newId);
  if (holder !== undefined) {
    return { status: 409, body: problemBody(new AcmeProblem('malformed', 'another account uses the new key', 409)), headers: { Location: url(ctx, `acct/${holder}`) } };
  }
  const updated: AcmeAccount = { ...account, jwk: publicJwk(newKey), previousKeys: [...(account.previousKeys ?? []), { jwk: account.jwk, until: new Date().toISOString() }] };
  // The old key stays in the index: it can neither sign for the account nor register a new one.
  await holdingKey(ctx, newId, account.id, () => saveAccount(ctx.store, updated, 'key-change', ctx.commandLine));
  ctx.log(`ACME account ${account.id} changed its key`);
  return { status: 200, body: accountBody(ctx, updated), headers: { Location: url(ctx, `acct/${account.id}`) } };
}

/** The account a key (a thumbprint) belongs to, as its current or a previous key, whatever its status. */
async function accountOfKey(ctx: AcmeContext, key: string): Promise<AcmeAccount | undefined> {
  const holder = ctx.keys.get(key);
  return holder === undefined ? ctx.view.account(key) : ctx.view.account(holder);
}

/** Every key of every account, current and previous, of any status: thumbprint -> account id. */
export async function accountKeys(store: CaStore): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const account of await listAccounts(store)) {
    for (const jwk of [account.jwk, ...(account.previousKeys ?? []).map((previous) => previous.jwk)]) keys.set(jwkThumbprint(importJwk(jwk)), account.id);
  }
  return keys;
}

/**
 * Marks `key` (a thumbprint) as `account`'s in the index before the commit, so that a key change
 * or a registration at the same moment finds it taken; a commit that fails gives it back.
 */
async function holdingKey(ctx: AcmeContext, key: string, account: string, save: () => Promise<unknown>): Promise<void> {
  ctx.keys.set(key, account);
  try {
    await save();
  } catch (error) {
    if (ctx.keys.get(key) === account) ctx.keys.delete(key);
    throw error;
  }
}

/**
 * ACME External Account Binding (RFC 8555 §7.3.4). `certified acme eab` makes a key id and an
 * HMAC key; the user hands both to an ACME client, which MACs the new account's public key with
 * it in newAccount. The HMAC key is shown once and committed only sealed to the intermediate's
 * private key (HKDF-SHA256 from its PKCS#8, AES-256-GCM), so the repository alone never yields it.
 */
import { jwkThumbprintOf } from '../../pki/jws.js';
import type { SigningKey } from '../../pki/keys.js';
import { EAB_MAC_ALGORITHMS, openSecret, randomEabKid, randomHmacKey, sealSecret, verifyHmac, SEAL_ALGORITHM, type EabMacAlgorithm, type KeyObject, type SealedSecret } from '../../pki/eab.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import { INTERMEDIATE_NAME, eabPath } from '../../store/layout.js';
import { commitMessage } from '../commit-message.js';
import { CertifiedError, InvalidInputError } from '../errors.js';
import { loadIssuer } from '../load-issuer.js';
import { printable } from '../names.js';
import type { AskPassword } from '../passwords.js';
import { AcmeProblem } from './types.js';

export type { KeyObject };

/** acme/eab/<kid>.json: one External Account Binding. */
export interface EabEntry {
  kid: string;
  name?: string;
  createdAt: string;
  /** The HMAC key, sealed to the intermediate's private key with the info string of eabInfo(kid). */
  encryptedKey: SealedSecret;
  /** "used" once an account was made with it; then accountId names that account. */
  status: 'unused' | 'used';
  accountId?: string;
  usedAt?: string;
}

/** What our key ids look like (16 random bytes, base64url); anything else is never looked up as a file. */
const KID = /^[A-Za-z0-9_-]{16,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const NAME_LIMIT = 64;

/** The HKDF info (and AES-GCM additional data) of a key id's HMAC key: a sealed key opens only for its own kid. */
const eabInfo = (kid: string): string => `certified acme eab ${kid}`;

/** A label for the binding (who it is for): one line, at most 64 characters. */
export function parseEabName(name: string): string {
  const trimmed = name.trim();
  // eslint-disable-next-line no-control-regex
  if (trimmed === '' || trimmed.length > NAME_LIMIT || /[\u0000-\u001f\u007f\u2028\u2029]/.test(trimmed)) {
    throw new InvalidInputError([{ option: 'name' }, ` must be one line of 1 to ${NAME_LIMIT} characters, got "${printable(name)}"`], [
      'Name whom the binding is for, like ',
      { option: 'name', value: 'ci' },
      '.',
    ]);
  }
  return trimmed;
}

/** The intermediate's private key, which seals and opens the HMAC keys (its password asked only if it is encrypted). */
export async function loadEabKey(store: CaStore, askPassword: AskPassword): Promise<KeyObject> {
  return eabSealingKey((await loadIssuer(store, INTERMEDIATE_NAME, askPassword)).key);
}

/** The key that seals EAB HMAC keys: the intermediate's own, which a PKCS#11 token never lets out. */
export function eabSealingKey(key: SigningKey): KeyObject {
  if (!key.privateKey) {
    throw new CertifiedError('external account bindings are sealed with the intermediate\'s key, and a PKCS#11 token holds it (it never leaves the token)', {
      code: 'EAB_NEEDS_KEY_FILE',
      hint: 'Turn eab off in the acme: section of certificates.yaml, or keep the intermediate\'s key in a file.',
    });
  }
  return key.privateKey;
}

export interface CreateEabParams {
  name?: string;
  /** The intermediate's private key (loadEabKey). */
  caKey: KeyObject;
  /** The command as typed, secrets masked: it goes into the commit message. */
  commandLine: string;
  now?: Date;
}

export interface CreateEabResult {
  kid: string;
  /** The HMAC key, base64url: returned this once, never written in clear. */
  hmacKey: string;
  /** The entry's path in the CA directory. */
  path: string;
  commit: string;
}

/** Makes a key id and an HMAC key and commits acme/eab/<kid>.json with the key sealed, as one reviewed change. */
export async function createEab(store: CaStore, params: CreateEabParams): Promise<CreateEabResult> {
  const name = params.name === undefined ? undefined : parseEabName(params.name);
  return store.locked(async () => {
    let kid = randomEabKid();
    while (await store.exists(eabPath(kid))) kid = randomEabKid();
    const hmacKey = randomHmacKey();
    const entry: EabEntry = {
      kid,
      ...(name === undefined ? {} : { name }),
      createdAt: (params.now ?? new Date()).toISOString(),
      encryptedKey: sealSecret(params.caKey, hmacKey, eabInfo(kid)),
      status: 'unused',
    };
    const path = eabPath(kid);
    const message = commitMessage({
      summary: `Make the ACME external account binding ${kid}${name === undefined ? '' : ` (${name})`}`,
      commandLine: params.commandLine,
      details: [
        `Key ID:   ${kid}`,
        ...(name === undefined ? [] : [`Name:     ${name}`]),
        `File:     ${path}`,
        `HMAC key: shown once when it was made; stored only encrypted to the key of the intermediate "${INTERMEDIATE_NAME}"`,
      ],
      trailers: { 'Certified-Action': 'acme-eab', ...(name === undefined ? {} : { 'Certified-Name': name }), 'Certified-Eab-Kid': kid },
    });
    const { commit } = await store.apply({ message, writes: [entryWrite(entry)] });
    return { kid, hmacKey: hmacKey.toString('base64url'), path, commit };
  });
}

export interface VerifyEabParams {
  /** The externalAccountBinding member of the newAccount payload, as received. */
  binding: unknown;
  /** The account's public key (the outer JWS's jwk). */
  accountJwk: JsonWebKey;
  /** The newAccount URL the outer JWS was posted to. */
  url: string;
  /** The intermediate's private key (loadEabKey), or how to get it: asked for only once the binding's shape, kid and status pass. */
  caKey: KeyObject | (() => Promise<KeyObject>);
}

/**
 * Checks a newAccount's External Account Binding: a flattened JWS, MACed (HS256, HS384 or HS512)
 * with the HMAC key of its kid, over the account's own public key, for this URL, without a nonce,
 * with a kid that no other account has used. Throws an AcmeProblem: `externalAccountRequired`
 * when there is no binding (call it only when the policy requires one), `malformed` for the
 * shape, `unauthorized` for everything a client could only get wrong without the right key.
 * Marking the kid used is the caller's, in the commit of the account (eabUsedWrite).
 */
export async function verifyEab(store: CaStore, params: VerifyEabParams): Promise<{ kid: string }> {
  if (params.binding === undefined || params.binding === null) {
    throw new AcmeProblem('externalAccountRequired', 'this CA makes accounts only with an External Account Binding: ask its operators for a key ID and an HMAC key');
  }
  const jws = flattenedJws(params.binding);
  const header = decodeJson(jws.protected, 'protected header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !Object.hasOwn(EAB_MAC_ALGORITHMS, alg)) {
    throw malformed(`the externalAccountBinding must be MACed with HS256, HS384 or HS512, not ${typeof alg === 'string' ? `"${alg.slice(0, 20)}"` : 'no "alg"'}`);
  }
  if ('nonce' in header) throw malformed('the externalAccountBinding protected header must not contain a nonce');
  if (typeof header.kid !== 'string') throw malformed('the externalAccountBinding protected header has no "kid"');
  if (typeof header.url !== 'string') throw malformed('the externalAccountBinding protected header has no "url"');
  const payload = decodeJson(jws.payload, 'payload');
  const kid = header.kid;

  // Everything that needs no secret first: a binding that cannot be right never opens the CA key.
  const bound = jwkThumbprintOf(payload);
  if (bound === undefined) throw malformed('the externalAccountBinding payload is not a public JWK');
  const account = jwkThumbprintOf(params.accountJwk);
  if (bound !== account) throw unauthorized("the externalAccountBinding binds another key, not the account's");
  if (header.url !== params.url) throw unauthorized(`the externalAccountBinding was made for the URL "${header.url.slice(0, 200)}", not "${params.url}"`);
  const entry = await readEntry(store, kid);
  if (entry.status === 'used' && entry.accountId !== account) throw unauthorized(`the external account binding "${kid}" was already used by another account`);
  const caKey = typeof params.caKey === 'function' ? await params.caKey() : params.caKey;
  const hmacKey = openSecret(caKey, entry.encryptedKey, eabInfo(kid));
  if (!hmacKey) {
    throw new AcmeProblem('unauthorized', `the external account binding key ID "${kid}" cannot be opened with the current intermediate key (it was made for an earlier one): ask for a new binding`, 403);
  }
  if (!verifyHmac(alg as EabMacAlgorithm, hmacKey, `${jws.protected}.${jws.payload}`, Buffer.from(jws.signature, 'base64url'))) {
    throw unauthorized(`the externalAccountBinding MAC does not match the HMAC key of "${kid}"`);
  }
  return { kid };
}

/**
 * The rewrite of acme/eab/<kid>.json that marks it used by `accountId` (the account's RFC 7638
 * thumbprint), for the caller to commit with the account record, under the lock. Throws an
 * `unauthorized` AcmeProblem when another account took the kid since verifyEab.
 */
export async function eabUsedWrite(store: CaStore, kid: string, accountId: string, now = new Date()): Promise<FileWrite> {
  const entry = await readEntry(store, kid);
  if (entry.status === 'used' && entry.accountId !== accountId) throw unauthorized(`the external account binding "${kid}" was already used by another account`);
  return entryWrite({ ...entry, status: 'used', accountId, usedAt: now.toISOString() });
}

function entryWrite(entry: EabEntry): FileWrite {
  return { path: eabPath(entry.kid), content: `${JSON.stringify(entry, null, 2)}\n`, commit: true };
}

/** The entry of a kid; an unknown (or impossible) kid is `unauthorized`, never a path outside acme/eab/. */
async function readEntry(store: CaStore, kid: string): Promise<EabEntry> {
  const unknown = () => unauthorized(`"${kid.slice(0, 64)}" is not an external account binding key ID of this CA`);
  if (!KID.test(kid)) throw unknown();
  const text = await store.readText(eabPath(kid));
  if (text === undefined) throw unknown();
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    entry = undefined;
  }
  if (!isEntry(entry, kid)) throw new AcmeProblem('serverInternal', `the external account binding "${kid}" is stored in a form this server cannot read`, 500);
  return entry;
}

function isEntry(value: unknown, kid: string): value is EabEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<EabEntry>;
  const sealed = entry.encryptedKey as Partial<SealedSecret> | undefined;
  return (
    entry.kid === kid &&
    (entry.status === 'unused' || entry.status === 'used') &&
    typeof sealed === 'object' &&
    sealed !== null &&
    sealed.algorithm === SEAL_ALGORITHM &&
    [sealed.salt, sealed.iv, sealed.ciphertext, sealed.tag].every((field) => typeof field === 'string')
  );
}

interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

function flattenedJws(binding: unknown): FlattenedJws {
  if (typeof binding !== 'object' || binding === null || Array.isArray(binding)) throw malformed('the externalAccountBinding must be a flattened JWS object');
  const fields = binding as Record<string, unknown>;
  for (const field of ['protected', 'payload', 'signature']) {
    const value = fields[field];
    if (typeof value !== 'string' || value === '' || !BASE64URL.test(value)) throw malformed(`the externalAccountBinding "${field}" must be a non-empty base64url string`);
  }
  return fields as unknown as FlattenedJws;
}

function decodeJson(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw malformed(`the externalAccountBinding ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`the externalAccountBinding ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

const malformed = (detail: string): AcmeProblem => new AcmeProblem('malformed', detail);
const unauthorized = (detail: string): AcmeProblem => new AcmeProblem('unauthorized', detail, 403);

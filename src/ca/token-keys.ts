/**
 * CA keys on PKCS#11 tokens: which module to load, opening a CA's key from its record in
 * certified.json (the user PIN asked like a password), and making or adopting a key for a new CA.
 * Errors name the part that failed and what to do, for the CLI to print on one line.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { toArrayBuffer } from '../pki/bytes.js';
import { certificateMatchesKey, describeKey, type KeySpec, type SigningKey } from '../pki/keys.js';
import { assertPkcs11Support, findModule, openTokenKey, TokenError, type TokenKey } from '../pki/pkcs11.js';
import { formatPkcs11Uri, parsePkcs11Uri, Pkcs11UriError, type Pkcs11Uri } from '../pki/pkcs11-uri.js';
import { keyIdentifier, subjectPublicKeyInfo, type SpkiKey } from '../pki/signature.js';
import type { CaStore, FileWrite } from '../store/ca-store.js';
import { CONFIG_FILE, INTERMEDIATE_NAME, isRootName } from '../store/layout.js';
import { serializeConfig, type CaConfig, type TokenKeyRecord } from './config.js';
import { loadCertificate } from './ca-files.js';
import { CertifiedError, InvalidInputError, type TextPart } from './errors.js';
import type { AskPassword } from './passwords.js';
import { namedTokenModule } from './token-module.js';

/** A URI given for a CA key, read and checked (no PIN in it), or an error naming the flag. */
export function readTokenKeyUri(text: string, option: TextPart): Pkcs11Uri {
  try {
    return parsePkcs11Uri(text);
  } catch (error) {
    if (!(error instanceof Pkcs11UriError)) throw error;
    throw new InvalidInputError([option, ` is not a usable PKCS#11 URI: ${error.message}`], 'Give one like pkcs11:token=ca;object=intermediate (RFC 7512).');
  }
}

/** The module to load: the one named by the user, the URI's module-path, or a well-known one of the recorded name. */
function modulePath(uri: Pkcs11Uri, recordedName?: string): string {
  const found = namedTokenModule() ?? uri.query['module-path'] ?? findModule(recordedName ?? uri.query['module-name']);
  if (found) return found;
  throw new CertifiedError(`no PKCS#11 module is named${recordedName ? ` and "${recordedName}" is in none of the usual places` : ', and none was found in the usual places'}`, {
    code: 'NO_PKCS11_MODULE',
    hint: ['Name the module with ', { option: 'pkcs11Module', value: 'PATH' }, ' or ', { variable: 'pkcs11Module' }, '=PATH (for SoftHSM: /usr/lib/softhsm/libsofthsm2.so).'],
  });
}

/** Opened keys, by module and URI: a command that loads an issuer twice logs in once. */
const opened = new Map<string, TokenKey>();
/** PINs given, by role and CA name. */
const pins = new Map<string, string | undefined>();

async function open(name: string, uri: Pkcs11Uri, module: string, askPassword: AskPassword, create?: KeySpec, dryRun = false): Promise<TokenKey> {
  const canonical = formatPkcs11Uri(uri);
  const cacheKey = `${module}\n${canonical}`;
  const kept = opened.get(cacheKey);
  if (kept) return kept;
  try {
    assertPkcs11Support(); // before the PIN is asked: without the binding it would be asked for nothing
  } catch (error) {
    if (error instanceof TokenError) throw tokenProblem(error, name, canonical);
    throw error;
  }
  // The root's token has a PIN of its own to give: like the root's password, never given by accident.
  const role = isRootName(name) ? 'root-pin' : 'pin';
  // Asked once per key and command, however often the key is looked at (init looks before it makes).
  const asked = `${role}\n${name}`;
  if (!pins.has(asked)) pins.set(asked, await askPassword({ role, name, path: canonical, ...(uri.query['pin-source'] ? { pinSource: uri.query['pin-source'] } : {}) }));
  const pin = pins.get(asked);
  try {
    const key = openTokenKey({ modulePath: module, uri, pin, ...(create ? { create, dryRun } : {}) });
    if (!(dryRun && key.created)) opened.set(cacheKey, key); // a key of the moment stands in for one dry run only
    return key;
  } catch (error) {
    if (error instanceof TokenError) throw tokenProblem(error, name, canonical);
    throw error;
  }
}

function tokenProblem(error: TokenError, name: string, uri: string): CertifiedError {
  const pin: readonly TextPart[] =
    isRootName(name)
      ? ["Give the root token's user PIN with ", { option: 'rootPin' }, ' (- reads it from stdin) or ', { variable: 'pkcs11RootPin' }, '; nothing was written.']
      : ['Give the user PIN with ', { option: 'pin' }, ' (- reads it from stdin) or ', { variable: 'pkcs11Pin' }, '; nothing was written.'];
  const hints: Record<TokenError['problem'], readonly TextPart[]> = {
    binding: ['Install certified where a C++ compiler is available (npm builds the optional package pkcs11js), then try again.'],
    module: ['Check the path given with ', { option: 'pkcs11Module' }, ' or ', { variable: 'pkcs11Module' }, '.'],
    token: ['Check token= in the URI against "pkcs11-tool --module MODULE --list-tokens".'],
    'no-pin': pin,
    pin,
    object: [`Check object= in "${uri}" against "pkcs11-tool --module MODULE --list-objects --login".`],
    exportable: ['Let certified make the key on the token instead: name an object= that does not exist yet.'],
    'key-type': ['Name a key of another object=, or one that does not exist yet (certified makes it: ECDSA P-384, or RSA with ', { option: 'keyType', value: 'rsa' }, ').'],
  };
  return new CertifiedError(`the key of "${name}" on the PKCS#11 token cannot be used: ${error.message}`, { code: 'PKCS11', hint: hints[error.problem], cause: error });
}

/**
 * Whether `error` says a CA's token key could not be reached (no module, no such token, no PIN
 * given), rather than that it was refused (a wrong PIN, a key of the wrong kind): what a command
 * may pass over for a key it can do without, saying so.
 */
export function isUnreachableTokenKey(error: unknown): error is CertifiedError {
  if (error instanceof CertifiedError && error.code === 'NO_PKCS11_MODULE') return true;
  const cause = error instanceof CertifiedError ? error.cause : undefined;
  return cause instanceof TokenError && (cause.problem === 'module' || cause.problem === 'token' || cause.problem === 'no-pin' || cause.problem === 'binding');
}

/** A CA's key from its record in certified.json. */
export async function openTokenCaKey(name: string, record: TokenKeyRecord, askPassword: AskPassword): Promise<SigningKey> {
  const uri = readTokenKeyUri(record.uri, `the PKCS#11 URI of "${name}" in certified.json`);
  // A recorded URI selects a key and nothing else: a module path or a PIN file in it would come
  // from whoever last changed certified.json, and a module is code this process would run.
  if (Object.keys(uri.query).length) {
    throw new CertifiedError(`the PKCS#11 URI of "${name}" in certified.json has a query (${Object.keys(uri.query).join(', ')}), which certified never records`, {
      code: 'BAD_CONFIG',
      hint: [`Restore certified.json from a reviewed commit, or remove the "?..." part of the URI; name the module with `, { option: 'pkcs11Module' }, '.'],
    });
  }
  const token = await open(name, uri, modulePath(uri, record.module), askPassword);
  return { spec: token.spec, token };
}

/** A key for a new CA: the token's key the URI names, made there (sensitive, not extractable) when it has none. */
export async function makeTokenCaKey(name: string, uri: Pkcs11Uri, spec: KeySpec, askPassword: AskPassword, options: { dryRun?: boolean } = {}): Promise<{ key: SigningKey & { token: TokenKey }; record: TokenKeyRecord; created: boolean }> {
  const module = modulePath(uri);
  // A dry run makes nothing on the token either: a key it would make is one of the moment.
  const token = await open(name, uri, module, askPassword, spec, options.dryRun === true);
  return { key: { spec: token.spec, token }, record: { uri: formatPkcs11Uri(uri), module: basename(module) }, created: token.created };
}

/** "ECDSA P-384 key made on the token (pkcs11:...)", for messages and commits. */
export function describeTokenKey(made: { key: SigningKey; record: TokenKeyRecord; created: boolean }): string {
  return `${describeKey(made.key.spec)} key ${made.created ? 'made on' : 'found on'} the PKCS#11 token (${made.record.uri})`;
}

/** "ECDSA P-384 key made on the PKCS#11 token (pkcs11:...), public key SHA-256 AB:CD:..", for commit messages. */
export function describeTokenKeyWithFingerprint(made: { key: SigningKey & { token: TokenKey }; record: TokenKeyRecord; created: boolean }): string {
  return `${describeTokenKey(made)}, public key SHA-256 ${publicKeyFingerprint(made.key)}`;
}

/** SHA-256 of a key's SubjectPublicKeyInfo, as hex pairs (as OpenSSL prints fingerprints). */
function publicKeyFingerprint(key: SigningKey & { token: TokenKey }): string {
  return createHash('sha256').update(key.token.publicKey.export({ type: 'spki', format: 'der' })).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** A token's key as the certificate builder takes a key pair: the public half as its SPKI. */
export function tokenKeyPair(key: SigningKey & { token: TokenKey }): SigningKey & { publicKey: SpkiKey } {
  const spki = key.token.publicKey.export({ type: 'spki', format: 'der' });
  return { ...key, publicKey: { rawData: toArrayBuffer(spki), spec: key.spec } };
}

/**
 * Refuses a URI for a new CA's key that names the key of a CA certified.json lists (`replaced`:
 * the revoked CA the new one replaces), before the token is opened: two CAs must never share a key.
 */
export function assertOwnTokenKey(config: CaConfig, uri: Pkcs11Uri, option: TextPart, name: string, replaced?: string): void {
  const canonical = formatPkcs11Uri(uri);
  const holder = Object.entries(config.tokenKeys ?? {}).find(([, record]) => formatPkcs11Uri(readTokenKeyUri(record.uri, 'certified.json')) === canonical)?.[0];
  if (holder !== undefined) throw sharedKey(option, uri, name, holder === replaced ? undefined : holder);
}

/**
 * The same, once the key is open, whatever its URI calls it: refuses the key of one of `holders`,
 * CA certificates, or of the revoked CA `name` replaces (`revokedKeyId`, its key identifier).
 */
export function assertKeyNotInUse(key: SigningKey & { token: TokenKey }, uri: Pkcs11Uri, option: TextPart, name: string, holders: { name: string; certificate: Uint8Array }[], revokedKeyId?: string): void {
  const holder = holders.find((candidate) => certificateMatchesKey(candidate.certificate, key));
  if (holder) throw sharedKey(option, uri, name, holder.name);
  if (revokedKeyId !== undefined && keyIdentifier(subjectPublicKeyInfo(tokenKeyPair(key).publicKey)) === revokedKeyId) throw sharedKey(option, uri, name, undefined);
}

/** The certificates of the CAs whose keys certified.json says are on tokens, but `except`'s: holders a new token key must not be. */
export async function tokenKeyHolders(store: CaStore, config: CaConfig, except: string): Promise<{ name: string; certificate: Uint8Array }[]> {
  const holders: { name: string; certificate: Uint8Array }[] = [];
  for (const name of Object.keys(config.tokenKeys ?? {})) {
    if (name === except) continue;
    const certificate = await loadCertificate(store, name);
    if (certificate) holders.push({ name, certificate: certificate.der });
  }
  return holders;
}

/** The refusal of a key another CA holds (`holder`), or the revoked CA `name` held (no holder). */
function sharedKey(option: TextPart, uri: Pkcs11Uri, name: string, holder: string | undefined): InvalidInputError {
  const canonical = formatPkcs11Uri(uri);
  const { id: _id, ...path } = uri.path;
  const suggestion = formatPkcs11Uri({ path: { ...path, object: holder === undefined ? `${uri.path.object ?? name}-2` : name }, query: uri.query });
  return new InvalidInputError(
    [option, holder === undefined ? ` names the key of the revoked ${name === INTERMEDIATE_NAME ? 'intermediate' : `CA "${name}"`} (${canonical})` : ` names the key of the CA "${holder}" (${canonical})`],
    `Give the new ${name === INTERMEDIATE_NAME ? 'intermediate' : 'CA'} a key of its own, like ${suggestion}.`,
  );
}

/** certified.json with the token key of `name` recorded, or no longer recorded (`record` undefined: a new key file). */
export function configWrite(config: CaConfig, name: string, record: TokenKeyRecord | undefined): FileWrite {
  const { [name]: _old, ...others } = config.tokenKeys ?? {};
  const tokenKeys = record ? { ...others, [name]: record } : others;
  const { tokenKeys: _all, ...rest } = config;
  return { path: CONFIG_FILE, content: serializeConfig({ ...rest, ...(Object.keys(tokenKeys).length ? { tokenKeys } : {}) }), commit: true };
}

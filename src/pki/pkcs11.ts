/**
 * CA keys held by a PKCS#11 token (an HSM, a YubiKey, SoftHSM, a cloud KMS's library): find the
 * key a URI names, or make it there (sensitive, never extractable), read its public half, and
 * sign with it. The native binding (the optional pkcs11js package) is loaded only here, only when
 * a token key is used.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ECParameters } from '@peculiar/asn1-ecc';
import type { Attribute, Binding, Pkcs11Module, Template } from './pkcs11-binding.js';
import type { KeySpec } from './keys.js';
import { formatPkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';
import { AsnEcSignatureFormatter } from './x509.js';

export type TokenProblem = 'binding' | 'module' | 'token' | 'no-pin' | 'pin' | 'object' | 'key-type' | 'exportable';

/** A token key that cannot be used; `problem` says which part failed, for the hint. */
export class TokenError extends Error {
  constructor(readonly problem: TokenProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenError';
  }
}

export interface OpenTokenKeyParams {
  modulePath: string;
  uri: Pkcs11Uri;
  pin: string | undefined;
  /** Makes the key pair on the token when it has no key the URI names. */
  create?: KeySpec;
  /** With create: a dry run, which leaves the token as it is and signs with a key of the moment instead. */
  dryRun?: boolean;
}

/** A private key a token holds: it signs there, and never leaves it. */
export interface TokenKey {
  spec: KeySpec;
  publicKey: KeyObject;
  /** True when this call made the key pair on the token. */
  created: boolean;
  /** The URI that named it, without its query. */
  uri: string;
  /** X.509's signature of `data`: DER ECDSA-Sig-Value, or PKCS#1 v1.5. */
  sign(hash: 'sha256' | 'sha384', data: Uint8Array): Buffer;
}

const CURVES: Record<string, 'P-256' | 'P-384'> = { '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.34': 'P-384' };
/** Curves certified does not sign with, named for the refusal. */
const OTHER_CURVES: Record<string, string> = { '1.3.132.0.35': 'P-521', '1.3.132.0.10': 'secp256k1', '1.2.840.10045.3.1.1': 'P-192', '1.3.132.0.33': 'P-224' };
const CURVE_OIDS: Record<'P-256' | 'P-384', string> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34' };
const CURVE_BYTES: Record<'P-256' | 'P-384', number> = { 'P-256': 32, 'P-384': 48 };

let binding: Binding | undefined;

/** Refuses, with TokenError 'binding', where the native binding is not installed: asked before a PIN is. */
export function assertPkcs11Support(): void {
  loadBinding();
}

function loadBinding(): Binding {
  if (binding) return binding;
  try {
    binding = createRequire(import.meta.url)('pkcs11js') as Binding;
    return binding;
  } catch (error) {
    throw new TokenError('binding', 'the PKCS#11 support (the optional package pkcs11js, built when certified is installed) is missing', { cause: error });
  }
}

/** One loaded, initialized module per path, for the life of the process. */
const modules = new Map<string, Pkcs11Module>();

function loadModule(path: string): Pkcs11Module {
  let module = modules.get(path);
  if (module) return module;
  const pkcs11 = loadBinding();
  module = new pkcs11.PKCS11();
  try {
    module.load(path);
  } catch (error) {
    throw new TokenError('module', `the PKCS#11 module "${path}" cannot be loaded (${firstLine(error)})`, { cause: error });
  }
  try {
    module.C_Initialize();
  } catch (error) {
    if (codeOf(error) !== pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw new TokenError('module', `the PKCS#11 module "${path}" failed to start (${firstLine(error)})`, { cause: error });
  }
  modules.set(path, module);
  return module;
}

/** Where distributions put PKCS#11 modules, searched for a module's file name. */
const MODULE_DIRECTORIES = ['/usr/lib/softhsm', '/usr/lib/x86_64-linux-gnu/softhsm', '/usr/lib/aarch64-linux-gnu/softhsm', '/usr/lib/x86_64-linux-gnu/pkcs11', '/usr/lib/aarch64-linux-gnu/pkcs11', '/usr/lib/pkcs11', '/usr/lib64/pkcs11', '/usr/lib', '/usr/lib64', '/usr/local/lib', '/usr/local/lib/softhsm', '/opt/homebrew/lib', '/opt/homebrew/lib/softhsm'];
/** Tried, in this order, when no module is named at all. */
const WELL_KNOWN_MODULES = ['libsofthsm2.so', 'opensc-pkcs11.so', 'libykcs11.so'];

/** The path of a PKCS#11 module by file name (or the first well-known one), searched in the usual places. */
export function findModule(name?: string): string | undefined {
  // RFC 7512's module-name leaves out the prefix and suffix: "softhsm2" is libsofthsm2.so.
  const files = name === undefined ? WELL_KNOWN_MODULES : /\.(so|dylib|dll)(\.\d+)*$/.test(name) ? [basename(name)] : [`lib${basename(name)}.so`, `${basename(name)}.so`];
  for (const file of files) {
    for (const directory of MODULE_DIRECTORIES) {
      const path = join(directory, file);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

const codeOf = (error: unknown): number | undefined => (error as { code?: number }).code;
const firstLine = (error: unknown): string => String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 200);
const padded = (text: string | undefined): string => (text ?? '').replace(/[\s\0]+$/, '');

function findSlot(module: Pkcs11Module, uri: Pkcs11Uri): Buffer {
  const wanted = uri.path;
  const matches: Buffer[] = [];
  const labels: string[] = [];
  const pkcs11 = loadBinding();
  for (const slot of module.C_GetSlotList(true)) {
    const info = module.C_GetTokenInfo(slot);
    if ((info.flags & pkcs11.CKF_TOKEN_INITIALIZED) === 0) continue; // an empty slot (SoftHSM always offers one)
    const label = padded(info.label);
    labels.push(label);
    if (wanted.token !== undefined && label !== wanted.token) continue;
    if (wanted.manufacturer !== undefined && padded(info.manufacturerID) !== wanted.manufacturer) continue;
    if (wanted.model !== undefined && padded(info.model) !== wanted.model) continue;
    if (wanted.serial !== undefined && padded(info.serialNumber) !== wanted.serial) continue;
    if (wanted['slot-id'] !== undefined && BigInt(`0x${Buffer.from(slot).reverse().toString('hex') || '0'}`).toString() !== wanted['slot-id']) continue;
    matches.push(slot);
  }
  const described = wanted.token === undefined ? 'no token matches the URI' : `there is no token "${wanted.token}"`;
  if (matches.length === 0) throw new TokenError('token', `${described} (the module has ${labels.length ? labels.map((label) => `"${label}"`).join(', ') : 'no initialized token'})`);
  if (matches.length > 1) throw new TokenError('token', `${matches.length} tokens match the URI: name one with token=LABEL`);
  return matches[0]!;
}

function login(module: Pkcs11Module, pkcs11: Binding, session: Buffer, pin: string | undefined, token: string): void {
  if (pin === undefined || pin === '') throw new TokenError('no-pin', `the token "${token}" needs its user PIN and none was given`);
  try {
    module.C_Login(session, pkcs11.CKU_USER, pin);
  } catch (error) {
    const code = codeOf(error);
    if (code === pkcs11.CKR_USER_ALREADY_LOGGED_IN) return;
    if (code === pkcs11.CKR_PIN_INCORRECT || code === pkcs11.CKR_PIN_LEN_RANGE) throw new TokenError('pin', `the PIN of the token "${token}" is wrong`, { cause: error });
    if (code === pkcs11.CKR_PIN_LOCKED) throw new TokenError('pin', `the PIN of the token "${token}" is locked (too many wrong PINs)`, { cause: error });
    throw new TokenError('pin', `the token "${token}" refused the login (${firstLine(error)})`, { cause: error });
  }
}

function findObjects(module: Pkcs11Module, session: Buffer, template: Template): Buffer[] {
  module.C_FindObjectsInit(session, template);
  try {
    return module.C_FindObjects(session, 3);
  } finally {
    module.C_FindObjectsFinal(session);
  }
}

/**
 * Opens (or makes) the key a URI names, logged in for the life of the process. The session is
 * read-only unless a key is made (some tokens, Cloud KMS's among them, refuse read-write ones),
 * and closed again when the key cannot be used; the token's own refusals become TokenErrors.
 */
export function openTokenKey(params: OpenTokenKeyParams): TokenKey {
  const pkcs11 = loadBinding();
  const module = loadModule(params.modulePath);
  const slot = findSlot(module, params.uri);
  const token = padded(module.C_GetTokenInfo(slot).label);
  let session = openSession(module, pkcs11, slot, false, token);
  try {
    login(module, pkcs11, session, params.pin, token);
    const select: Template = [
      ...(params.uri.path.object !== undefined ? [{ type: pkcs11.CKA_LABEL, value: params.uri.path.object }] : []),
      ...(params.uri.idBytes !== undefined ? [{ type: pkcs11.CKA_ID, value: Buffer.from(params.uri.idBytes) }] : []),
    ];
    const named = params.uri.path.object !== undefined ? `"${params.uri.path.object}"` : `id ${params.uri.path.id}`;
    let privates = findObjects(module, session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }, ...select]);
    let created = false;
    if (privates.length === 0 && params.create && params.dryRun) {
      module.C_CloseSession(session);
      return keyOfTheMoment(params.create, formatPkcs11Uri(params.uri));
    }
    if (privates.length === 0 && params.create) {
      // Read-write only to make the key; opened before the read-only one closes, which would log out.
      const readWrite = openSession(module, pkcs11, slot, true, token);
      module.C_CloseSession(session);
      session = readWrite;
      login(module, pkcs11, session, params.pin, token);
      generateKeyPair(module, pkcs11, session, select, params.create);
      privates = findObjects(module, session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }, ...select]);
      created = true;
    }
    if (privates.length === 0) throw new TokenError('object', `the token "${token}" has no private key ${named}`);
    if (privates.length > 1) throw new TokenError('object', `the token "${token}" has ${privates.length} private keys ${named}: name one with id=...`);
    const key = privates[0]!;
    // A key found there must stay there: one imported from a file, or that may be exported, is refused.
    if (!created) {
      const [sensitive, extractable] = module.C_GetAttributeValue(session, key, [{ type: pkcs11.CKA_SENSITIVE }, { type: pkcs11.CKA_EXTRACTABLE }]);
      const flag = (attribute: Attribute | undefined) => Buffer.isBuffer(attribute?.value) && attribute.value.length > 0 && attribute.value[0] !== 0;
      if (!flag(sensitive) || flag(extractable)) throw new TokenError('exportable', `the key ${named} on the token "${token}" ${flag(extractable) ? 'may be exported (CKA_EXTRACTABLE)' : 'is not sensitive (CKA_SENSITIVE)'}, so it could leave the token`);
    }
    const { spec, publicKey } = publicHalf(module, pkcs11, session, key, select, `${named} on the token "${token}"`);
    return tokenSigner(module, pkcs11, session, key, { spec, publicKey, created, uri: formatPkcs11Uri(params.uri) });
  } catch (error) {
    try {
      module.C_CloseSession(session);
    } catch {
      // already gone with the token
    }
    if (error instanceof TokenError) throw error;
    throw new TokenError('token', `the token "${token}" refused (${firstLine(error)})`, { cause: error });
  }
}

function openSession(module: Pkcs11Module, pkcs11: Binding, slot: Buffer, readWrite: boolean, token: string): Buffer {
  try {
    return module.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | (readWrite ? pkcs11.CKF_RW_SESSION : 0));
  } catch (error) {
    const why = codeOf(error) === pkcs11.CKR_TOKEN_WRITE_PROTECTED ? 'is write-protected, so no key can be made there' : `refused a session (${firstLine(error)})`;
    throw new TokenError('token', `the token "${token}" ${why}`, { cause: error });
  }
}

/** The TokenKey of an open session's key: signs there, hashing first for ECDSA. */
function tokenSigner(module: Pkcs11Module, pkcs11: Binding, session: Buffer, key: Buffer, described: Omit<TokenKey, 'sign'>): TokenKey {
  const { spec } = described;
  const formatter = new AsnEcSignatureFormatter();
  return {
    ...described,
    sign(hash, data) {
      if (spec.type === 'ecdsa') {
        const digest = createHash(hash).update(data).digest();
        module.C_SignInit(session, { mechanism: pkcs11.CKM_ECDSA }, key);
        const raw = module.C_Sign(session, digest, Buffer.alloc(CURVE_BYTES[spec.curve] * 2));
        return Buffer.from(formatter.toAsnSignature({ name: 'ECDSA', namedCurve: spec.curve } as never, new Uint8Array(raw))!);
      }
      module.C_SignInit(session, { mechanism: hash === 'sha384' ? pkcs11.CKM_SHA384_RSA_PKCS : pkcs11.CKM_SHA256_RSA_PKCS }, key);
      return module.C_Sign(session, Buffer.from(data), Buffer.alloc(spec.bits / 8));
    },
  };
}

function generateKeyPair(module: Pkcs11Module, pkcs11: Binding, session: Buffer, select: Template, spec: KeySpec): void {
  const id = select.some((attribute) => attribute.type === pkcs11.CKA_ID) ? [] : [{ type: pkcs11.CKA_ID, value: randomBytes(16) }];
  const common = [...select, ...id, { type: pkcs11.CKA_TOKEN, value: true }];
  const privateTemplate: Template = [
    ...common,
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_SIGN, value: true },
    // A CA key signs and does nothing else.
    { type: pkcs11.CKA_DECRYPT, value: false },
    { type: pkcs11.CKA_UNWRAP, value: false },
    ...(spec.type === 'ecdsa' ? [{ type: pkcs11.CKA_DERIVE, value: false }] : []),
  ];
  if (spec.type === 'ecdsa') {
    const params = Buffer.from(AsnConvert.serialize(new ECParameters({ namedCurve: CURVE_OIDS[spec.curve] })));
    module.C_GenerateKeyPair(session, { mechanism: pkcs11.CKM_EC_KEY_PAIR_GEN }, [...common, { type: pkcs11.CKA_EC_PARAMS, value: params }, { type: pkcs11.CKA_VERIFY, value: true }], privateTemplate);
  } else {
    module.C_GenerateKeyPair(
      session,
      { mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [...common, { type: pkcs11.CKA_MODULUS_BITS, value: spec.bits }, { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }, { type: pkcs11.CKA_VERIFY, value: true }],
      privateTemplate,
    );
  }
}

/** The key's type and public half: RSA from the private object, EC from its public object (which has the point). */
function publicHalf(module: Pkcs11Module, pkcs11: Binding, session: Buffer, key: Buffer, select: Template, named: string): { spec: KeySpec; publicKey: KeyObject } {
  const [type] = module.C_GetAttributeValue(session, key, [{ type: pkcs11.CKA_KEY_TYPE }]);
  const keyType = Buffer.isBuffer(type?.value) ? type.value.readUIntLE(0, Math.min(type.value.length, 6)) : undefined;
  const unsupported = (what: string) => new TokenError('key-type', `the key ${named} is ${what}, which certified does not sign with (ECDSA P-256 or P-384, RSA of 2048 bits or more)`);
  if (keyType === pkcs11.CKK_RSA) {
    const [modulus, exponent] = module.C_GetAttributeValue(session, key, [{ type: pkcs11.CKA_MODULUS }, { type: pkcs11.CKA_PUBLIC_EXPONENT }]);
    const n = Buffer.from(modulus!.value as Buffer);
    const bits = n.length * 8 - Math.clz32(n[0] ?? 0) + 24;
    if (bits < 2048) throw unsupported(`an RSA key of ${bits} bits`);
    const publicKey = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: Buffer.from(exponent!.value as Buffer).toString('base64url') }, format: 'jwk' });
    return { spec: { type: 'rsa', bits }, publicKey };
  }
  if (keyType !== pkcs11.CKK_EC) throw unsupported(keyType === undefined ? 'of an unknown type' : `of PKCS#11 key type ${keyType}`);
  // The public half shares the private key's CKA_ID; its label may differ (ykcs11 names them apart).
  const [id] = module.C_GetAttributeValue(session, key, [{ type: pkcs11.CKA_ID }]);
  const byId = Buffer.isBuffer(id?.value) && id.value.length > 0 ? [{ type: pkcs11.CKA_ID, value: id.value }] : select;
  let publics = findObjects(module, session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY }, ...byId]);
  if (publics.length === 0 && byId !== select) publics = findObjects(module, session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY }, ...select]);
  if (publics.length !== 1) throw new TokenError('object', `the key ${named} has ${publics.length ? 'several public keys' : 'no public key object'} beside it, so its public key cannot be read`);
  const [params, point] = module.C_GetAttributeValue(session, publics[0]!, [{ type: pkcs11.CKA_EC_PARAMS }, { type: pkcs11.CKA_EC_POINT }]);
  const oid = AsnConvert.parse(params!.value as Buffer, ECParameters).namedCurve;
  const curve = oid === undefined ? undefined : CURVES[oid];
  if (!curve) throw unsupported(`an ECDSA ${(oid && OTHER_CURVES[oid]) ?? `key on the curve ${oid ?? '(not named)'}`}${oid && OTHER_CURVES[oid] ? ' key' : ''}`);
  const raw = new Uint8Array(AsnConvert.parse(point!.value as Buffer, OctetString).buffer);
  const size = CURVE_BYTES[curve];
  if (raw.length !== 1 + 2 * size || raw[0] !== 4) throw unsupported('an EC key whose point is not uncompressed');
  const x = Buffer.from(raw.subarray(1, 1 + size)).toString('base64url');
  const y = Buffer.from(raw.subarray(1 + size)).toString('base64url');
  return { spec: { type: 'ecdsa', curve }, publicKey: createPublicKey({ key: { kty: 'EC', crv: curve, x, y }, format: 'jwk' }) };
}

/** What a dry run signs with in place of a key it would make on the token: in memory, gone after. */
function keyOfTheMoment(spec: KeySpec, uri: string): TokenKey {
  const { privateKey, publicKey } =
    spec.type === 'ecdsa' ? generateKeyPairSync('ec', { namedCurve: spec.curve }) : generateKeyPairSync('rsa', { modulusLength: spec.bits });
  return { spec, publicKey, created: true, uri, sign: (hash, data) => sign(hash, data, { key: privateKey, dsaEncoding: 'der' }) };
}

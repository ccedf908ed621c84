/**
 * PKCS#11 URIs (RFC 7512) naming a key on a token: `pkcs11:token=ca;object=intermediate`. The
 * path attributes select the token and the object; of the query attributes, `pin-source` and
 * `module-path`/`module-name` are kept, and `pin-value` is refused: a PIN written in a URI would
 * reach argv, shell history and certified.json.
 */

/** Path attributes that select a token or an object (RFC 7512 2.3). */
const PATH_ATTRIBUTES = ['token', 'manufacturer', 'model', 'serial', 'object', 'id', 'type', 'slot-id', 'slot-description', 'slot-manufacturer', 'library-description', 'library-manufacturer', 'library-version'] as const;
const QUERY_ATTRIBUTES = ['pin-source', 'module-name', 'module-path'] as const;

export type Pkcs11PathAttribute = (typeof PATH_ATTRIBUTES)[number];
export type Pkcs11QueryAttribute = (typeof QUERY_ATTRIBUTES)[number];

export interface Pkcs11Uri {
  /** The path attributes, percent-decoded (`id` as bytes in `idBytes`). */
  path: Partial<Record<Pkcs11PathAttribute, string>>;
  /** CKA_ID, when the URI gives `id`. */
  idBytes?: Uint8Array;
  query: Partial<Record<Pkcs11QueryAttribute, string>>;
}

export class Pkcs11UriError extends Error {}

/** A URI is read from a flag or certified.json: far longer than any real one is refused. */
const MAX_URI_LENGTH = 2048;

export function isPkcs11Uri(text: string): boolean {
  return text.slice(0, 7).toLowerCase() === 'pkcs11:';
}

function decode(value: string, attribute: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '%') {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new Pkcs11UriError(`the ${attribute} attribute has a "%" not followed by two hexadecimal digits`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return new Uint8Array(bytes);
}

function text(bytes: Uint8Array, attribute: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Pkcs11UriError(`the ${attribute} attribute is not UTF-8 text`);
  }
}

/** Parses a PKCS#11 URI; throws Pkcs11UriError saying what is wrong. */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (uri.length > MAX_URI_LENGTH) throw new Pkcs11UriError(`it is longer than ${MAX_URI_LENGTH} characters`);
  if (!isPkcs11Uri(uri)) throw new Pkcs11UriError('it does not start with "pkcs11:"');
  const rest = uri.slice(7);
  const question = rest.indexOf('?');
  const pathPart = question < 0 ? rest : rest.slice(0, question);
  const queryPart = question < 0 ? '' : rest.slice(question + 1);
  const parsed: Pkcs11Uri = { path: {}, query: {} };
  for (const pair of pathPart.split(';')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = (equals < 0 ? pair : pair.slice(0, equals)).toLowerCase();
    if (equals < 0) throw new Pkcs11UriError(`"${name.slice(0, 40)}" has no value`);
    if (!(PATH_ATTRIBUTES as readonly string[]).includes(name)) {
      if (name.startsWith('x-')) continue; // vendor attributes may be ignored (RFC 7512 2.3)
      throw new Pkcs11UriError(`"${name.slice(0, 40)}" is not a PKCS#11 URI path attribute`);
    }
    const attribute = name as Pkcs11PathAttribute;
    if (parsed.path[attribute] !== undefined) throw new Pkcs11UriError(`the ${attribute} attribute is given twice`);
    const bytes = decode(pair.slice(equals + 1), attribute);
    if (attribute === 'id') parsed.idBytes = bytes;
    parsed.path[attribute] = attribute === 'id' ? Buffer.from(bytes).toString('hex') : text(bytes, attribute);
  }
  for (const pair of queryPart.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = (equals < 0 ? pair : pair.slice(0, equals)).toLowerCase();
    if (name === 'pin-value') throw new Pkcs11UriError('it holds the PIN (pin-value): give the PIN with --pin or CERTIFIED_PKCS11_PIN instead, or point pin-source at a file');
    if (equals < 0) throw new Pkcs11UriError(`"${name.slice(0, 40)}" has no value`);
    if (!(QUERY_ATTRIBUTES as readonly string[]).includes(name)) {
      if (name.startsWith('x-')) continue;
      throw new Pkcs11UriError(`"${name.slice(0, 40)}" is not a PKCS#11 URI query attribute`);
    }
    const attribute = name as Pkcs11QueryAttribute;
    parsed.query[attribute] = text(decode(pair.slice(equals + 1), attribute), attribute);
  }
  if (parsed.path.object === undefined && parsed.idBytes === undefined) throw new Pkcs11UriError('it names no key: give object=LABEL (or id=...)');
  if (parsed.path.type !== undefined && !['private', 'public'].includes(parsed.path.type)) throw new Pkcs11UriError(`type=${parsed.path.type.slice(0, 20)} names no key pair (private, or leave it out)`);
  return parsed;
}

/** Characters RFC 7512 lets stand unencoded in a path value. */
const PATH_SAFE = /[A-Za-z0-9\-._~:[\]@!$'()*+,=&]/;

function encode(value: string): string {
  return [...value].map((char) => (PATH_SAFE.test(char) ? char : [...Buffer.from(char, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''))).join('');
}

/** The URI in a canonical spelling: its path attributes only (what selects the key), for certified.json. */
export function formatPkcs11Uri(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  for (const attribute of PATH_ATTRIBUTES) {
    const value = uri.path[attribute];
    if (value === undefined) continue;
    if (attribute === 'id') parts.push(`id=${[...(uri.idBytes ?? [])].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('')}`);
    else parts.push(`${attribute}=${encode(value)}`);
  }
  return `pkcs11:${parts.join(';')}`;
}

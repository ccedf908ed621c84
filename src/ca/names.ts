import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { assertPunycode, assertSanCount, normalizeIp, normalizeUri } from './address-forms.js';
import { DN_ATTRIBUTES, type DistinguishedName, type DnAttribute, type SubjectAltName } from '../pki/types.js';
import { InvalidInputError, UsageError } from './errors.js';

/** RFC 5280 upper bounds for the attributes we accept. */
const MAX_LENGTH: Record<DnAttribute, number> = { C: 2, ST: 128, L: 128, O: 64, OU: 64, CN: 64 };

// Control and format characters (newlines, NUL, bidi overrides, zero-width) and U+FFFD, which is
// what invalid UTF-8 in argv decodes to.
const FORBIDDEN_CHARACTER = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u{FFFD}\u2028\u2029]/u;

export interface SubjectArguments {
  dn: DistinguishedName;
  /** The `+name` arguments without the plus. */
  sans: string[];
}

/** Splits `C=US O=Example CN=host +alt.example.com` into attributes and SAN requests. */
export function parseSubjectArguments(args: string[]): SubjectArguments {
  const dn: DistinguishedName = {};
  const sans: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('+')) {
      sans.push(arg.slice(1));
      continue;
    }
    const equals = arg.indexOf('=');
    if (equals <= 0) {
      throw new UsageError(
        `unexpected argument "${printable(arg)}"`,
        'Subject attributes look like CN=host.example.com and extra names like +alt.example.com.',
      );
    }
    const key = arg.slice(0, equals).toUpperCase();
    if (!(DN_ATTRIBUTES as readonly string[]).includes(key)) {
      throw new UsageError(`unknown subject attribute "${printable(arg.slice(0, equals))}"`, `Use ${DN_ATTRIBUTES.join(', ')}.`);
    }
    const attribute = key as DnAttribute;
    if (dn[attribute] !== undefined) throw new UsageError(`${attribute} is given twice`, `Give ${attribute}= once.`);
    // Only spaces are trimmed: String.trim() would also drop a BOM, NBSP or a trailing newline,
    // which must be refused, not silently changed.
    dn[attribute] = arg.slice(equals + 1).replace(/^ +| +$/g, '');
  }
  return { dn, sans };
}

/** Checks every attribute: no control characters, within RFC 5280 lengths, C two letters. */
export function validateDn(dn: DistinguishedName, { requireCn = true } = {}): DistinguishedName {
  if (requireCn && (dn.CN === undefined || dn.CN === '')) {
    throw new InvalidInputError('the common name is missing or empty', 'Give one, like CN=host.example.com.');
  }
  if (dn.C !== undefined && !/^[A-Z]{2}$/.test(dn.C)) {
    throw new InvalidInputError(`C must be a two-letter country code, got "${printable(dn.C)}"`, 'Use an ISO 3166 code like C=US.');
  }
  for (const attribute of DN_ATTRIBUTES) {
    const value = dn[attribute];
    if (value === undefined) continue;
    if (value === '') throw new InvalidInputError(`${attribute} is empty`, `Give a value, or leave ${attribute}= out.`);
    if (FORBIDDEN_CHARACTER.test(value)) {
      throw new InvalidInputError(
        `${attribute} contains a control, invisible or invalid character`,
        'Use printable text only (no newlines, NUL, bidi or zero-width characters).',
      );
    }
    if ([...value].length > MAX_LENGTH[attribute]) {
      throw new InvalidInputError(
        `${attribute} is ${[...value].length} characters long, over the limit of ${MAX_LENGTH[attribute]}`,
        `Shorten ${attribute} (RFC 5280 upper bound).`,
      );
    }
  }
  return dn;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A DNS name as it goes into a certificate: lower-case, punycode, an optional leading `*.`. */
export function normalizeDnsName(input: string): string {
  const wildcard = input.startsWith('*.');
  const rest = wildcard ? input.slice(2) : input;
  if (rest.includes('*')) {
    throw new InvalidInputError(
      `"${printable(input)}" is not a valid wildcard`,
      'Only one "*." as the left-most label is allowed, like *.example.com.',
    );
  }
  if (FORBIDDEN_CHARACTER.test(rest) || /\s/.test(rest)) {
    throw new InvalidInputError(`"${printable(input)}" is not a valid DNS name: it contains spaces or control characters`);
  }
  const ascii = /^[\x21-\x7e]*$/.test(rest) ? rest.toLowerCase() : domainToASCII(rest);
  const labels = ascii.split('.');
  const bad = labels.find((label) => !LABEL.test(label));
  if (!ascii || ascii.length > 253 || bad !== undefined) {
    const why =
      bad !== undefined && bad.length > 63 ? `the label "${bad.slice(0, 20)}..." is over 63 characters` : 'labels are letters, digits and inner dashes';
    throw new InvalidInputError(`"${printable(input)}" is not a valid DNS name: ${why}`);
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    throw new InvalidInputError(`"${printable(input)}" is neither a DNS name nor an IP address`);
  }
  if (wildcard && labels.length < 2) {
    throw new InvalidInputError(`"${printable(input)}" is a wildcard over a top-level domain`, 'Use at least two labels after "*.", like *.example.com.');
  }
  assertPunycode(ascii, input);
  return wildcard ? `*.${ascii}` : ascii;
}

function normalizeEmail(input: string): string {
  const at = input.lastIndexOf('@');
  const local = input.slice(0, at);
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local) || local.length > 64) {
    throw new InvalidInputError(`"${printable(input)}" is not a valid e-mail address`, 'Use an ASCII address like alice@example.com.');
  }
  const domain = input.slice(at + 1);
  if (domain.startsWith('*')) throw new InvalidInputError(`"${printable(input)}" is not a valid e-mail address`);
  return `${local}@${normalizeDnsName(domain)}`;
}

/** One `+name` argument: URI:..., an e-mail address, an IPv4/IPv6 address or a DNS name. */
export function parseSan(input: string): SubjectAltName {
  const prefixed = /^(URI|DNS|IP|EMAIL):(.*)$/is.exec(input);
  const kind = prefixed?.[1]?.toUpperCase();
  const value = prefixed ? (prefixed[2] ?? '') : input;
  if (value === '') throw new InvalidInputError('an empty name was given with "+"', 'Write it like +alt.example.com.');
  if (kind === 'URI') return { type: 'uri', value: normalizeUri(value) };
  if (kind === 'EMAIL' || (!kind && value.includes('@'))) return { type: 'email', value: normalizeEmail(value) };
  if (kind === 'IP' || (!kind && looksLikeIp(value))) return { type: 'ip', value: normalizeIp(value) };
  return { type: 'dns', value: normalizeDnsName(value) };
}

/** An address rather than a name: four dotted numbers, or hex digits, dots and colons (a zone id or a prefix after). */
function looksLikeIp(value: string): boolean {
  return /^[0-9.]+$/.test(value) ? value.split('.').length === 4 : value.includes(':') && /^[0-9a-f:.]+(?:%\S*)?(?:\/[0-9]*)?$/i.test(value);
}

/** The SANs of a certificate: a DNS- or IP-shaped CN first, then the requested names, without repeats. */
export function subjectAltNames(cn: string | undefined, requested: string[]): SubjectAltName[] {
  assertSanCount(requested.length);
  const sans: SubjectAltName[] = [];
  const fromCn = cn === undefined ? undefined : sanFromCommonName(cn);
  if (fromCn) sans.push(fromCn);
  for (const input of requested) {
    const san = parseSan(input);
    if (!sans.some((known) => known.type === san.type && known.value === san.value)) sans.push(san);
  }
  assertSanCount(sans.length);
  return sans;
}

/**
 * The SAN a CN stands for, checked by the same rules as a `+name`: an IP address, or a host name
 * (letters, digits, ".", "-", "_" and "*", with a dot or a "*", or localhost). A CN that is not host-shaped
 * ("Alice Smith", "Build Server") names no SAN; a host-shaped one that fails the rules (*.com,
 * a..b, xn--zz.example) is refused, as the same name after "+" is.
 */
export function sanFromCommonName(cn: string): SubjectAltName | undefined {
  if (cn.includes(':') && looksLikeIp(cn)) return parseSan(`IP:${cn}`);
  if (!/^[\p{L}\p{M}\p{N}*._-]+$/u.test(cn)) return undefined;
  if (!cn.includes('.') && !cn.includes('*') && cn.toLowerCase() !== 'localhost') return undefined;
  return parseSan(cn);
}

export function formatSan(san: SubjectAltName): string {
  const label = { dns: 'DNS', ip: 'IP Address', email: 'email', uri: 'URI' }[san.type];
  return `${label}:${san.value}`;
}

/**
 * What a certificate's file name may hold. The pattern and the error text are built from these
 * lists, so the message names exactly what is accepted.
 */
const NAME_LETTERS = { pattern: '\\p{Ll}\\p{Lo}0-9', text: 'lower-case or caseless letters, digits' };
const NAME_PUNCTUATION: ReadonlyArray<readonly [character: string, text: string]> = [
  ['.', 'dots'],
  ['-', 'dashes'],
  ['_', '"_"'],
  ['@', '"@"'],
];
const NAME_MAX_LENGTH = 100;
const NAME = new RegExp(`^[${NAME_LETTERS.pattern}][${NAME_LETTERS.pattern}${NAME_PUNCTUATION.map(([c]) => c.replace(/[\\\]^-]/, '\\$&')).join('')}]*$`, 'u');
const NAME_PUNCTUATION_TEXT = NAME_PUNCTUATION.map(([, text]) => text);

/** "lower-case letters, digits, dots, dashes, "_" and "@", starting with ...": what validateName accepts. */
export const NAME_RULE =
  `${NAME_LETTERS.text}, ${NAME_PUNCTUATION_TEXT.slice(0, -1).join(', ')} and ${NAME_PUNCTUATION_TEXT.at(-1)}, ` +
  `starting with a letter or digit, at most ${NAME_MAX_LENGTH} characters, without ".." and not ending in ".chain"`;

/** Checks a file name for a certificate: it can never leave the CA directory or clash with a chain file. */
export function validateName(name: string): string {
  if (!NAME.test(name) || name.includes('..') || name.endsWith('.chain') || [...name].length > NAME_MAX_LENGTH) {
    throw new InvalidInputError(`"${printable(name)}" cannot be used as a file name`, ['Use ', { option: 'name' }, ` with ${NAME_RULE}.`]);
  }
  return name;
}

/**
 * The file name derived from a CN: lower-cased, spaces to dashes, a leading "*." as "wildcard.".
 * An IPv6 address (whose colons no file name may hold) has each ":" turned into "-", and a "0"
 * put before a leading "::" (the same address) so that the name starts with a digit:
 * 2001:db8::7 -> 2001-db8--7, ::1 -> 0--1. IPv4 addresses are names as they are.
 */
export function deriveName(cn: string): string {
  const trimmed = cn.trim();
  // Every IPv6 address has a colon; net.isIPv6 compiles a large pattern on first use (~7 ms).
  const name = trimmed.includes(':') && isIPv6(trimmed)
    ? trimmed.toLowerCase().replace(/^::/, '0::').replace(/:/g, '-')
    : trimmed.toLowerCase().replace(/\s+/g, '-').replace(/^\*\./, 'wildcard.');
  try {
    return validateName(name);
  } catch {
    throw new InvalidInputError(
      `cannot derive a file name from CN "${printable(cn)}"`,
      ['Give one with ', { option: 'name', value: 'NAME' }, ` (${NAME_RULE}); from a CN, spaces become dashes and an IPv6 address's colons become dashes.`],
    );
  }
}

/** Shows user input in an error without control characters or unbounded length. */
export function printable(value: string): string {
  const cleaned = value.replace(new RegExp(FORBIDDEN_CHARACTER.source, 'gu'), '?');
  return [...cleaned].length > 60 ? `${[...cleaned].slice(0, 57).join('')}...` : cleaned;
}

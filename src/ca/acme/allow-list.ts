import { formatIpAddress, ipAddressBytes } from '../../pki/ip-address.js';
import { normalizeIp } from '../address-forms.js';
import { InvalidInputError } from '../errors.js';
import { normalizeDnsName, printable } from '../names.js';
import type { AcmeIdentifier } from './types.js';

/**
 * The `allow` list of the ACME policy: ".example.com" (every name below example.com, not itself),
 * "host.example.com" (exactly that name), "10.0.0.0/8" or "10.0.0.5" (addresses in that range, or
 * that one). Entries are kept in one canonical text: lower-case punycode names, RFC 5952 addresses.
 */

/** Written like an address or a range rather than a name: no DNS name has a colon or a slash, or is all digits and dots. */
function looksLikeAddress(input: string): boolean {
  return input.includes(':') || input.includes('/') || /^[0-9][0-9.]*$/.test(input);
}

/** One `allow` entry in its canonical text; throws InvalidInputError saying what is wrong. */
export function normalizeAllowEntry(input: string): string {
  if (looksLikeAddress(input)) return normalizeRange(input);
  const below = input.startsWith('.');
  const rest = below ? input.slice(1) : input;
  if (rest.includes('*')) {
    throw new InvalidInputError(`"${printable(input)}" cannot be a wildcard`, 'Write .example.com to allow every name below example.com (wildcards included).');
  }
  if (rest === '') throw new InvalidInputError(`"${printable(input)}" names no domain`, 'Write it like .internal.example.com.');
  return `${below ? '.' : ''}${normalizeDnsName(rest)}`;
}

/** "10.0.0.0/8", "fd00::/8" or one address, each in any form normalizeIp accepts; bits set after the prefix are refused. */
function normalizeRange(input: string): string {
  const slash = input.indexOf('/');
  const address = normalizeIp(slash < 0 ? input : input.slice(0, slash));
  if (slash < 0) return address;
  const bytes = ipAddressBytes(address) ?? new Uint8Array();
  const prefixText = input.slice(slash + 1);
  const prefix = /^(0|[1-9][0-9]{0,2})$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix <= bytes.length * 8)) {
    throw new InvalidInputError(`"${printable(input)}" is not an address range: the prefix must be a number from 0 to ${bytes.length * 8}`, 'Write it in CIDR form, like 10.0.0.0/8 or fd00::/8.');
  }
  const network = formatIpAddress(masked(bytes, prefix));
  if (network !== address) {
    throw new InvalidInputError(`"${printable(input)}" has bits set after the /${prefix} prefix`, `Write the network address, like ${network}/${prefix}.`);
  }
  return `${address}/${prefix}`;
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  return bytes.map((byte, index) => byte & (0xff << (8 - Math.min(8, Math.max(0, prefix - index * 8)))) & 0xff);
}

/**
 * Whether the allow list covers a checked, canonical identifier. A wildcard "*.a.example.com" is
 * covered when the names below "a.example.com" are: by ".a.example.com" or ".example.com", never
 * by an exact entry.
 */
export function allowListCovers(allow: readonly string[], identifier: AcmeIdentifier): boolean {
  if (identifier.type === 'ip') {
    const bytes = ipAddressBytes(identifier.value);
    return bytes !== undefined && allow.some((entry) => looksLikeAddress(entry) && inRange(bytes, entry));
  }
  const wildcard = identifier.value.startsWith('*.');
  const name = wildcard ? identifier.value.slice(2) : identifier.value;
  return allow.some((entry) => {
    if (looksLikeAddress(entry)) return false;
    if (!entry.startsWith('.')) return !wildcard && name === entry;
    return name.endsWith(entry) || (wildcard && name === entry.slice(1));
  });
}

function inRange(bytes: Uint8Array, entry: string): boolean {
  const [address = '', prefixText] = entry.split('/');
  const network = ipAddressBytes(address);
  if (!network || network.length !== bytes.length) return false;
  const prefix = prefixText === undefined ? network.length * 8 : Number(prefixText);
  return formatIpAddress(masked(bytes, prefix)) === formatIpAddress(masked(network, prefix));
}

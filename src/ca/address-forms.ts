import { domainToASCII } from 'node:url';
import { formatIpAddress, ipAddressBytes, ipv4Bytes } from '../pki/ip-address.js';
import { InvalidInputError } from './errors.js';

/**
 * The forms of an address a certificate may name, and their one canonical text: what goes into
 * the certificate and what a manifest entry is compared with (an IP address as RFC 5952 hex, so
 * "::ffff:10.0.0.1" and "0:0:0:0:0:FFFF:A00:1" are one name, read back as "::ffff:a00:1").
 */

/** At most this many names in one certificate: more is a payload, not a server (and no client checks them fast). */
export const MAX_SANS = 1000;
/** A URI longer than this is a payload, not a name; browsers stop near 2,000 characters too. */
export const MAX_URI_LENGTH = 2048;

/** Shows input in an error without control characters or unbounded length. */
function shown(value: string): string {
  const cleaned = value.replace(/[^\x20-\x7e]/g, '?');
  return cleaned.length > 60 ? `${cleaned.slice(0, 57)}...` : cleaned;
}

/**
 * An IPv4 or IPv6 address in any RFC 4291 form (compressed or not, any case, leading zeros in hex
 * groups, an IPv4 part in the last 32 bits), as its canonical text. Refused, each with its reason:
 * a zone id, a range, and an IPv4 octet with a leading zero (010 is 8 to inet_aton, 10 to others).
 */
export function normalizeIp(input: string): string {
  const bytes = ipAddressBytes(input);
  if (bytes) return formatIpAddress(bytes);
  const bad = (why: string, hint: string): InvalidInputError => new InvalidInputError(`"${shown(input)}" is not a valid IP address: ${why}`, hint);
  if (input.includes('%')) throw bad('it has a zone id', 'IPv6 zone ids (like %eth0) name a link, not an address: leave them out.');
  if (input.includes('/')) {
    throw new InvalidInputError(
      `"${shown(input)}" is an IP address range, not an address`,
      ['A certificate names single addresses; a range belongs in a CA\'s name constraints (', { option: 'permitIp' }, ').'],
    );
  }
  const dotted = input.split(':').at(-1) ?? '';
  if (/(^|\.)0[0-9]/.test(dotted) && ipv4Bytes(dotted.replace(/(^|\.)0+(?=[0-9])/g, '$1'))) {
    throw bad('an IPv4 part has a leading zero, which some programs read as octal', 'Write each part in decimal without leading zeros, like 10.0.0.1.');
  }
  throw bad('it is neither a dotted IPv4 address nor an RFC 4291 IPv6 address', 'Write it like 10.0.0.1, 2001:db8::1 or ::ffff:10.0.0.1.');
}

/**
 * A name constraint range "address/prefix" (a bare address is a /32 or /128), the address in its
 * canonical text; undefined when it is not one. Bits set after the prefix are the caller's to refuse.
 */
export function parseIpRange(input: string): { address: string; bytes: Uint8Array; prefix: number } | undefined {
  const match = /^([0-9a-fA-F:.]+)(?:\/(0|[1-9][0-9]{0,2}))?$/.exec(input);
  const bytes = match ? ipAddressBytes(match[1] ?? '') : undefined;
  if (!match || !bytes) return undefined;
  const prefix = match[2] === undefined ? bytes.length * 8 : Number(match[2]);
  if (prefix > bytes.length * 8) return undefined;
  return { address: formatIpAddress(bytes), bytes, prefix };
}

/**
 * Checks the IDNA labels of an ASCII DNS name: every "xn--" label must be valid punycode that
 * decodes and encodes back to itself (node:url applies UTS #46), or a client shows another name
 * than the one certified, or none.
 */
export function assertPunycode(ascii: string, input: string): void {
  const label = badPunycodeLabel(ascii);
  if (label !== undefined) {
    throw new InvalidInputError(`"${shown(input)}" is not a valid DNS name: the label "${shown(label)}" is not valid punycode`, 'Write the name in Unicode (like bücher.example) and let certified encode it, or fix the xn-- label.');
  }
}

function badPunycodeLabel(ascii: string): string | undefined {
  return ascii.split('.').find((label) => label.startsWith('xn--') && domainToASCII(label) !== label);
}

/** Schemes that name a network resource with an authority (scheme://host...), minus the local file: scheme. */
const LOCAL_SCHEMES = new Set(['file']);
/** RFC 8141 URN: a namespace id and a namespace-specific string, as device identities (urn:uuid:...) use. */
const URN = /^urn:[a-z0-9][a-z0-9-]{0,30}[a-z0-9]:[\x21-\x7e]+$/i;
const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/**
 * A URI SAN (RFC 5280 4.2.1.6): absolute ASCII, at most MAX_URI_LENGTH characters, and either a
 * network URI with a host (https://host/..., spiffe://trust.domain/...) or a URN. Refused: schemes
 * without an authority (javascript:, data:, mailto:), file:, credentials in the authority, a host
 * that is neither a DNS name nor an IP address.
 */
export function normalizeUri(input: string): string {
  const bad = (why: string): InvalidInputError =>
    new InvalidInputError(`"${shown(input)}" is not a valid URI SAN: ${why}`, 'Use an absolute URI with a host, like +URI:spiffe://example.org/service or +URI:https://example.org/, or a URN like urn:uuid:...');
  if (!/^[\x21-\x7e]+$/.test(input)) throw bad('it must be ASCII without spaces');
  if (input.length > MAX_URI_LENGTH) throw bad(`it is over ${MAX_URI_LENGTH} characters`);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(input)?.[1]?.toLowerCase();
  if (scheme === undefined) throw bad('it has no scheme');
  if (scheme === 'urn') {
    if (!URN.test(input)) throw bad('a URN is urn:<namespace>:<name>');
    return input;
  }
  if (!input.slice(scheme.length + 1).startsWith('//')) throw bad(`the scheme "${scheme}:" names no host (only network URIs with scheme://host and URNs are accepted)`);
  if (LOCAL_SCHEMES.has(scheme)) throw bad(`the scheme "${scheme}:" names a local resource, not a network one`);
  try {
    new URL(input);
  } catch {
    throw bad('it does not parse as a URI');
  }
  // The host as written: URL would rewrite some (http://010.0.0.1 to 8.0.0.1), the certificate would not.
  const authority = /^[^/?#]*/.exec(input.slice(scheme.length + 3))?.[0] ?? '';
  if (authority.includes('@')) throw bad('it carries a user name or password');
  const ipv6 = /^\[([^\]]*)\](?::[0-9]*)?$/.exec(authority)?.[1];
  const host = ipv6 === undefined ? authority.replace(/:[0-9]*$/, '') : `[${ipv6}]`;
  const hostOk =
    ipv6 !== undefined ? ipAddressBytes(ipv6)?.length === 16
    : /^[0-9.]+$/.test(host) ? ipv4Bytes(host) !== undefined
    : host.length > 0 && host.length <= 253 && host.split('.').every((label) => HOST_LABEL.test(label));
  if (!hostOk) throw bad(`the host "${shown(host)}" is neither a DNS name nor an IP address`);
  const label = badPunycodeLabel(host.toLowerCase());
  if (label !== undefined) throw bad(`the label "${shown(label)}" of its host is not valid punycode`);
  return input;
}

/** Refuses more names than a certificate may carry, before any is checked or written. */
export function assertSanCount(count: number): void {
  if (count > MAX_SANS) {
    throw new InvalidInputError(
      `${count} names were asked for one certificate, over the limit of ${MAX_SANS}`,
      'Nothing was written. Split the names over several certificates, or use a wildcard like *.example.com.',
    );
  }
}

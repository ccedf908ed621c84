import { BlockList, isIPv4 } from 'node:net';
import { readNameConstraints, type NameConstraintSet } from '../../pki/extensions.js';
import { readPemBlocks, toPem } from '../../pki/pem.js';
import { parseCertificate } from '../../pki/certificate.js';
import type { SubjectAltName } from '../../pki/types.js';
import { InvalidInputError } from '../errors.js';
import { formatSan, normalizeDnsName, printable } from '../names.js';
import { parseIpRange } from '../address-forms.js';
import { formatIpAddress } from '../../pki/ip-address.js';

export type { NameConstraintSet };

export interface PermitOptions {
  permitDns?: string[];
  permitIp?: string[];
  permitEmail?: string[];
}

/** The permitted DNS domains, address ranges and e-mail domains as permitted subtrees, each checked and normalised; undefined when none. */
export function parsePermittedSubtrees(options: PermitOptions): NameConstraintSet | undefined {
  const set: NameConstraintSet = {
    dns: (options.permitDns ?? []).map(parsePermittedDomain),
    ip: (options.permitIp ?? []).map(parsePermittedRange),
    email: (options.permitEmail ?? []).map(parsePermittedEmail),
  };
  return set.dns.length + set.ip.length + set.email.length ? set : undefined;
}

/** "example.com" (it and every name under it) or ".example.com" (only names under it), as RFC 5280 and OpenSSL read them. */
function parsePermittedDomain(input: string): string {
  const dot = input.startsWith('.');
  const rest = dot ? input.slice(1) : input;
  if (rest.startsWith('*')) {
    throw new InvalidInputError([{ option: 'permitDns' }, ` "${printable(input)}" cannot be a wildcard`], 'Write .example.com for every name under example.com.');
  }
  try {
    return `${dot ? '.' : ''}${normalizeDnsName(rest)}`;
  } catch {
    throw new InvalidInputError([{ option: 'permitDns' }, ` "${printable(input)}" is not a DNS domain`], 'Write it like .internal.example.com or example.com.');
  }
}

function parsePermittedRange(input: string): string {
  const range = parseIpRange(input);
  if (!range) {
    throw new InvalidInputError([{ option: 'permitIp' }, ` "${printable(input)}" is not an address range`], 'Write it in CIDR form, like 10.0.0.0/8, fd00::/8 or ::ffff:10.0.0.0/104.');
  }
  const network = networkOf(range.bytes, range.prefix);
  if (network !== range.address) {
    throw new InvalidInputError(
      [{ option: 'permitIp' }, ` "${printable(input)}" has bits set after the /${range.prefix} prefix`],
      `Write the network address, like ${network}/${range.prefix}.`,
    );
  }
  return `${range.address}/${range.prefix}`;
}

/** "alice@example.com" (one mailbox), "example.com" (mailboxes at that host) or ".example.com" (at any host under it). */
function parsePermittedEmail(input: string): string {
  const at = input.lastIndexOf('@');
  const domain = at >= 0 ? input.slice(at + 1) : input;
  const local = at >= 0 ? input.slice(0, at) : '';
  try {
    if (at >= 0 && !/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local)) throw new Error('bad mailbox');
    const host = parsePermittedDomain(domain);
    return at >= 0 ? `${local}@${host}` : host;
  } catch {
    throw new InvalidInputError([{ option: 'permitEmail' }, ` "${printable(input)}" is not a mailbox or domain`], 'Write it like example.com, .example.com or alice@example.com.');
  }
}

/** The address with the bits after `prefix` cleared, in its canonical text. */
function networkOf(bytes: Uint8Array, prefix: number): string {
  const masked = bytes.map((byte, index) => {
    const bits = Math.min(8, Math.max(0, prefix - index * 8));
    return byte & (0xff << (8 - bits)) & 0xff;
  });
  return formatIpAddress(masked);
}

/** Does `name` fall under the permitted DNS subtree `constraint`? */
export function dnsPermitted(name: string, constraint: string): boolean {
  const host = name.toLowerCase().replace(/^\*\./, 'wildcard.');
  const base = constraint.toLowerCase();
  if (base.startsWith('.')) return host.endsWith(base);
  return host === base || host.endsWith(`.${base}`);
}

function ipPermitted(address: string, range: string): boolean {
  const [network = '', prefix = ''] = range.split('/');
  const family = isIPv4(network) ? 'ipv4' : 'ipv6';
  if ((family === 'ipv4') !== isIPv4(address)) return false;
  const list = new BlockList();
  list.addSubnet(network, Number(prefix), family);
  return list.check(address, family);
}

function emailPermitted(address: string, constraint: string): boolean {
  if (constraint.includes('@')) return address.toLowerCase() === constraint.toLowerCase();
  const host = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const base = constraint.toLowerCase();
  return base.startsWith('.') ? host.endsWith(base) : host === base;
}

export interface ConstrainedIssuer {
  /** The CA's CN, for the error. */
  name: string;
  permitted: NameConstraintSet;
}

/** The last chain parsed: apply checks thousands of names against the same chain. */
let lastChain: { pem: string; constraints: readonly ConstrainedIssuer[] } | undefined;

/** The name constraints of every CA in a chain (the issuer first, then its issuers). */
export function chainNameConstraints(chainPem: string): readonly ConstrainedIssuer[] {
  if (lastChain?.pem !== chainPem) {
    const constraints = readPemBlocks(chainPem).flatMap((block) => {
      const pem = toPem(block.der, 'CERTIFICATE');
      const permitted = readNameConstraints(pem);
      return permitted ? [{ name: parseCertificate(pem).subject.CN ?? 'a CA', permitted }] : [];
    });
    lastChain = { pem: chainPem, constraints: Object.freeze(constraints) };
  }
  return lastChain.constraints;
}

/**
 * Refuses, before anything is written, a name that a CA in the chain does not permit: clients would
 * reject the certificate ("permitted subtree violation"). A kind of name with no constraint is free.
 */
export function assertNamesPermitted(sans: SubjectAltName[], issuers: readonly ConstrainedIssuer[]): void {
  for (const { name, permitted } of issuers) {
    for (const san of sans) {
      const allowed =
        san.type === 'dns' ? (permitted.dns.length === 0 || permitted.dns.some((c) => dnsPermitted(san.value, c)))
        : san.type === 'ip' ? (permitted.ip.length === 0 || permitted.ip.some((c) => ipPermitted(san.value, c)))
        : san.type === 'email' ? (permitted.email.length === 0 || permitted.email.some((c) => emailPermitted(san.value, c)))
        : true;
      if (!allowed) {
        const list = san.type === 'dns' ? permitted.dns : san.type === 'ip' ? permitted.ip : permitted.email;
        throw new InvalidInputError(
          `"${printable(formatSan(san))}" is outside the name constraints of "${name}" (permitted: ${list.join(', ')})`,
          'Nothing was written. Use a name inside them; the CA cannot issue others.',
        );
      }
    }
  }
}

/** The constraints a CA signed by the issuer of `chainPem` is bound by: the chain's, then the CA's own (certified.json). */
export function issuerConstraints(chainPem: string, own: NameConstraintSet | undefined): ConstrainedIssuer[] {
  return [...chainNameConstraints(chainPem), ...(own ? [{ name: 'certified.json', permitted: own }] : [])];
}

const KINDS = [
  { kind: 'dns', option: 'permitDns', within: dnsWithin, example: 'a domain inside them' },
  { kind: 'ip', option: 'permitIp', within: ipWithin, example: 'a range inside them' },
  { kind: 'email', option: 'permitEmail', within: emailWithin, example: 'a domain or mailbox inside them' },
] as const;

/**
 * The name constraints of a CA signed for another engine: what its issuer chain permits (the
 * chain's constraints and the CA's own, `policy`), narrowed by what was asked. A kind of name asked
 * for replaces the chain's list of that kind, once each asked subtree is checked to lie inside every
 * constrained CA above; a kind not asked for keeps the nearest list of the chain. An asked subtree
 * outside the chain's is refused rather than narrowed away: the engine's operator would get less
 * than they wrote. Undefined when nothing constrains the new CA.
 */
export function externalConstraints(chain: readonly ConstrainedIssuer[], asked: NameConstraintSet | undefined): NameConstraintSet | undefined {
  const result: NameConstraintSet = { dns: [], ip: [], email: [] };
  for (const { kind, option, within, example } of KINDS) {
    const wanted = asked?.[kind] ?? [];
    if (wanted.length === 0) {
      result[kind] = [...(chain.find((issuer) => issuer.permitted[kind].length > 0)?.permitted[kind] ?? [])];
      continue;
    }
    for (const { name, permitted } of chain) {
      const list = permitted[kind];
      const outside = wanted.find((subtree) => list.length > 0 && !list.some((constraint) => within(subtree, constraint)));
      if (outside !== undefined) {
        throw new InvalidInputError(
          [{ option }, ` "${printable(outside)}" is outside the name constraints of "${name}" (permitted: ${list.join(', ')})`],
          `Nothing was written. Give ${example}, or leave it out to inherit them.`,
        );
      }
    }
    result[kind] = [...wanted];
  }
  return result.dns.length + result.ip.length + result.email.length ? result : undefined;
}

/** Is every name the DNS subtree `subtree` permits also permitted by `constraint`? */
function dnsWithin(subtree: string, constraint: string): boolean {
  const name = subtree.toLowerCase().replace(/^\./, '');
  const base = constraint.toLowerCase();
  if (!base.startsWith('.')) return name === base || name.endsWith(`.${base}`);
  return name.endsWith(base) || (subtree.startsWith('.') && `.${name}` === base);
}

function ipWithin(subtree: string, constraint: string): boolean {
  const [network = '', prefix = ''] = subtree.split('/');
  const [, basePrefix = ''] = constraint.split('/');
  return Number(prefix) >= Number(basePrefix) && ipPermitted(network, constraint);
}

function emailWithin(subtree: string, constraint: string): boolean {
  if (subtree.includes('@')) return emailPermitted(subtree, constraint);
  if (constraint.includes('@')) return false;
  const base = constraint.toLowerCase();
  const host = subtree.toLowerCase();
  if (!base.startsWith('.')) return host === base;
  return host.endsWith(base) || (host.startsWith('.') && host === base);
}

import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AcmeProblem, type ValidationTargets } from '../../../ca/acme/types.js';
import { beforeDeadline, remainingMs, type Deadline } from './deadline.js';

/**
 * Where a validation connects and what DNS says: the NAME=IP rules of the targets first, then
 * their DNS server, else the system resolver.
 */

/** The address of the first rule matching `name`: "*.example.test" matches every name below example.test, a plain name only itself. */
export function matchResolveRule(name: string, rules: ValidationTargets['resolve']): string | undefined {
  const lower = name.toLowerCase();
  for (const { pattern, address } of rules) {
    const wanted = pattern.toLowerCase();
    if (wanted.startsWith('*.') ? lower.endsWith(wanted.slice(1)) && lower.length > wanted.length - 1 : lower === wanted) return address;
  }
  return undefined;
}

function resolverFor(server: NonNullable<ValidationTargets['dnsServer']>, deadline: Deadline): Resolver {
  const resolver = new Resolver({ timeout: Math.max(1, Math.min(remainingMs(deadline), 2000)), tries: 2 });
  resolver.setServers([isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`]);
  return resolver;
}

/** The system's DNS servers (resolv.conf), asked directly. */
function systemResolver(deadline: Deadline): Resolver {
  return new Resolver({ timeout: Math.max(1, Math.min(remainingMs(deadline), 2000)), tries: 2 });
}

function errorCode(error: unknown): string {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' ? ((error as NodeJS.ErrnoException).code ?? 'error') : 'error';
}

/** The DNS answer codes that mean "no such record" rather than "the lookup failed". */
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA']);

/** The addresses to try for `name`, IPv4 first. Throws a `dns` problem when there are none. */
export async function addressesOf(name: string, targets: ValidationTargets, deadline: Deadline): Promise<string[]> {
  if (isIP(name)) return [name];
  const pinned = matchResolveRule(name, targets.resolve);
  if (pinned !== undefined) return [pinned];
  const failed = (why: string): AcmeProblem => new AcmeProblem('dns', `could not resolve "${name}": ${why}`);
  const timeout = (): AcmeProblem => failed(`no answer within ${deadline.timeoutMs} ms`);
  // A Resolver, not dns.lookup: its queries are cancelled at the deadline and hold no threadpool thread.
  const resolver = targets.dnsServer === undefined ? systemResolver(deadline) : resolverFor(targets.dnsServer, deadline);
  const [v4, v6] = await beforeDeadline(Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]), deadline, timeout, () => resolver.cancel());
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (addresses.length > 0) return addresses;
  const reasons = [v4, v6].flatMap((result) => (result.status === 'rejected' ? [errorCode(result.reason)] : []));
  throw failed(reasons.every((code) => NO_RECORD.has(code)) ? 'it has no A or AAAA record' : `the lookup failed (${reasons.find((code) => !NO_RECORD.has(code))})`);
}

/**
 * The TXT records of `name`, each as the concatenation of its strings; [] when the name or the
 * record does not exist. Throws a `dns` problem when the lookup fails.
 */
export async function txtRecordsOf(name: string, targets: ValidationTargets, deadline: Deadline): Promise<string[]> {
  const resolver = targets.dnsServer === undefined ? systemResolver(deadline) : resolverFor(targets.dnsServer, deadline);
  const failed = (why: string): AcmeProblem => new AcmeProblem('dns', `could not look up the TXT records of "${name}": ${why}`);
  try {
    const records = await beforeDeadline(resolver.resolveTxt(name), deadline, () => failed(`no answer within ${deadline.timeoutMs} ms`), () => resolver.cancel());
    return records.map((chunks) => chunks.join(''));
  } catch (error) {
    if (error instanceof AcmeProblem) throw error;
    if (NO_RECORD.has(errorCode(error))) return [];
    throw failed(`the lookup failed (${errorCode(error)})`);
  }
}

/** The reverse-DNS name of an IP address (RFC 8738 6): d.c.b.a.in-addr.arpa, or the nibbles of ip6.arpa. */
export function reverseDnsName(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${[...bytes].reverse().join('.')}.in-addr.arpa`;
  const nibbles = [...bytes].flatMap((byte) => [(byte >> 4).toString(16), (byte & 0xf).toString(16)]);
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

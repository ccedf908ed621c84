export type AcmeIdentifier = { type: 'dns' | 'ip'; value: string };
export type ChallengeType = 'http-01' | 'tls-alpn-01' | 'dns-01';
export const CHALLENGE_TYPES: readonly ChallengeType[] = ['http-01', 'tls-alpn-01', 'dns-01'];
export interface AcmePolicy { allow: string[]; days: number; challenges: ChallengeType[]; eab: boolean }
/** Where validations connect, for labs and tests. */
export interface ValidationTargets {
  httpPort: number;                 // 80
  tlsPort: number;                  // 443
  dnsServer?: { host: string; port: number };   // undefined: the system resolver
  resolve: { pattern: string; address: string }[];  // "*.example.test" or "host.example.test" -> IP
  timeoutMs: number;                // per validation attempt, e.g. 10_000
  /** Where an http-01 redirect may lead besides the identifier itself: entries of the ACME allow list. */
  redirectAllow?: readonly string[];
}
/** An RFC 8555 problem: type is the short name ("malformed"); status the HTTP status. */
export class AcmeProblem extends Error {
  constructor(readonly type: string, detail: string, readonly status = 400, readonly subproblems?: { type: string; detail: string; identifier?: AcmeIdentifier }[]) { super(detail); }
}

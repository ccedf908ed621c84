import { UsageError } from '../ca/errors.js';
import { deriveName, parseSubjectArguments, subjectAltNames, validateDn, validateName } from '../ca/names.js';
import { parseDays, parseKeySpec } from '../ca/options.js';
import { DEFAULT_LEAF_DAYS, type LeafProfile } from '../ca/profiles.js';
import type { KeySpec } from '../ca/types.js';
import type { DistinguishedName, SubjectAltName } from '../ca/types.js';
import type { RootOptions } from './options.js';
import { resolveSecret } from './secrets.js';

/** What `certified [options] CN=.. +names` asks for, validated: the common ground of issue, self-signed and --no-sign. */
export interface LeafRequest {
  dn: DistinguishedName;
  cn: string;
  name: string;
  sans: SubjectAltName[];
  profile: LeafProfile;
  key: KeySpec;
  days: number;
}

export function parseLeafRequest(args: string[], options: RootOptions): LeafRequest {
  if (options.client && options.server) {
    throw new UsageError('--client and --server cannot go together', 'Leave both out for a certificate that is both.');
  }
  const parsed = parseSubjectArguments(args);
  const dn = validateDn(parsed.dn);
  const cn = dn.CN ?? '';
  return {
    dn,
    cn,
    name: options.name !== undefined ? validateName(options.name) : deriveName(cn),
    sans: subjectAltNames(cn, parsed.sans),
    profile: options.client ? 'client' : options.server ? 'server' : 'server+client',
    key: parseKeySpec(options, 'leaf'),
    days: options.days === undefined ? DEFAULT_LEAF_DAYS : parseDays(options.days),
  };
}

/** The optional password that encrypts a new certificate key (and then has it committed). */
export function newKeyPassword(name: string, options: RootOptions): Promise<string | undefined> {
  return resolveSecret({
    label: `the key of "${name}"`,
    flag: '--password',
    flagValue: options.password,
    env: 'CERTIFIED_PASSWORD',
    forNewKey: true,
  });
}

import { UsageError } from '../ca/errors.js';
import { deriveName, parseSubjectArguments, validateDn, validateName } from '../ca/names.js';

/** The certificate a command acts on: `CN=..` (its derived name) or `--name NAME`, not both. */
export function targetName(args: string[], name: string | undefined, verb: string): string {
  const parsed = parseSubjectArguments(args);
  if (parsed.sans.length) throw new UsageError(`${verb} takes no +names`, `Name the certificate by CN=.. or --name NAME.`);
  const others = Object.keys(parsed.dn).filter((attribute) => attribute !== 'CN');
  if (others.length) throw new UsageError(`${verb} takes only CN=.. (got ${others.join(', ')})`, 'Name the certificate by CN=.. or --name NAME.');
  if (name !== undefined && parsed.dn.CN !== undefined) throw new UsageError('give CN=.. or --name, not both');
  if (name !== undefined) return validateName(name);
  if (parsed.dn.CN === undefined) throw new UsageError(`which certificate? Give CN=.. or --name NAME`, `For example: certified ${verb} CN=host.example.com`);
  return deriveName(validateDn(parsed.dn).CN ?? '');
}

import { isKeyEncrypted } from '../ca/ca-files.js';
import { UsageError } from '../ca/errors.js';
import { deriveName, parseSubjectArguments, validateDn, validateName } from '../ca/names.js';
import type { CaStore } from '../ca/ca-directory.js';
import { INTERMEDIATE_NAME, ROOT_NAME } from '../ca/layout.js';
import { requireSecret, resolveSecret, type SecretRequest } from './secrets.js';

/** The certificate a command acts on: `CN=..` (its derived name) or `--name NAME`, not both. */
export function targetName(args: string[], name: string | undefined, verb: string): string {
  const parsed = parseSubjectArguments(args);
  if (parsed.sans.length) throw new UsageError(`${verb} takes no +names`, `Name the certificate by CN=.. or --name NAME.`);
  const others = Object.keys(parsed.dn).filter((attribute) => attribute !== 'CN');
  if (others.length) throw new UsageError(`${verb} takes only CN=.. (got ${others.join(', ')})`, 'Name the certificate by CN=.. or --name NAME.');
  if (name !== undefined && parsed.dn.CN !== undefined) throw new UsageError('give CN=.. or --name, not both');
  if (name !== undefined) return validateName(name);
  if (parsed.dn.CN === undefined) throw new UsageError(`which certificate? Give CN=.. or --name NAME`, `For example: certified ${verb === 'renew' ? 'renew' : '--revoke'} CN=host.example.com`);
  return deriveName(validateDn(parsed.dn).CN ?? '');
}

/** The password of a CA's key when it is encrypted: the root password for the root, else --ca-password. */
export async function issuerPassword(
  store: CaStore,
  issuer: string,
  options: { caPassword?: string | undefined; rootPassword?: string | undefined },
): Promise<string | undefined> {
  if (!(await isKeyEncrypted(store, issuer))) return undefined;
  const request: SecretRequest =
    issuer === ROOT_NAME
      ? { label: 'the root key', flag: '--root-password', flagValue: options.rootPassword, env: 'CERTIFIED_ROOT_PASSWORD', prompt: { confirm: false } }
      : {
          label: issuer === INTERMEDIATE_NAME ? 'the intermediate key' : `the key of the CA "${issuer}"`,
          flag: '--ca-password',
          flagValue: options.caPassword,
          env: 'CERTIFIED_CA_PASSWORD',
          prompt: { confirm: false },
        };
  return requireSecret(await resolveSecret(request), request);
}

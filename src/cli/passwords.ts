import { keyLabel, type AskPassword, type KeyRole, type PasswordRequest } from '../ca/passwords.js';
import { resolveSecret, type SecretRequest } from './secrets.js';

/** Where the password of each kind of key comes from: its flag and its environment variable. */
export const PASSWORD_SOURCES: Record<KeyRole, { flag: string; env: string; option: 'rootPassword' | 'caPassword' | 'password' }> = {
  root: { flag: '--root-password', env: 'CERTIFIED_ROOT_PASSWORD', option: 'rootPassword' },
  ca: { flag: '--ca-password', env: 'CERTIFIED_CA_PASSWORD', option: 'caPassword' },
  certificate: { flag: '--password', env: 'CERTIFIED_PASSWORD', option: 'password' },
};

export interface PasswordFlags {
  rootPassword?: string | undefined;
  caPassword?: string | undefined;
  password?: string | undefined;
}

/**
 * The callback ca/ calls when it opens an encrypted key: the role's flag (`-` reads one line of
 * stdin, once per role, since one flag serves every key of that role), else its environment
 * variable, else a masked prompt on a TTY. `roles` limits which keys may be asked for at all (the
 * others get no password, so ca/ reports them); `prompt: false` never prompts.
 */
export function askPasswordFrom(flags: PasswordFlags, options: { roles?: readonly KeyRole[]; prompt?: boolean } = {}): AskPassword {
  const fromStdin = new Map<KeyRole, Promise<string | undefined>>();
  return async (request: PasswordRequest) => {
    if (options.roles && !options.roles.includes(request.role)) return undefined;
    const source = PASSWORD_SOURCES[request.role];
    const secret: SecretRequest = {
      label: keyLabel(request),
      flag: source.flag,
      flagValue: flags[source.option],
      env: source.env,
      ...(options.prompt === false ? {} : { prompt: { confirm: false } }),
    };
    if (secret.flagValue !== '-') return resolveSecret(secret);
    let line = fromStdin.get(request.role);
    if (!line) fromStdin.set(request.role, (line = resolveSecret(secret)));
    return line;
  };
}

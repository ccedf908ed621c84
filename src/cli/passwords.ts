import { keyLabel, type AskPassword, type KeyRole, type PasswordRequest } from '../ca/passwords.js';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../ca/errors.js';
import { InputFileError, readInputFile } from '../ca/input-files.js';
import { resolveSecret, type SecretRequest } from './secrets.js';

/** Where the password of each kind of key comes from: its flag and its environment variable. */
export const PASSWORD_SOURCES: Record<KeyRole, { flag: string; env: string; option: 'rootPassword' | 'caPassword' | 'password' | 'pin' | 'rootPin' }> = {
  root: { flag: '--root-password', env: 'CERTIFIED_ROOT_PASSWORD', option: 'rootPassword' },
  ca: { flag: '--ca-password', env: 'CERTIFIED_CA_PASSWORD', option: 'caPassword' },
  certificate: { flag: '--password', env: 'CERTIFIED_PASSWORD', option: 'password' },
  pin: { flag: '--pin', env: 'CERTIFIED_PKCS11_PIN', option: 'pin' },
  'root-pin': { flag: '--root-pin', env: 'CERTIFIED_PKCS11_ROOT_PIN', option: 'rootPin' },
};

export interface PasswordFlags {
  rootPassword?: string | undefined;
  caPassword?: string | undefined;
  password?: string | undefined;
  pin?: string | undefined;
  rootPin?: string | undefined;
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
    // A PIN the key's URI says where to read (pin-source=file:...), unless given otherwise.
    const isPin = request.role === 'pin' || request.role === 'root-pin';
    if (isPin && request.pinSource && flags[source.option] === undefined && process.env[source.env] === undefined) return readPinSource(request.pinSource);
    const secret: SecretRequest = {
      label: keyLabel(request),
      flag: source.flag,
      flagValue: flags[source.option],
      env: source.env,
      ...(isPin ? { noun: 'PIN' } : {}),
      ...(options.prompt === false ? {} : { prompt: { confirm: false } }),
    };
    if (secret.flagValue !== '-') return resolveSecret(secret);
    let line = fromStdin.get(request.role);
    if (!line) fromStdin.set(request.role, (line = resolveSecret(secret)));
    return line;
  };
}

/** The first line of the file a PKCS#11 URI's pin-source names (a file: URI or a path). */
async function readPinSource(source: string): Promise<string> {
  const path = source.startsWith('file:') ? fileURLToPath(new URL(source)) : source;
  try {
    return Buffer.from(await readInputFile(path, 'pin')).toString('utf8').split(/\r?\n/)[0] ?? '';
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    throw new UsageError(`the PIN file "${path.slice(0, 100)}" named by pin-source cannot be read: ${error.why}`, 'Fix pin-source in the URI, or give the PIN with --pin (--root-pin for the root) or its environment variable.');
  }
}

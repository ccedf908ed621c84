import { PasswordError, type CertifiedError, type OptionName, type Spelling, type VariableName } from '../ca/errors.js';
import { PASSWORD_SOURCES } from './passwords.js';

/**
 * The hint printed after an error's message. ca/ never names a flag or an environment variable:
 * where the user must be told which one to use, its error says what it is about (a key's role,
 * an option), and the hint is written here.
 */
export function renderHint(error: CertifiedError): string | undefined {
  if (error instanceof PasswordError && error.role) {
    const { flag, env } = PASSWORD_SOURCES[error.role];
    if (error.problem === 'missing') return `Pass ${flag} - (one line on stdin) or set ${env}.`;
    if (error.problem === 'new-key') return `Pass ${flag} - (one line on stdin) or set ${env}, or keep the key with --reuse-key.`;
  }
  return error.renderHint(FLAGS) ?? (error.exitCode === 2 ? 'Run "certified --help" for usage.' : undefined);
}

const VARIABLES: Record<VariableName, string> = { db: 'CERTIFIED_DB', javaStorePass: 'CERTIFIED_JAVA_STOREPASS', pkcs11Module: 'CERTIFIED_PKCS11_MODULE', pkcs11Pin: 'CERTIFIED_PKCS11_PIN', pkcs11RootPin: 'CERTIFIED_PKCS11_ROOT_PIN' };

/** An option as its flag (`keyType` -> `--key-type`), a variable as its name. */
export const FLAGS: Spelling = {
  option: (option: OptionName) => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  variable: (variable: VariableName) => VARIABLES[variable],
};

import { CertifiedError } from '../ca/errors.js';

/** Temporary: a command that is registered but not built yet. */
export function notBuiltYet(command: string): CertifiedError {
  return new CertifiedError(`"${command}" is not built yet`, { code: 'NOT_BUILT', hint: 'See the project issues.' });
}

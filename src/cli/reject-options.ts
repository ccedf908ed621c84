import { UsageError } from '../ca/errors.js';
import type { RootOptions } from './options.js';

const flag = (option: string): string => (option === 'sign' ? '--no-sign' : `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

/** Refuses root options that make no sense for `mode` (e.g. --ca-password with --self-signed). */
export function rejectOptions(options: RootOptions, mode: string, rejected: readonly (keyof RootOptions)[]): void {
  for (const option of rejected) {
    const value = options[option];
    const given = option === 'sign' ? value === false : value !== undefined && value !== false;
    if (given) throw new UsageError(`${flag(option)} cannot go with ${mode}`, `Drop ${flag(option)}, or run "certified --help" for usage.`);
  }
}

/** Options that only --ca uses. */
export const CA_OPTIONS = ['ca', 'rootPassword', 'intermediatePassword', 'crlUrl', 'rootCrlUrl', 'ocspUrl', 'permitDns', 'permitIp', 'crlDays'] as const;
/** Options of the other modes of the root command. */
export const MODE_OPTIONS = ['revoke', 'reason', 'selfSigned', 'sign', 'csr'] as const;

import type { KeySpec } from '../pki/keys.js';
import { InvalidInputError, UsageError } from './errors.js';
import { printable } from './names.js';
import { DEFAULT_CA_KEY, DEFAULT_CA_RSA_BITS, DEFAULT_LEAF_KEY, DEFAULT_LEAF_RSA_BITS } from './profiles.js';

const MAX_DAYS = 36_500;
const MIN_BITS = 2048;
const MAX_BITS = 8192;

function wholeNumber(value: string): number | undefined {
  return /^[0-9]{1,9}$/.test(value) ? Number(value) : undefined;
}

export function parseDays(value: string, option: 'days' | 'crlDays' | 'rootCrlDays' | 'expiring' = 'days'): number {
  const days = wholeNumber(value);
  if (days === undefined || days < 1 || days > MAX_DAYS) {
    throw new InvalidInputError([{ option }, ` must be a whole number of days from 1 to ${MAX_DAYS}, got "${printable(value)}"`], [
      'Write it like ',
      { option, value: '365' },
      '.',
    ]);
  }
  return days;
}

/** A CA's path length: how many CAs may stand below it (0: it signs leaves only). */
export function parsePathLength(value: string): number {
  const length = wholeNumber(value);
  if (length === undefined || length > MAX_PATH_LENGTH) {
    throw new InvalidInputError([{ option: 'pathlen' }, ` must be a whole number from 0 to ${MAX_PATH_LENGTH}, got "${printable(value)}"`], [
      'Write it like ',
      { option: 'pathlen', value: '0' },
      ' (the CA signs leaves only).',
    ]);
  }
  return length;
}

const MAX_PATH_LENGTH = 8;

export function parseSeconds(value: string, option: 'lockTimeout'): number {
  const seconds = wholeNumber(value);
  if (seconds === undefined) {
    throw new InvalidInputError([{ option }, ` must be a whole number of seconds, got "${printable(value)}"`]);
  }
  return seconds;
}

export interface KeyOptions {
  keyType?: string;
  bits?: string;
}

/** The key to generate: an RSA key size implies RSA; defaults differ for CAs (P-384 / RSA 4096) and leaves (P-256 / RSA 2048). */
export function parseKeySpec(options: KeyOptions, kind: 'ca' | 'leaf'): KeySpec {
  const type = options.keyType?.toLowerCase();
  if (type !== undefined && type !== 'ecdsa' && type !== 'rsa') {
    throw new UsageError([{ option: 'keyType' }, ` must be "ecdsa" or "rsa", got "${printable(options.keyType ?? '')}"`]);
  }
  if (options.bits !== undefined) {
    if (type === 'ecdsa') {
      throw new UsageError([{ option: 'bits' }, ' is for RSA keys and cannot go with ', { option: 'keyType', value: 'ecdsa' }], ['Drop ', { option: 'bits' }, ', or use ', { option: 'keyType', value: 'rsa' }, '.']);
    }
    const bits = wholeNumber(options.bits);
    if (bits === undefined || bits < MIN_BITS || bits > MAX_BITS || bits % 8 !== 0) {
      throw new InvalidInputError(
        [{ option: 'bits' }, ` must be a multiple of 8 from ${MIN_BITS} to ${MAX_BITS}, got "${printable(options.bits)}"`],
        ['Use ', { option: 'bits', value: '2048' }, ', 3072 or 4096.'],
      );
    }
    return { type: 'rsa', bits };
  }
  if (type === 'rsa') return { type: 'rsa', bits: kind === 'ca' ? DEFAULT_CA_RSA_BITS : DEFAULT_LEAF_RSA_BITS };
  return kind === 'ca' ? DEFAULT_CA_KEY : DEFAULT_LEAF_KEY;
}

export function parseUrl(value: string, option: 'crlUrl' | 'rootCrlUrl' | 'ocspUrl'): string {
  let ok = /^[\x21-\x7e]+$/.test(value);
  if (ok) {
    try {
      ok = ['http:', 'https:', 'ldap:'].includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new InvalidInputError([{ option }, ` must be an http(s) URL, got "${printable(value)}"`], [
      'Write it like ',
      { option, value: 'http://pki.example.com/ca.crl' },
      '.',
    ]);
  }
  return value;
}

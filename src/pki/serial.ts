import { randomBytes } from 'node:crypto';
import { toArrayBuffer } from './bytes.js';

/**
 * 16 random bytes as lower-case hex, the first of them 0x01 to 0x7f: the INTEGER is then always 16
 * octets (no sign byte, no leading zero) and the hex always 32 digits, with 127 random bits, far
 * above the 64 the CA/Browser Forum asks for.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = 1 + (bytes[0]! % 127);
  return bytes.toString('hex');
}

/** Serials are compared and stored as lower-case hex without leading zero bytes. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+(?=[0-9a-f])/, '');
}

/** A hex serial as the content octets of a positive INTEGER: no leading zero bytes, a 00 before a high bit. */
export function serialOctets(hex: string): ArrayBuffer {
  let bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  let first = 0;
  while (first < bytes.length - 1 && bytes[first] === 0) first++;
  bytes = bytes.subarray(first);
  if (bytes.length === 0 || bytes[0]! > 0x7f) bytes = Buffer.concat([Buffer.alloc(1), bytes]);
  return toArrayBuffer(bytes);
}

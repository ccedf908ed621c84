import { randomBytes } from 'node:crypto';
import { toArrayBuffer } from './bytes.js';

/** 128 random bits as lower-case hex; the certificate builder encodes it as a positive INTEGER. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  if (bytes.every((byte) => byte === 0)) bytes[15] = 1;
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

import { randomBytes } from 'node:crypto';

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

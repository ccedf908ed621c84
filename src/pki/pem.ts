import { PemConverter } from './x509.js';
import { toArrayBuffer } from './bytes.js';

export type PemLabel =
  | 'CERTIFICATE'
  | 'CERTIFICATE REQUEST'
  | 'X509 CRL'
  | 'PRIVATE KEY'
  | 'ENCRYPTED PRIVATE KEY';

/** PEM with the label OpenSSL expects and a trailing newline, so files concatenate safely. */
export function toPem(der: ArrayBuffer | Uint8Array, label: PemLabel): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  return `${PemConverter.encode(toArrayBuffer(bytes), label).replace(/\r\n/g, '\n').trimEnd()}\n`;
}

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g;

/** Every PEM block in a text, in order; anything between blocks is ignored. */
export function readPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    // Node's base64 decoder skips the line breaks itself: no copy of a large block without them.
    blocks.push({ label: match[1] ?? '', der: new Uint8Array(Buffer.from(match[2] ?? '', 'base64')) });
  }
  return blocks;
}

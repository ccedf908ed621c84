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

export { readPemBlocks, type PemBlock } from './pem-blocks.js';

import { READ_LIMITS, ReadTooLargeError, formatBytes, readBounded, readRegularFileBoundedSync } from '../store/bounded-read.js';
import { CertifiedError } from './errors.js';

/** Files from outside the CA (a CSR to sign, a file to show, a CRL git hands the merge driver), read with a cap. */
export type InputKind = 'csr' | 'shown' | 'crl' | 'pin';

const WHAT: Record<InputKind, string> = {
  csr: 'a CSR',
  shown: 'a certificate, CSR or CRL to show',
  crl: 'a CRL',
  pin: 'a PIN file',
};

/** The longest line of stdin read (a password). */
export const STDIN_LINE_LIMIT = READ_LIMITS.stdinLine;
export const formatLimit = formatBytes;

export const INPUT_LIMITS: Record<InputKind, number> = { csr: READ_LIMITS.csr, shown: READ_LIMITS.shown, crl: READ_LIMITS.crl, pin: READ_LIMITS.stdinLine };

/** Why a file could not be read, in words; the cap when it was too large. */
export class InputFileError extends CertifiedError {
  constructor(readonly path: string, readonly kind: InputKind, readonly why: string, readonly errno: string | undefined) {
    super(`failed to read "${path.slice(0, 100)}": ${why}`, { code: 'READ', hint: kind === 'shown' && errno === undefined ? `Give a certificate, CSR or CRL file of at most ${formatBytes(INPUT_LIMITS.shown)}.` : 'Check the path and its permissions.' });
  }
}

/** The bytes of a file from outside, never more than its kind may hold (counted on the bytes read, so /dev/zero or a FIFO stops too). */
export async function readInputFile(path: string, kind: InputKind): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readBounded(path, INPUT_LIMITS[kind]));
  } catch (error) {
    throw inputFileError(path, kind, error);
  }
}

/**
 * readInputFile of a regular file, synchronously (for `certified show` as git runs it, which reads
 * one file and loads as little as it can); undefined, having read nothing, for a FIFO, a device or
 * /dev/stdin, so that readInputFile can still read it once.
 */
export function readRegularInputFileSync(path: string, kind: InputKind): Uint8Array | undefined {
  try {
    const bytes = readRegularFileBoundedSync(path, INPUT_LIMITS[kind]);
    return bytes && new Uint8Array(bytes);
  } catch (error) {
    throw inputFileError(path, kind, error);
  }
}

function inputFileError(path: string, kind: InputKind, error: unknown): InputFileError {
  if (error instanceof ReadTooLargeError) {
    return new InputFileError(path, kind, `it is larger than ${formatBytes(error.limit)}, the most ${WHAT[kind]} may hold`, undefined);
  }
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
  return new InputFileError(path, kind, why, code);
}

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { CONFIG_FILE, RECORDS_DIR } from './layout.js';

/**
 * How many bytes each kind of input may hold, in one place. A read stops at the cap plus one byte,
 * counted on the bytes actually read (never on stat, which a FIFO or /dev/zero misreports).
 */
export const READ_LIMITS = {
  /** A CSR given to sign: a few KiB even with a large RSA key and many names. */
  csr: 64 << 10,
  /** A file given to show (git's textconv passes every .crt, .csr, .crl): a CRL can be large. */
  shown: 64 << 20,
  /** A private key or a PKCS#12 file: a few KiB. */
  key: 64 << 10,
  /** A certificate or a chain in the CA. */
  certificate: 1 << 20,
  /** A CRL in the CA (many thousand entries are a few MiB). */
  crl: 64 << 20,
  /** certificates.yaml. */
  manifest: 16 << 20,
  /** certified.json. */
  config: 1 << 20,
  /** One record (records/<issuer>/<serial>.json). */
  record: 64 << 10,
  /** The journal of a change: lists of paths, thousands in a large change. */
  journal: 256 << 20,
  /** One line of stdin (a password). */
  stdinLine: 64 << 10,
  /** Anything else in the CA directory. */
  other: 16 << 20,
} as const;

export type ReadKind = keyof typeof READ_LIMITS;

/** A file held more bytes than its kind may. */
export class ReadTooLargeError extends Error {
  constructor(readonly path: string, readonly limit: number) {
    super(`"${path}" is larger than ${formatBytes(limit)}`);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes >> 20} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes >> 10} KiB`;
  return `${bytes} bytes`;
}

const CHUNK = 1 << 20;

/**
 * One buffer the bytes are read into, sized from the file's size when it is a regular file (a
 * hint only: the cap is checked on the bytes read), grown by doubling otherwise. A 50 MB file
 * then costs 50 MB, not its chunks plus their concatenation.
 */
class Accumulator {
  private buffer: Buffer;
  total = 0;

  constructor(readonly path: string, readonly maxBytes: number, sizeHint: number) {
    this.buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(sizeHint + 1, 4096)));
  }

  /** Where the next read goes: [buffer, offset, length], at most one byte past the cap. */
  next(): [Buffer, number, number] {
    if (this.total === this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxBytes + 1, Math.max(this.buffer.length * 2, CHUNK)));
      this.buffer.copy(bigger, 0, 0, this.total);
      this.buffer = bigger;
    }
    return [this.buffer, this.total, Math.min(this.buffer.length - this.total, CHUNK)];
  }

  /** Counts what a read brought; false at the end of the file. */
  add(bytesRead: number): boolean {
    this.total += bytesRead;
    if (this.total > this.maxBytes) throw new ReadTooLargeError(this.path, this.maxBytes);
    return bytesRead > 0;
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.total);
  }
}

/** The whole file, read in chunks; throws ReadTooLargeError as soon as more than maxBytes came. */
export async function readBounded(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const hint = await handle.stat().then((stats) => (stats.isFile() ? stats.size : 0), () => 0);
    const into = new Accumulator(path, maxBytes, hint);
    for (;;) {
      const [buffer, offset, length] = into.next();
      if (!into.add((await handle.read(buffer, offset, length, null)).bytesRead)) return into.bytes();
    }
  } finally {
    await handle.close();
  }
}

/** readBounded, synchronously (for many small files, where it is several times faster). */
export function readBoundedSync(path: string, maxBytes: number): Buffer {
  return readSyncIf(path, maxBytes, false)!;
}

/**
 * readBoundedSync of a regular file; undefined, having read nothing, when `path` is anything else
 * (a FIFO or /dev/stdin, whose bytes a second reader would not see again).
 */
export function readRegularFileBoundedSync(path: string, maxBytes: number): Buffer | undefined {
  return readSyncIf(path, maxBytes, true);
}

function readSyncIf(path: string, maxBytes: number, regularOnly: boolean): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    let hint = 0;
    let regular = false;
    try {
      const stats = fstatSync(fd);
      regular = stats.isFile();
      if (regular) hint = stats.size;
    } catch {
      // no hint
    }
    if (regularOnly && !regular) return undefined;
    const into = new Accumulator(path, maxBytes, hint);
    for (;;) {
      const [buffer, offset, length] = into.next();
      if (!into.add(readSync(fd, buffer, offset, length, null))) return into.bytes();
    }
  } finally {
    closeSync(fd);
  }
}

/** Up to this cap, readBoundedTextsSync reads into one buffer of the cap (plus one byte), reused. */
const SHARED_BUFFER_MAX = 1 << 20;
/**
 * That buffer, kept for the next call (the reads are synchronous, so no two calls share it at
 * once): callers read one file per call (check, every certificate and chain file), and a new
 * buffer of the cap for each cost more than the read and grew the heap by a megabyte a file.
 */
let shared: Buffer | undefined;

/**
 * Many small files as text, in a row (every record of the CA): readBoundedSync's bounds, but one
 * buffer for all of them and no fstat for a size hint, so a file costs open, two reads and close.
 * `onError` turns a file's error into its result (or throws).
 */
export function readBoundedTextsSync<T>(paths: string[], maxBytesOf: (index: number) => number, onError: (index: number, error: unknown) => T): (string | T)[] {
  return paths.map((path, index) => {
    const maxBytes = maxBytesOf(index);
    try {
      if (maxBytes > SHARED_BUFFER_MAX) return readBoundedSync(path, maxBytes).toString('utf8');
      if (!shared || shared.length <= maxBytes) shared = Buffer.allocUnsafe(maxBytes + 1);
      const buffer = shared;
      const fd = openSync(path, 'r');
      try {
        let total = 0;
        for (;;) {
          const bytesRead = readSync(fd, buffer, total, maxBytes + 1 - total, null);
          if (bytesRead === 0) return buffer.toString('utf8', 0, total);
          total += bytesRead;
          if (total > maxBytes) throw new ReadTooLargeError(path, maxBytes);
        }
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      return onError(index, error);
    }
  });
}

/** The kind of a file of the CA directory, by its path relative to it. */
export function readKindOf(rel: string): ReadKind {
  if (rel === CONFIG_FILE) return 'config';
  if (rel.endsWith('.yaml') || rel.endsWith('.yml')) return 'manifest';
  if (rel.endsWith('.key') || rel.endsWith('.p12')) return 'key';
  if (rel.endsWith('.crl')) return 'crl';
  if (rel.endsWith('.crt')) return 'certificate';
  if (rel.endsWith('.csr')) return 'csr';
  if (rel.startsWith(`${RECORDS_DIR}/`) && rel.endsWith('.json')) return 'record';
  return 'other';
}

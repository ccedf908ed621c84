import { access, lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { READ_LIMITS, ReadTooLargeError, readBoundedTextsSync, readKindOf } from './bounded-read.js';
import { StoreWriteError } from './errors.js';

/** Reads the CA directory: files by their path relative to it. */
export class CaReader {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  path(rel: string): string {
    return join(this.dir, rel);
  }

  async exists(rel: string): Promise<boolean> {
    return access(this.path(rel)).then(() => true, () => false);
  }

  /** Whether a directory of the CA lists `rel` (as list() would name it): a broken link is there, unlike for exists(). */
  async listed(rel: string): Promise<boolean> {
    return lstat(this.path(rel)).then(() => true, () => false);
  }

  /**
   * A file of the CA as text, undefined when it does not exist. Read synchronously: the CA's files
   * are small and local, and a read through fs/promises costs four thread-pool round trips (the
   * ACME server reads a few per request).
   */
  async readText(rel: string): Promise<string | undefined> {
    return this.readTexts([rel])[0];
  }

  /**
   * Many small files (e.g. every record, for ls): read synchronously, which is several times faster
   * than fs/promises for thousands of files. Undefined for a file that does not exist.
   */
  readTexts(rels: string[]): (string | undefined)[] {
    return readBoundedTextsSync(
      rels.map((rel) => this.path(rel)),
      (index) => READ_LIMITS[readKindOf(rels[index]!)],
      (index, error) => {
        const rel = rels[index]!;
        if (error instanceof ReadTooLargeError) throw new ReadTooLargeError(rel, error.limit);
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new StoreWriteError('read', rel, error);
      },
    );
  }

  /** File names in a directory of the CA, sorted; empty when it does not exist. */
  async list(rel: string): Promise<string[]> {
    try {
      return (await readdir(this.path(rel))).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

import { open } from 'node:fs/promises';
import { StoreWriteError } from './errors.js';

/** Writes an exported secret (a .p12) as a new file, mode 0600; an existing file is never overwritten. */
export async function writeExportFile(path: string, content: Uint8Array): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    throw new StoreWriteError('create', path, error);
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

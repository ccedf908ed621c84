import { open, writeFile } from 'node:fs/promises';
import { chooseMergedCrl } from '../../ca/revocation/merge-crls.js';

/** A CRL of many thousand entries is a few MiB; nothing git hands the driver is larger. */
const MAX_CRL_BYTES = 64 << 20;

/**
 * `certified merge-crl BASE OURS THEIRS`, run by git as the merge driver of crl/*.crl: leaves in
 * OURS the side with the higher CRL number. Exit 1 (a conflict for git) when neither is a CRL.
 */
export async function runMergeCrl(args: string[]): Promise<void> {
  const [, oursFile = '', theirsFile = ''] = args;
  const [ours, theirs] = await Promise.all([readBounded(oursFile), readBounded(theirsFile)]);
  const winner = chooseMergedCrl(ours, theirs);
  if (winner === undefined) {
    process.exitCode = 1;
    return;
  }
  if (winner === 'theirs') await writeFile(oursFile, theirs);
}

/** The file's text, or '' when it is missing or larger than a CRL can be (never read whole). */
async function readBounded(file: string): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    if (size > MAX_CRL_BYTES) return '';
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

import { readFile, writeFile } from 'node:fs/promises';
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

async function readBounded(file: string): Promise<string> {
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  return bytes.length > MAX_CRL_BYTES ? '' : bytes.toString('utf8');
}

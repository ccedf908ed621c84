import { writeFile } from 'node:fs/promises';
import { readInputFile } from '../../ca/input-files.js';
import { chooseMergedCrl } from '../../ca/revocation/merge-crls.js';

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

/** The file's text, or '' when it is missing or larger than a CRL can be (read with a cap by ca/). */
async function readBounded(file: string): Promise<string> {
  return readInputFile(file, 'crl').then((bytes) => Buffer.from(bytes).toString('utf8'), () => '');
}

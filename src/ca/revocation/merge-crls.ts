import { readCrlNumber } from '../../pki/crl.js';

/**
 * git's merge driver for CRLs (set up by git-setup), when both branches re-signed one: the side
 * with the higher CRL number wins, so that the next CRL, built from the merged records, is
 * numbered past everything either branch published. Neither side's entries are trusted: run
 * "certified crl" after the merge. Undefined when neither side is a CRL (git then reports a conflict).
 */
export function chooseMergedCrl(ours: string, theirs: string): 'ours' | 'theirs' | undefined {
  const [oursNumber, theirsNumber] = [numberOf(ours), numberOf(theirs)];
  if (oursNumber === undefined && theirsNumber === undefined) return undefined;
  return (theirsNumber ?? -1) > (oursNumber ?? -1) ? 'theirs' : 'ours';
}

function numberOf(pem: string): number | undefined {
  try {
    return readCrlNumber(pem);
  } catch {
    return undefined;
  }
}

import type { CaStore } from '../../store/ca-store.js';
import { CONFIG_FILE, INTERMEDIATE_NAME, JOURNAL_FILE, ROOT_NAME, certPath } from '../../store/layout.js';
import { findUpwardInWorkTree } from '../../store/locate.js';
import { CaExistsError, CaInsideCaError } from '../errors.js';

/** What `init` does in a CA directory: make a new CA, or a new intermediate under the existing root. */
export type InitKind = 'new-ca' | 'replace-intermediate';

/**
 * A new CA where there is none; a new intermediate where the root exists and the intermediate
 * was revoked (its certificate moved away); refused where both exist. Decided before any password
 * is asked for, so that an existing CA is reported as such, not as a missing root password.
 */
export async function chooseInit(store: CaStore): Promise<InitKind> {
  if (!(await store.exists(''))) {
    refuseCaInsideCa(store);
    return 'new-ca';
  }
  const decide = async (): Promise<InitKind> => {
    const [root, intermediate] = await Promise.all([store.exists(certPath(ROOT_NAME)), store.exists(certPath(INTERMEDIATE_NAME))]);
    if (intermediate) throw new CaExistsError(store.dir);
    if (root) return 'replace-intermediate';
    refuseCaInsideCa(store);
    return 'new-ca';
  };
  // What is on disk is the CA, unless a killed command left a change (a half-made CA): then decide
  // under the lock, which finishes or undoes it first. A refusal takes no lock, so writes nothing.
  return (await store.exists(JOURNAL_FILE)) ? store.lockedIfWritable(decide) : decide();
}

/**
 * Refuses a new CA in a directory below another CA's, in its git work tree: its files would be
 * committed into that CA's repository and history, among that CA's own. CAs side by side in one
 * repository are fine, and so is a repository of its own below a CA's directory.
 */
export function refuseCaInsideCa(store: CaStore): void {
  const outer = findUpwardInWorkTree(store.dir, CONFIG_FILE);
  if (outer !== undefined) throw new CaInsideCaError(store.dir, outer);
}

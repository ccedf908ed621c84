import type { CaStore } from '../store/ca-store.js';
import { RESERVED_NAMES, certPath, csrPath, keyPath } from '../store/layout.js';
import { InvalidInputError, LeftoverKeyError, NameTakenError } from './errors.js';

/**
 * Refuses a name any of whose `paths` exists. A key with neither a certificate nor a request of
 * this branch is not a name in use but a leftover git ignored (the key of another branch, or of
 * an interrupted issue): it is named as such, with how to move it aside.
 */
export async function assertNameFree(store: CaStore, name: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    if (!(await store.exists(path))) continue;
    if (path === keyPath(name) && !(await store.exists(certPath(name))) && !(await store.exists(csrPath(name)))) throw new LeftoverKeyError(name, path);
    throw new NameTakenError(name, path);
  }
}

/** A new CA or a certificate without an issuer takes none of the CA's own names, and no name in use. */
export async function assertNewName(store: CaStore, name: string, paths: readonly string[]): Promise<void> {
  assertNotReserved(name);
  await assertNameFree(store, name, paths);
}

/** The names of the CA's own certificates, and NAME.old, which a root rotation gives a CA's certificate under the old root. */
export function assertNotReserved(name: string): void {
  if (RESERVED_NAMES.has(name) || name.endsWith('.old')) {
    throw new InvalidInputError(`the name "${name}" is reserved for the CA's own certificates (the roots, the intermediate, a root rotation's NAME.old)`, ['Choose another CN or ', { option: 'name' }, '.']);
  }
}

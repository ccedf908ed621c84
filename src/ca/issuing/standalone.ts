import type { DistinguishedName } from '../../pki/types.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import { CONFIG_FILE, GITIGNORE_CONTENT, GITIGNORE_FILE, certPath, csrPath, keyPath } from '../../store/layout.js';
import { parseConfig } from '../config.js';
import { CertifiedError } from '../errors.js';
import { assertNewName } from '../names-in-use.js';
import { withDefaults } from '../config.js';

/** Helpers for commands that work with or without a CA in the directory (self-signed certificates, requests). */

/** The subject with the CA's saved defaults when there is a CA; as given when there is none. */
export async function subjectWithOptionalDefaults(store: CaStore, given: DistinguishedName): Promise<DistinguishedName> {
  const text = await store.readText(CONFIG_FILE);
  if (text === undefined) return given;
  try {
    return withDefaults(given, parseConfig(text).subject);
  } catch (error) {
    throw new CertifiedError(`"${CONFIG_FILE}" cannot be read: ${(error as Error).message}`, {
      code: 'BAD_CONFIG',
      hint: `Restore it from git ("git checkout -- ${CONFIG_FILE}").`,
      cause: error,
    });
  }
}

/** Refuses the CA's own names and any name whose certificate, key or request already exists. */
export async function refuseTakenName(store: CaStore, name: string): Promise<void> {
  await assertNewName(store, name, [certPath(name), keyPath(name), csrPath(name)]);
}

/** The .gitignore that keeps unencrypted keys out of git, when the directory has none yet (no CA). */
export async function gitignoreWrites(store: CaStore): Promise<FileWrite[]> {
  return (await store.exists(GITIGNORE_FILE)) ? [] : [{ path: GITIGNORE_FILE, content: GITIGNORE_CONTENT, commit: true }];
}

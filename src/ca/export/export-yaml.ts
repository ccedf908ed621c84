import { parseCertificate } from '../../pki/certificate.js';
import { DamagedKeyError, exportPrivateKey, importPrivateKey, isEncryptedKeyPem, KeyPasswordError } from '../../pki/keys.js';
import type { CaStore } from '../../store/ca-store.js';
import { CERTS_DIR, CONFIG_FILE, PRIVATE_DIR, RECORDS_DIR, RESERVED_NAMES, certPath, keyPath } from '../../store/layout.js';
import { NoCaError } from '../errors.js';
import type { AskPassword } from '../passwords.js';

export interface HieraEntry {
  /** NAME.crt or NAME.key */
  key: string;
  /** The PEM text, ending in a newline. */
  value: string;
}

export interface HieraExport {
  entries: HieraEntry[];
  /** Encrypted keys left out: no password was given, or it does not open them. */
  skipped: { path: string; reason: 'no password' | 'wrong password' | 'damaged' }[];
}

const CHAIN_SUFFIX = '.chain.crt';

/**
 * Every certificate (certs/NAME.crt, not the chain files) and every key on disk that is not a
 * CA's, for Hiera. Encrypted keys are decrypted with the password `askPassword` gives for them,
 * when it opens them; it is asked only for encrypted keys.
 */
export async function exportHiera(store: CaStore, askPassword: AskPassword): Promise<HieraExport> {
  const certFiles = (await store.list(CERTS_DIR)).filter((file) => file.endsWith('.crt') && !file.endsWith(CHAIN_SUFFIX));
  const keyFiles = (await store.list(PRIVATE_DIR)).filter((file) => file.endsWith('.key'));
  if (!certFiles.length && !keyFiles.length && !(await store.exists(CONFIG_FILE)) && !(await store.list(RECORDS_DIR)).length) {
    throw new NoCaError(store.dir);
  }
  const entries: HieraEntry[] = [];
  const skipped: HieraExport['skipped'] = [];
  for (const file of certFiles) {
    const value = await store.readText(`${CERTS_DIR}/${file}`);
    if (value !== undefined) entries.push({ key: file, value });
  }
  for (const file of keyFiles) {
    const name = file.slice(0, -'.key'.length);
    if (await isCaName(store, name)) continue;
    const pem = await store.readText(keyPath(name));
    if (pem === undefined) continue;
    if (!isEncryptedKeyPem(pem)) {
      entries.push({ key: file, value: pem });
      continue;
    }
    const password = await askPassword({ role: 'certificate', name, path: keyPath(name) });
    if (!password) {
      skipped.push({ path: keyPath(name), reason: 'no password' });
      continue;
    }
    try {
      const key = await importPrivateKey(pem, password);
      entries.push({ key: file, value: await exportPrivateKey(key.privateKey) });
    } catch (error) {
      if (error instanceof DamagedKeyError) skipped.push({ path: keyPath(name), reason: 'damaged' });
      else if (error instanceof KeyPasswordError) skipped.push({ path: keyPath(name), reason: 'wrong password' });
      else throw error;
    }
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { entries, skipped };
}

/** The root, the intermediate, and any name whose certificate is a CA (sub-CAs). */
async function isCaName(store: CaStore, name: string): Promise<boolean> {
  if (RESERVED_NAMES.has(name)) return true;
  const pem = await store.readText(certPath(name));
  if (pem === undefined) return false;
  try {
    return parseCertificate(pem).isCa;
  } catch {
    return true; // unreadable: do not hand out a key we cannot classify
  }
}

import { parseCertificate, type CertificateInfo } from '../pki/certificate.js';
import { DamagedKeyError, importPrivateKey, isEncryptedKeyPem, KeyPasswordError, type SigningKey } from '../pki/keys.js';
import type { CaStore } from '../store/ca-store.js';
import { CONFIG_FILE, CROSS_NAME, ROOT_NAME, certPath, chainPath, keyPath } from '../store/layout.js';
import { parseConfig, type CaConfig } from './config.js';
import { CertifiedError, NoCaError, PasswordError } from './errors.js';
import { keyLabel, type AskPassword, type KeyRole } from './passwords.js';

export async function loadConfig(store: CaStore): Promise<CaConfig> {
  const text = await store.readText(CONFIG_FILE);
  if (text === undefined || !(await store.exists(certPath(ROOT_NAME)))) throw new NoCaError(store.dir);
  try {
    return parseConfig(text);
  } catch (error) {
    throw new CertifiedError(`"${CONFIG_FILE}" cannot be read: ${(error as Error).message}`, {
      code: 'BAD_CONFIG',
      hint: `Restore it from git ("git checkout -- ${CONFIG_FILE}").`,
      cause: error,
    });
  }
}

export async function loadCertificate(store: CaStore, name: string): Promise<CertificateInfo | undefined> {
  const pem = await store.readText(certPath(name));
  return pem === undefined ? undefined : parseCertificate(pem);
}

/**
 * The issuer's chain without the root: its chain file, or its certificate alone. The root's is
 * empty, or while a root rotation bridges the two roots, the cross-certificate that leads to the old one.
 */
export async function loadChainPem(store: CaStore, name: string): Promise<string> {
  if (name === ROOT_NAME) return (await loadConfig(store)).rootRotation?.bridge ? ((await store.readText(certPath(CROSS_NAME))) ?? '') : '';
  return (await store.readText(chainPath(name))) ?? (await store.readText(certPath(name))) ?? '';
}

export async function isKeyEncrypted(store: CaStore, name: string): Promise<boolean> {
  const pem = await store.readText(keyPath(name));
  return pem !== undefined && isEncryptedKeyPem(pem);
}

/** Where a lost or broken key file at `path` can be had again, for hints. */
export function whereKeysComeBackFrom(path: string): string {
  return `from your backup, or "git checkout -- ${path}" if it is encrypted and committed`;
}

/**
 * The key of `name`, opened with a password from `askPassword` only when the file really is
 * encrypted (so an unencrypted key never triggers a prompt). `role` says whose key it is.
 */
export async function loadSigningKey(store: CaStore, name: string, askPassword: AskPassword, role: KeyRole): Promise<SigningKey> {
  // A CA key on a PKCS#11 token has no file: certified.json says where it is.
  const onToken = role === 'certificate' ? undefined : (await loadConfig(store).catch(() => undefined))?.tokenKeys?.[name];
  if (onToken) return (await import('./token-keys.js')).openTokenCaKey(name, onToken, askPassword);
  const path = keyPath(name);
  const pem = await store.readText(path);
  if (pem === undefined) {
    throw new CertifiedError(`the key of "${name}" is not at "${path}"`, {
      code: 'NO_KEY',
      hint: name === ROOT_NAME
        ? `The root key is kept offline: copy it back to "${path}" for this command, then move it away again.`
        : ['git ignores unencrypted keys, so a clone has none: copy it from the clone that made the CA, or restore it from your backup (a CA made with ', { option: 'intermediatePassword' }, ' commits its key encrypted).'],
    });
  }
  const password = isEncryptedKeyPem(pem) ? await askPassword({ role, name, path }) : undefined;
  try {
    return await importPrivateKey(pem, password === '' ? undefined : password);
  } catch (error) {
    if (error instanceof DamagedKeyError) {
      throw new CertifiedError(`the key "${path}" is damaged: ${error.message}, so nothing was ${role === 'certificate' ? 'written' : 'signed'}`, {
        code: 'DAMAGED_KEY',
        hint: `Put the key back at "${path}" (${whereKeysComeBackFrom(path)}).`,
      });
    }
    if (!(error instanceof KeyPasswordError)) throw error;
    if (error.reason === 'missing') {
      throw new PasswordError(`${keyLabel({ role, name })} needs a password and none was given`, undefined, { role, problem: 'missing' });
    }
    throw new PasswordError(`the password for "${path}" is wrong`, 'Nothing was changed. Check the password and try again.', { role, problem: 'wrong' });
  }
}

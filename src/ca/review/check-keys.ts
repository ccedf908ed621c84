import { isEncryptedKeyPem, keyIdOfPrivateKeyPem } from '../../pki/keys.js';
import type { CertificateView } from '../../pki/inspect.js';
import type { CaStore } from '../../store/ca-store.js';
import { PRIVATE_DIR, certPath, csrPath, keyPath } from '../../store/layout.js';
import { finding, type Finding } from './check-findings.js';

/**
 * Unencrypted keys in private/ that no certificate of this branch uses. git ignores them, so they
 * stay on disk when a branch is switched: a key with no certificate (nor a CSR waiting for one),
 * or one that is not the key of the certificate of its name. Encrypted keys are tracked by git
 * and switch with the branch, and cannot be read without their password: they are not checked,
 * nor are the `tracked` unencrypted ones (a finding of their own).
 */
export async function checkKeys(store: CaStore, certificates: Map<string, CertificateView>, tracked: Set<string>): Promise<Finding[]> {
  const findings: Finding[] = [];
  const names = (await store.list(PRIVATE_DIR)).filter((file) => file.endsWith('.key')).map((file) => file.slice(0, -'.key'.length));
  for (const name of names) {
    const path = keyPath(name);
    if (tracked.has(path)) continue;
    const pem = await store.readText(path);
    if (pem === undefined || isEncryptedKeyPem(pem)) continue;
    const certificate = certificates.get(name);
    if (!certificate) {
      if (await store.exists(csrPath(name))) continue;
      findings.push(finding(path, 'orphan-key', `no certificate of this branch uses this key (there is no "${certPath(name)}"); git ignores it, so it stays behind when you switch branches: if it belongs to another branch, switch back to use it, else move it out of the CA directory`));
    } else if (isOtherKey(pem, certificate.subjectKeyId)) {
      findings.push(finding(path, 'key-mismatch', `is not the key of "${certPath(name)}" (a key git ignores stays behind when you switch branches): move it out of the CA directory, and switch to the branch it belongs to if you need it`));
    }
  }
  return findings;
}

/** Whether the key is not the certificate's, by key identifier; a key that cannot tell is given the benefit of the doubt. */
function isOtherKey(pem: string, subjectKeyId: string | undefined): boolean {
  const keyId = keyIdOfPrivateKeyPem(pem);
  return keyId !== undefined && subjectKeyId !== undefined && keyId !== subjectKeyId;
}

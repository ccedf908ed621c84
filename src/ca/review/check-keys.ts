import { isEncryptedKeyPem, type KeyComparison } from '../../pki/keys.js';
import type { CheckedView } from './check-certificates.js';
import type { CaStore } from '../../store/ca-store.js';
import { PRIVATE_DIR, certPath, csrPath, keyPath } from '../../store/layout.js';
import type { TextPart } from '../text.js';
import { lostCaKey } from '../load-issuer.js';
import { whereKeysComeBackFrom } from '../ca-files.js';
import { finding, type Finding } from './check-findings.js';

export interface CheckedKeys {
  findings: Finding[];
  /** Encrypted keys that could not be compared with their certificates (check asks no password). */
  unchecked: string[];
}

/**
 * The keys in private/: each one of a certificate must be a key (an encrypted one at least an
 * encrypted PKCS#8 structure) and the certificate's own; `comparisons` holds how each key compared
 * with its certificate (made in the pass that decodes the certificates). An encrypted key cannot
 * be compared without its password and is listed in `unchecked`. Unencrypted keys with no
 * certificate are left behind by another branch (git ignores them). The `tracked` unencrypted keys
 * are a finding of their own and not looked at here.
 */
export async function checkKeys(
  store: CaStore,
  certificates: ReadonlyMap<string, Pick<CheckedView, 'isCa'>>,
  comparisons: Map<string, KeyComparison>,
  tracked: Set<string>,
  /** Only the keys of these names (check --since); all by default. */
  inScope: (name: string) => boolean = () => true,
): Promise<CheckedKeys> {
  const findings: Finding[] = [];
  const unchecked: string[] = [];
  const names = (await store.list(PRIVATE_DIR)).filter((file) => file.endsWith('.key')).map((file) => file.slice(0, -'.key'.length)).filter(inScope);
  for (const name of names) {
    const path = keyPath(name);
    if (tracked.has(path)) continue;
    const certificate = certificates.get(name);
    const comparison = comparisons.get(name);
    if (!certificate) {
      const pem = await store.readText(path);
      if (pem === undefined || isEncryptedKeyPem(pem)) continue;
      if (await store.exists(csrPath(name))) continue;
      findings.push(finding(path, 'orphan-key', `no certificate of this branch uses this key (there is no "${certPath(name)}"); git ignores it, so it stays behind when you switch branches: if it belongs to another branch, switch back to use it, else move it out of the CA directory`));
    } else if (comparison?.result === 'encrypted') {
      unchecked.push(path);
    } else if (comparison?.result === 'unreadable') {
      findings.push(finding(path, 'unreadable', [`cannot be read as a private key (${comparison.error}): `, ...restoreKey(name, certificate)]));
    } else if (comparison?.result === 'mismatch') {
      findings.push(
        certificate.isCa
          ? finding(path, 'key-mismatch', [`is not the key of the CA "${name}" in "${certPath(name)}", so the CA cannot sign with it: `, ...restoreKey(name, certificate)])
          : finding(path, 'key-mismatch', `is not the key of "${certPath(name)}" (a key git ignores stays behind when you switch branches): move it out of the CA directory, and switch to the branch it belongs to if you need it`),
      );
    }
  }
  return { findings, unchecked };
}

/** How to get the right key back: from a backup or git, else a new certificate (a new CA for a CA). */
function restoreKey(name: string, certificate: Pick<CheckedView, 'isCa'>): TextPart[] {
  const path = keyPath(name);
  const back = `put its own key back at "${path}" (${whereKeysComeBackFrom(path)}); `;
  if (certificate.isCa) return [back, ...lostCaKey(name)];
  return [back, 'if it is lost, make a new key and certificate with "certified renew ', { option: 'name', value: name }, '"'];
}

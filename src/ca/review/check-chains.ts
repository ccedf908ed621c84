import type { CheckedView } from './check-certificates.js';
import { readPemBlocks } from '../../pki/pem.js';
import type { CaStore } from '../../store/ca-store.js';
import { certPath, chainPath } from '../../store/layout.js';
import { finding, type Finding } from './check-findings.js';

/** A certificate with the name of its file in certs/. */
export interface NamedView {
  name: string;
  view: CheckedView;
}

/**
 * certs/NAME.chain.crt of every certificate a CA issued: it must hold the certificate and then its
 * issuing CAs up to the root, the root excluded, as certified writes it (what nginx and Node are
 * given). `expected` is that list, each certificate of which check verifies against its issuer;
 * undefined when the CAs above are not all in certs/ (a revoked or missing CA), and then only the
 * first certificate is compared. Text equal to the expected PEMs is accepted without decoding.
 */
export function checkChainFile(store: CaStore, name: string, view: CheckedView, expected: NamedView[] | undefined): Finding[] {
  const path = chainPath(name);
  let text: string | undefined;
  try {
    [text] = store.readTexts([path]);
  } catch (error) {
    return [finding(path, 'unreadable', `cannot be read: ${(error as Error).message}`)];
  }
  const rewrite = expected ? `: rewrite it with "cat ${expected.map((entry) => certPath(entry.name)).join(' ')} > ${path}"` : '';
  if (text === undefined) {
    return [finding(path, 'missing-chain', `is missing: "${certPath(name)}" was issued by a CA, and servers need its chain${rewrite || `: restore it with "git checkout -- ${path}"`}`)];
  }
  if (expected && isConcatenation(text, expected)) return [];
  if (!expected && text.startsWith(view.pem)) return [];
  const blocks = readPemBlocks(text);
  const fingerprints = blocks.map((block) => (block.label === 'CERTIFICATE' ? Buffer.from(block.der).toString('base64') : block.label));
  // A view's PEM is its DER in base64 (as toPem writes it): the same text once the lines are joined.
  const wanted = (expected ?? [{ name, view }]).map((entry) => entry.view.pem.replace(/-----[^-]*-----|\s/g, ''));
  if (fingerprints[0] !== wanted[0]) {
    // The certificate may be the file that changed (check says so): no advice to copy it.
    return [finding(path, 'chain-mismatch', `does not start with the certificate in "${certPath(name)}"`)];
  }
  if (!expected || (fingerprints.length === wanted.length && wanted.every((der, index) => fingerprints[index] === der))) return [];
  const names = expected.slice(1).map((entry) => `"${certPath(entry.name)}"`).join(', ');
  return [finding(path, 'chain-mismatch', `holds ${blocks.length} certificate(s) instead of "${certPath(name)}" followed by its issuing CA(s) ${names} (the root excluded)${rewrite}`)];
}

/** Whether `text` is the PEMs of `chain` one after the other, compared in place (check reads thousands of chain files). */
function isConcatenation(text: string, chain: NamedView[]): boolean {
  let at = 0;
  for (const { view } of chain) {
    if (!text.startsWith(view.pem, at)) return false;
    at += view.pem.length;
  }
  return at === text.length;
}

/**
 * The chain of each certificate, as certified writes it: the certificate, then its issuer's chain;
 * a self-signed certificate (the root, a self-signed leaf) has none (empty), but for `rootChains`. Undefined where a CA
 * above is not in certs/ (`issuerOf` answers undefined) or the issuers loop.
 */
export function expectedChains(
  certificates: Map<string, CheckedView>,
  issuerOf: (name: string) => string | undefined,
  /** The chain of a self-signed CA, when it has one: the new root's is its cross-certificate while a rotation bridges the roots. */
  rootChains: ReadonlyMap<string, NamedView[]> = new Map(),
): Map<string, NamedView[] | undefined> {
  const chains = new Map<string, NamedView[] | undefined>();
  const chainOf = (name: string, depth: number): NamedView[] | undefined => {
    if (chains.has(name)) return chains.get(name);
    const view = certificates.get(name);
    if (!view || depth > 16) return undefined;
    if (view.selfSigned) {
      const chain = rootChains.get(name) ?? [];
      chains.set(name, chain);
      return chain;
    }
    const issuer = issuerOf(name);
    const above = issuer === undefined || issuer === name ? undefined : chainOf(issuer, depth + 1);
    const chain = above && [{ name, view }, ...above];
    chains.set(name, chain);
    return chain;
  };
  for (const name of certificates.keys()) chainOf(name, 0);
  return chains;
}

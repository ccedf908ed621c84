import type { CheckedView } from './check-certificates.js';
import { CROSS_NAME, OLD_ROOT_NAME } from '../../store/layout.js';
import type { NamedView } from './check-chains.js';

/**
 * CA certificates of the same CA: the same subject and key, as the intermediate's certificate under
 * the new root and its certificate under the old root after "certified rotate-root" (or the new
 * root and its cross-certificate). Each name maps to the other certificates of its CA.
 */
export function caTwins(certificates: Map<string, CheckedView>): Map<string, string[]> {
  const byCa = new Map<string, string[]>();
  for (const [name, view] of certificates) {
    if (!view.isCa || view.subjectKeyId === undefined) continue;
    const key = `${JSON.stringify(view.subject)}\n${view.subjectKeyId}`;
    byCa.set(key, [...(byCa.get(key) ?? []), name]);
  }
  const twins = new Map<string, string[]>();
  for (const names of byCa.values()) {
    if (names.length < 2) continue;
    for (const name of names) twins.set(name, names.filter((other) => other !== name));
  }
  return twins;
}

/**
 * The chains a certificate's chain file may hold besides `expected`: at each CA of the chain that
 * has another certificate (its twin), the twin's chain instead, as files written before a root
 * rotation go through the intermediate's certificate under the old root.
 */
export function alternativeChains(expected: NamedView[], twins: Map<string, string[]>, chains: Map<string, NamedView[] | undefined>): NamedView[][] {
  const alternatives: NamedView[][] = [];
  expected.forEach((entry, index) => {
    if (index === 0) return;
    for (const twin of twins.get(entry.name) ?? []) {
      const above = chains.get(twin);
      if (above) alternatives.push([...expected.slice(0, index), ...above]);
    }
  });
  return alternatives;
}

/** Whether a chain leads only to the root a rotation replaced: its last CA was issued by it, and it is not the cross-certificate (which the new root's chains end with). */
export function endsAtOldRoot(chain: NamedView[], issuerOf: (name: string) => string | undefined): boolean {
  const last = chain.at(-1);
  return last !== undefined && last.name !== CROSS_NAME && issuerOf(last.name) === OLD_ROOT_NAME;
}

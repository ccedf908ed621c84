import { formatViews } from '../ca/review/describe.js';
import { inspectContent } from '../ca/review/describe.js';
import type { CaStore } from '../ca/ca-directory.js';
import { data, status } from './output.js';

const DECODABLE = /\.(crt|crl|csr)$/;

/**
 * --dry-run: the certificates, CRLs and CSRs the command would have written, decoded on stdout;
 * the files it would have written or moved and the commit summary on stderr.
 */
export async function reportDryRun(store: CaStore): Promise<void> {
  const change = store.plannedChange;
  if (!change) {
    status('Dry run: nothing would change.');
    return;
  }
  const seen = new Set<string>();
  for (const write of change.writes) {
    if (!DECODABLE.test(write.path) || write.path.endsWith('.chain.crt') || seen.has(write.content)) continue;
    seen.add(write.content);
    data(`# ${write.path}`);
    data(formatViews(await inspectContent(Buffer.from(write.content))));
  }
  status(`Dry run: the commit would be "${change.message.split('\n')[0] ?? ''}", with:`);
  for (const write of change.writes) status(`  write  ${write.path}${write.commit ? '' : ' (not committed)'}`);
  for (const move of change.moves ?? []) status(`  move   ${move.from} -> ${move.to}`);
  for (const path of change.removes ?? []) status(`  remove ${path}`);
  status('Nothing was written.');
}

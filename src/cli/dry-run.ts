import { formatViews } from '../ca/review/describe.js';
import { inspectContent } from '../ca/review/describe.js';
import type { CaStore } from '../ca/ca-directory.js';
import { data, printJson, status } from './output.js';

const DECODABLE = /\.(crt|crl|csr)$/;

/**
 * --dry-run: the certificates, CRLs and CSRs the command would have written, decoded on stdout;
 * the files it would have written or moved and the commit summary on stderr. With --json, one
 * document of the planned change instead (docs/json.md).
 */
export async function reportDryRun(store: CaStore, json?: { action: string; warnings?: readonly string[] }): Promise<void> {
  const change = store.plannedChange;
  if (json) {
    return printJson({
      action: json.action,
      dryRun: true,
      summary: change?.message.split('\n')[0] ?? null,
      files: (change?.writes ?? []).map((write) => store.path(write.path)),
      moves: (change?.moves ?? []).map((move) => ({ from: store.path(move.from), to: store.path(move.to) })),
      removes: (change?.removes ?? []).map((path) => store.path(path)),
      commit: null,
      warnings: [...(json.warnings ?? [])],
    });
  }
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

import { readHistory, type HistoryEntry } from '../../ca/review/history.js';
import { UsageError } from '../../ca/errors.js';
import { openStore, type StoreFlags } from '../context.js';
import { data, note, printJson, shown, status } from '../output.js';

export interface LogOptions extends StoreFlags {
  json?: boolean;
}

const COLUMNS = ['DATE', 'ACTION', 'NAME', 'SERIAL', 'AUTHOR', 'COMMIT'] as const;

/** `certified log`: one line per commit that touched the CA, newest first. */
export async function runLog(args: string[], options: LogOptions, _argv: string[]): Promise<void> {
  if (args.length) throw new UsageError('log takes no arguments', 'Example: certified log --json');
  const store = openStore(options);
  const entries = await readHistory(store);
  const bare = entries.filter((entry) => entry.trailersMissing);
  if (bare.length) {
    const ids = bare.slice(0, 5).map((entry) => entry.shortCommit).join(', ') + (bare.length > 5 ? ', ...' : '');
    await note(`${bare.length} commit(s) made by certified lost their trailers to a git hook (${ids}): shown from what their messages still say.`);
  }
  if (options.json) {
    printJson(entries);
    return;
  }
  if (entries.length === 0) {
    status(`No commits touch ${shown(store.dir)} yet.`);
    return;
  }
  data(formatHistory(entries));
}

export function formatHistory(entries: HistoryEntry[]): string {
  const rows = entries.map((entry) => [
    entry.date.slice(0, 16).replace('T', ' '),
    entry.action,
    entry.name ?? '-',
    entry.serial ?? '-',
    entry.author,
    entry.shortCommit,
  ]);
  const all = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n') + '\n';
}

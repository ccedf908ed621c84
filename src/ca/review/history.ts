import type { CaStore } from '../../store/ca-store.js';
import { gitLog } from '../../store/git.js';

/** One commit that touched the CA directory, as `certified log` shows it. */
export interface HistoryEntry {
  commit: string;
  shortCommit: string;
  /** Author date, ISO 8601 with offset. */
  date: string;
  author: string;
  email: string;
  summary: string;
  /** From Certified-Action; "manual" for a commit certified did not make. */
  action: string;
  name?: string;
  serial?: string;
  issuer?: string;
  fingerprint?: string;
  /** Every Certified-* trailer of the commit, as written. */
  trailers: Record<string, string>;
}

const RECORD = '\x1e';
const FIELD = '\x1f';
/** One git call: ids, date, author, subject, then the trailer block (unfolded, trailers only). */
const FORMAT = `${RECORD}%H${FIELD}%h${FIELD}%aI${FIELD}%an${FIELD}%ae${FIELD}%s${FIELD}%(trailers:only,unfold)`;
const PREFIX = 'Certified-';

/** The CA's history, newest first, from the trailers of the commits that touch its directory. */
export async function readHistory(store: CaStore): Promise<HistoryEntry[]> {
  return parseHistory(await gitLog(store.dir, FORMAT));
}

export function parseHistory(output: string): HistoryEntry[] {
  return output
    .split(RECORD)
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const [commit = '', shortCommit = '', date = '', author = '', email = '', summary = '', trailerText = ''] = chunk.split(FIELD);
      const trailers = parseTrailers(trailerText);
      const pick = (key: string) => (trailers[`${PREFIX}${key}`] !== undefined ? { [key.toLowerCase()]: trailers[`${PREFIX}${key}`] } : {});
      return {
        commit,
        shortCommit,
        date,
        author,
        email,
        summary,
        action: trailers[`${PREFIX}Action`] ?? 'manual',
        ...pick('Name'),
        ...pick('Serial'),
        ...pick('Issuer'),
        ...pick('Fingerprint'),
        trailers,
      };
    });
}

/** `Key: value` lines; only the Certified-* keys are kept (the first of each). */
export function parseTrailers(text: string): Record<string, string> {
  const trailers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line.trim());
    if (!match?.[1] || !match[1].startsWith(PREFIX)) continue;
    trailers[match[1]] ??= (match[2] ?? '').trim();
  }
  return trailers;
}

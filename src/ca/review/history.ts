import type { CaStore } from '../../store/ca-store.js';
import { gitCommitMessages, gitLog } from '../../store/git.js';

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
  /**
   * Made by certified (its message has the "$ certified ..." line or Certified-* lines) but
   * without a trailer block: a hook rewrote the message. The Certified-* lines still found
   * anywhere in it fill the fields; action is "unknown" when none says it.
   */
  trailersMissing?: true;
}

const RECORD = '\x1e';
const FIELD = '\x1f';
/** One git call: ids, date, author, subject, then the trailer block (unfolded, trailers only). */
const FORMAT = `${RECORD}%H${FIELD}%h${FIELD}%aI${FIELD}%an${FIELD}%ae${FIELD}%s${FIELD}%(trailers:only,unfold)`;
const PREFIX = 'Certified-';

/**
 * The CA's history, newest first, from the trailers of the commits that touch its directory.
 * The messages of the commits without trailers are read whole (one more git process, only when
 * there are such commits), to tell certified's commits whose trailers a hook dropped from the
 * user's own.
 */
export async function readHistory(store: CaStore): Promise<HistoryEntry[]> {
  const entries = parseHistory(await gitLog(store.dir, FORMAT));
  const bare = entries.filter((entry) => Object.keys(entry.trailers).length === 0);
  const messages = await gitCommitMessages(store.dir, bare.map((entry) => entry.commit));
  bare.forEach((entry, index) => recoverTrailers(entry, messages[index] ?? ''));
  return entries;
}

/** The commits certified made whose trailers a git hook dropped (see HistoryEntry.trailersMissing), newest first. */
export async function commitsWithoutTrailers(store: CaStore): Promise<HistoryEntry[]> {
  return (await readHistory(store)).filter((entry) => entry.trailersMissing);
}

/** The "$ certified ..." line commitMessage puts after the summary. */
const COMMAND_LINE = /^\$ certified(?: |$)/m;

/** Fills an entry without a trailer block from the Certified-* lines left anywhere in its message. */
export function recoverTrailers(entry: HistoryEntry, message: string): void {
  const found = parseTrailers(message);
  if (Object.keys(found).length === 0 && !COMMAND_LINE.test(message)) return;
  Object.assign(entry, fieldsOf(found), { action: found[`${PREFIX}Action`] ?? 'unknown', trailers: found, trailersMissing: true });
}

function fieldsOf(trailers: Record<string, string>): Pick<HistoryEntry, 'name' | 'serial' | 'issuer' | 'fingerprint'> {
  const pick = (key: string) => (trailers[`${PREFIX}${key}`] !== undefined ? { [key.toLowerCase()]: trailers[`${PREFIX}${key}`] } : {});
  return { ...pick('Name'), ...pick('Serial'), ...pick('Issuer'), ...pick('Fingerprint') };
}

export function parseHistory(output: string): HistoryEntry[] {
  return output
    .split(RECORD)
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const [commit = '', shortCommit = '', date = '', author = '', email = '', summary = '', trailerText = ''] = chunk.split(FIELD);
      const trailers = parseTrailers(trailerText);
      return {
        commit,
        shortCommit,
        date,
        author,
        email,
        summary,
        action: trailers[`${PREFIX}Action`] ?? 'manual',
        ...fieldsOf(trailers),
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

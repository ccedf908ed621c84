export interface CommitMessageParams {
  summary: string;
  commandLine: string;
  details: string[];
  trailers: Record<string, string>;
}

/** Trailer keys: what `git interpret-trailers` accepts (letters, digits, dashes). */
const TRAILER_KEY = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/**
 * Characters that must never reach a commit message from outside input (an ACME contact, a name in
 * a CSR): C0 and C1 controls (line breaks, terminal escapes), the Unicode line and paragraph
 * separators, and the bidirectional controls that make `git log` show text other than what is stored.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]+/g;

/** One line, no control characters: a trailer value can never end the block or start another. */
function oneLine(value: string): string {
  return value.replace(CONTROLS, ' ').trim();
}

/**
 * Summary line, the command that made the change (secrets already masked), details, then the
 * trailer block: the message's last paragraph, only `Key: value` lines, in the order given, so that
 * `git interpret-trailers --parse` and `git log --format=%(trailers)` read it back (certified log).
 */
export function commitMessage(params: CommitMessageParams): string {
  const trailers = Object.entries(params.trailers).map(([key, value]) => {
    if (!TRAILER_KEY.test(key)) throw new Error(`invalid trailer key "${key}"`);
    return `${key}: ${oneLine(value)}`;
  });
  // Alignment inside a detail line is kept; control characters become spaces.
  const details = params.details.map((line) => line.replace(CONTROLS, ' ').trimEnd());
  return [oneLine(params.summary), '', `$ ${oneLine(params.commandLine)}`, '', ...details, '', ...trailers, '']
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

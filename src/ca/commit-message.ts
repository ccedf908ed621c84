export interface CommitMessageParams {
  summary: string;
  commandLine: string;
  details: string[];
  trailers: Record<string, string>;
}

/** Trailer keys: what `git interpret-trailers` accepts (letters, digits, dashes). */
const TRAILER_KEY = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/** One line, no control characters: a trailer value can never end the block or start another. */
function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
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
  const details = params.details.map((line) => line.replace(/[\r\n]+/g, ' '));
  return [oneLine(params.summary), '', `$ ${oneLine(params.commandLine)}`, '', ...details, '', ...trailers, '']
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

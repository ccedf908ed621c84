export interface CommitMessageParams {
  summary: string;
  commandLine: string;
  details: string[];
  trailers: Record<string, string>;
}

/** Summary line, the command that made the change (secrets already masked), details, trailers. */
export function commitMessage(params: CommitMessageParams): string {
  const trailers = Object.entries(params.trailers).map(([key, value]) => `${key}: ${value}`);
  return [params.summary, '', `$ ${params.commandLine}`, '', ...params.details, '', ...trailers, ''].join('\n');
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

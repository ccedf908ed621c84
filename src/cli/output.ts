import { relative } from 'node:path';
import type { ChalkInstance } from 'chalk';

let chalkInstance: ChalkInstance | undefined;

/** chalk for stderr; it ignores NO_COLOR by itself, so honour it here. */
export async function colors(): Promise<ChalkInstance> {
  if (!chalkInstance) {
    const { Chalk } = await import('chalk');
    const enabled = process.stderr.isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
    chalkInstance = new Chalk({ level: enabled ? 1 : 0 });
  }
  return chalkInstance;
}

export function status(line = ''): void {
  liveLine?.erase();
  process.stderr.write(`${line}\n`);
}

export async function note(text: string): Promise<void> {
  status(`${(await colors()).cyan('Note:')} ${text}`);
}

export async function warning(text: string): Promise<void> {
  status(`${(await colors()).yellow('Warning:')} ${text}`);
}

export function data(text: string): void {
  liveLine?.erase();
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

/** Whether this run printed its JSON document: a failure after it (a server stopping) then goes to stderr only. */
let jsonDocumentPrinted = false;

/** --json: the one document of a run on stdout (docs/json.md), pretty-printed unless `compact`. */
export function printJson(document: unknown, options: { compact?: boolean } = {}): void {
  data(options.compact ? JSON.stringify(document) : JSON.stringify(document, null, 2));
  jsonDocumentPrinted = true;
}

export function jsonPrinted(): boolean {
  return jsonDocumentPrinted;
}

/** A path as the user should type it: relative to where they stand, quoted. */
export function shown(absolutePath: string): string {
  const rel = relative(process.cwd(), absolutePath);
  return `"${rel === '' ? '.' : rel.startsWith('..') ? absolutePath : rel}"`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "24 November 2027" (UTC), as toLocaleDateString('en-GB') writes it, without loading ICU's locale data (~20 ms). */
export function longDate(date: Date): string {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** The erase sequence of a line drawn in place: back to its start, then clear it. */
export const CLEAR_LINE = '\r\x1b[2K';

/**
 * A line drawn in place on stderr (the spinner, a progress line): status and data erase it before
 * they print, and a prompt pauses it while it asks (see withoutSpinner). One at a time.
 */
export interface LiveLine {
  /** Clears it; it is drawn again on its next update. */
  erase(): void;
  pause(): void;
  resume(): void;
}

let liveLine: LiveLine | undefined;

/** Makes `line` the live line (undefined: none); returns the one it replaces. */
export function setLiveLine(line: LiveLine | undefined): LiveLine | undefined {
  const previous = liveLine;
  liveLine = line;
  return previous;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Whether a line redrawn in place (the spinner, a progress line) is drawn: only on a terminal that
 * understands it, outside CI (CI set to anything but "", "0" or "false") and without --quiet.
 */
export function liveLineShown(quiet: boolean | undefined, env: NodeJS.ProcessEnv = process.env, isTTY = process.stderr.isTTY === true): boolean {
  if (quiet === true || !isTTY || env.TERM === 'dumb') return false;
  const ci = env.CI?.trim().toLowerCase();
  return ci === undefined || ci === '' || ci === '0' || ci === 'false';
}

/** A spinner on a terminal for slow steps (RSA key generation); nothing on a pipe or under CI (see liveLineShown). */
export async function withSpinner<T>(text: string, work: () => Promise<T>): Promise<T> {
  if (!liveLineShown(undefined)) return work();
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${text}`);
  const spinner: LiveLine = {
    resume: () => {
      draw();
      timer = setInterval(draw, 80);
    },
    pause: () => {
      clearInterval(timer);
      process.stderr.write(CLEAR_LINE);
    },
    // The next frame draws it again, below what was printed.
    erase: () => process.stderr.write(CLEAR_LINE),
  };
  const previous = setLiveLine(spinner);
  spinner.resume();
  try {
    return await work();
  } finally {
    spinner.pause();
    setLiveLine(previous);
  }
}

/** Runs `ask` (a prompt) with the live line (spinner, progress) paused, so that it does not draw over the question. */
export async function withoutSpinner<T>(ask: () => Promise<T>): Promise<T> {
  const line = liveLine;
  line?.pause();
  try {
    return await ask();
  } finally {
    if (line && liveLine === line) line.resume();
  }
}

/** Whether a person can be asked: stdin to answer on and stderr, where prompts draw, are both a terminal. */
export function canAsk(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/**
 * The context every prompt is drawn in: stderr, so that stdout stays what the command prints (a
 * chain, a JSON document), even when it is redirected while a prompt asks on the terminal.
 */
export const ON_STDERR = { output: process.stderr };

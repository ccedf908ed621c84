import { CLEAR_LINE, liveLineShown, setLiveLine, type LiveLine } from './output.js';

/** At most this often a progress line is drawn again (the last count of a step always is). */
const REDRAW_MS = 100;
/** Rate and time left only once a step has run this long: before, they are noise. */
const PACE_AFTER_MS = 1000;

/** What a command reports its long work to; on a pipe, under CI or with --quiet, nothing is drawn. */
export interface Progress {
  /** "Issuing 412/1000 certificates, 143/s, 4 s left": the rate and time left of the step `verb` + `noun`, from its first count. */
  count(verb: string, done: number, total: number, noun: string): void;
  /** A step without a count: "Committing 1000 changes...". */
  text(line: string): void;
}

const SILENT: Progress = { count: () => undefined, text: () => undefined };

/**
 * Runs `work` with one progress line on stderr, redrawn in place and erased at the end (and before
 * anything else is printed: see output.ts), so that the command's summary follows on a clean line.
 */
export async function withProgress<T>(quiet: boolean | undefined, work: (progress: Progress) => Promise<T>): Promise<T> {
  if (!liveLineShown(quiet)) return work(SILENT);
  const line = new ProgressLine((text) => process.stderr.write(text), () => process.stderr.columns);
  const previous = setLiveLine(line);
  try {
    return await work(line);
  } finally {
    line.end();
    setLiveLine(previous);
  }
}

/** The line itself, drawn through `write` (exported for unit tests). */
export class ProgressLine implements Progress, LiveLine {
  /** What the line says now, and what the terminal shows ('' when nothing is drawn). */
  private wanted = '';
  private drawn = '';
  private drawnAt = 0;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private step: { name: string; startedAt: number; startedWith: number } | undefined;

  constructor(
    private readonly write: (text: string) => void,
    private readonly columns: () => number | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  count(verb: string, done: number, total: number, noun: string): void {
    if (total <= 0) return;
    const now = this.now();
    const name = `${verb} ${noun}`;
    if (this.step?.name !== name) this.step = { name, startedAt: now, startedWith: done };
    this.show(`${verb} ${done}/${total} ${noun}${pace(done - this.step.startedWith, total - done, now - this.step.startedAt)}`, done >= total);
  }

  text(line: string): void {
    this.step = undefined;
    this.show(line, true);
  }

  erase(): void {
    if (this.drawn !== '') this.write(CLEAR_LINE);
    this.drawn = '';
  }

  pause(): void {
    this.erase();
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.draw();
  }

  end(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.erase();
    this.paused = true;
  }

  /** Draws `text` now when the last drawing is old enough (or `now` says so), else once it is. */
  private show(text: string, now: boolean): void {
    this.wanted = text;
    const wait = this.drawnAt + REDRAW_MS - this.now();
    if (now || wait <= 0) {
      this.draw();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.draw(), wait);
      this.timer.unref();
    }
  }

  private draw(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.paused || this.wanted === this.drawn) return;
    // A line longer than the terminal would wrap, and \r would then redraw only its last row.
    const width = (this.columns() ?? 0) - 1;
    const text = width > 0 && this.wanted.length > width ? this.wanted.slice(0, width) : this.wanted;
    this.write(`${CLEAR_LINE}${text}`);
    this.drawn = this.wanted;
    this.drawnAt = this.now();
  }
}

/** ", 143/s, 4 s left": `done` items in `elapsedMs`, `left` to go. */
function pace(done: number, left: number, elapsedMs: number): string {
  if (elapsedMs < PACE_AFTER_MS || done <= 0) return '';
  const perSecond = (done * 1000) / elapsedMs;
  const rate = perSecond >= 10 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
  return left > 0 ? `, ${rate}/s, ${duration(Math.ceil(left / perSecond))} left` : `, ${rate}/s`;
}

/** "4 s", "2 min 5 s", "1 h 12 min". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

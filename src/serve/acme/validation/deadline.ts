import { AcmeProblem } from '../../../ca/acme/types.js';

/** The end of one validation attempt, in Date.now() milliseconds; every step waits at most until then. */
export interface Deadline {
  at: number;
  /** The whole allowance, for messages. */
  timeoutMs: number;
}

export function deadlineIn(timeoutMs: number): Deadline {
  return { at: Date.now() + timeoutMs, timeoutMs };
}

export function remainingMs(deadline: Deadline): number {
  return Math.max(0, deadline.at - Date.now());
}

/**
 * Settles with `promise`, or rejects with `onTimeout()` when the deadline comes first (then
 * `cancel` stops the work left behind, and a late rejection of `promise` is ignored).
 */
export function beforeDeadline<T>(promise: Promise<T>, deadline: Deadline, onTimeout: () => AcmeProblem, cancel?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel?.();
      reject(onTimeout());
    }, remainingMs(deadline));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Input shown in a problem detail: printable ASCII, at most `max` characters (a URL gets more room than a value). */
export function shown(value: string, max = 60): string {
  const cleaned = value.replace(/[^\x20-\x7e]/g, '?');
  return cleaned.length > max ? `${cleaned.slice(0, max - 3)}...` : cleaned;
}

/** A URL in a problem detail: a name (253) and a token fit whole. */
export function shownUrl(value: string): string {
  return shown(value, 400);
}

/**
 * What keeps one client from exhausting the ACME server: connections per client address, new
 * accounts per address and minute, pending orders per account, and validations running at once
 * (in all and per account). Every table here is bounded.
 */
import { AcmeProblem } from '../../ca/acme/types.js';

export interface AcmeLimits {
  /** Open connections from one client address; more are closed at once. */
  connectionsPerAddress: number;
  /** Open connections in all; more are closed at once. */
  connections: number;
  /** A TLS handshake must finish within this. */
  handshakeTimeoutMs: number;
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
  /** Accounts one client address may register per minute. */
  newAccountsPerMinute: number;
  /** Orders of one account that are pending, ready or processing at once. */
  pendingOrdersPerAccount: number;
  /** Orders of one account kept in memory (finished ones are forgotten first, then the oldest). */
  ordersPerAccount: number;
  /** Orders kept in memory in all. */
  orders: number;
  /** Validations running at once in all, and per account; more wait for a free slot. */
  validations: number;
  validationsPerAccount: number;
}

export const DEFAULT_LIMITS: AcmeLimits = {
  connectionsPerAddress: 64,
  connections: 4096,
  handshakeTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  newAccountsPerMinute: 20,
  pendingOrdersPerAccount: 100,
  ordersPerAccount: 300,
  orders: 10_000,
  validations: 32,
  validationsPerAccount: 4,
};

/** The rateLimited problem (HTTP 429) with the seconds to wait in Retry-After. */
export class RateLimited extends AcmeProblem {
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rateLimited', detail, 429);
  }
}

/** Counts events per key over a sliding minute; at most `maxKeys` keys are remembered. */
export class PerMinute {
  private readonly events = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may act again, or 0 when it may now. */
  waitSeconds(key: string): number {
    const times = this.recent(key);
    if (times.length < this.limit) return 0;
    return Math.max(1, Math.ceil((times[0]! + 60_000 - this.now()) / 1000));
  }

  record(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    this.events.delete(key);
    this.events.set(key, times);
    // The least recently active keys go first: their minute is the oldest.
    while (this.events.size > this.maxKeys) {
      const oldest = this.events.keys().next().value;
      if (oldest === undefined) break;
      this.events.delete(oldest);
    }
  }

  private recent(key: string): number[] {
    const since = this.now() - 60_000;
    const times = (this.events.get(key) ?? []).filter((time) => time > since);
    if (times.length === 0) this.events.delete(key);
    return times;
  }
}

/** Validation slots: at most `total` at once, at most `perAccount` for one account; others wait in order. */
export class ValidationSlots {
  private running = 0;
  private readonly byAccount = new Map<string, number>();
  private readonly waiting: { account: string; start: () => void }[] = [];
  constructor(
    private readonly total: number,
    private readonly perAccount: number,
  ) {}

  /** Runs `task` once a slot is free. */
  async run<T>(account: string, task: () => Promise<T>): Promise<T> {
    await this.acquire(account);
    try {
      return await task();
    } finally {
      this.release(account);
    }
  }

  private acquire(account: string): Promise<void> {
    if (this.fits(account)) {
      this.take(account);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ account, start: resolve }));
  }

  private fits(account: string): boolean {
    return this.running < this.total && (this.byAccount.get(account) ?? 0) < this.perAccount;
  }

  private take(account: string): void {
    this.running += 1;
    this.byAccount.set(account, (this.byAccount.get(account) ?? 0) + 1);
  }

  private release(account: string): void {
    this.running -= 1;
    const left = (this.byAccount.get(account) ?? 1) - 1;
    if (left > 0) this.byAccount.set(account, left);
    else this.byAccount.delete(account);
    for (let index = 0; index < this.waiting.length && this.running < this.total; ) {
      const next = this.waiting[index]!;
      if (this.fits(next.account)) {
        this.waiting.splice(index, 1);
        this.take(next.account);
        next.start();
      } else index += 1;
    }
  }
}

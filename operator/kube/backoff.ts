// Exponential backoff with jitter, shared by the watch loops, the work queue and the leader elector.
// Jitter matters here: after an apiserver restart every replica's every watch fails at once, and
// without it they would all relist in lockstep.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Fraction of each delay drawn at random, 0..1 (default 0.5: delays fall in [50%, 100%]). */
  jitter?: number;
}

export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  #attempts = 0;

  constructor(opts: BackoffOptions) {
    this.#baseMs = opts.baseMs;
    this.#maxMs = opts.maxMs;
    this.#jitter = opts.jitter ?? 0.5;
  }

  /** The delay before the next attempt; each call doubles the ceiling up to maxMs. */
  next(): number {
    const ceiling = delayFor(this.#attempts++, this.#baseMs, this.#maxMs);
    return ceiling * (1 - this.#jitter * Math.random());
  }

  reset(): void {
    this.#attempts = 0;
  }

  get attempts(): number {
    return this.#attempts;
  }
}

/** baseMs·2^attempt, capped at maxMs (without overflowing for large attempt counts). */
export function delayFor(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
}

/** A sleep that `signal` cuts short, so stop() never waits out a 30 s backoff. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Rejects when `promise` takes longer than `ms`. client-node requests have no deadline of their own,
 * and a black-holed connection must not stall a watch loop or the Lease renewal forever.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

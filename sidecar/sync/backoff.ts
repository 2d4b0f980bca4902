// Reconnect delays: exponential, capped, with jitter so that a restarted operator is not hit by every
// sidecar of the cluster in the same millisecond.
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
}

export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(opts: BackoffOptions = {}, random: () => number = Math.random) {
    this.#baseMs = opts.baseMs ?? 500;
    this.#maxMs = opts.maxMs ?? 30_000;
    this.#random = random;
  }

  /** The next delay: half of it fixed, half random ("equal jitter"), so it still grows on average. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

// A per-upstream circuit breaker. No timers: "open" becomes "half-open" lazily, the first time allow()
// is asked after openUntil, so an idle breaker costs nothing and a test drives it with a fake clock.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  /** Counted failures in a row that open the breaker. */
  consecutiveFailures: number;
  openForMs: number;
  /**
   * How long the single half-open probe may stay unanswered before another probe is let through: a
   * safety net for a caller that never reports (a bug, a lost promise). Default: openForMs.
   */
  probeTimeoutMs?: number;
}

export interface BreakerStateChange {
  from: BreakerState;
  to: BreakerState;
  /** The injected clock's reading at the transition. */
  at: number;
}

export interface CircuitBreakerOptions extends BreakerSettings {
  now?: () => number;
  onStateChange?: (change: BreakerStateChange) => void;
}

export class CircuitBreaker {
  readonly settings: Readonly<BreakerSettings>;
  #now: () => number;
  #onStateChange: ((change: BreakerStateChange) => void) | undefined;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openUntil = 0;
  /** When the half-open probe was let through; undefined = no probe in flight. */
  #probeSince: number | undefined;

  constructor(options: CircuitBreakerOptions) {
    const { consecutiveFailures, openForMs, probeTimeoutMs } = options;
    this.settings = {
      consecutiveFailures,
      openForMs,
      ...(probeTimeoutMs !== undefined && { probeTimeoutMs }),
    };
    this.#now = options.now ?? performance.now.bind(performance);
    this.#onStateChange = options.onStateChange;
  }

  /** The state as of now: an open breaker whose time is up reads "half-open" before any probe. */
  get state(): BreakerState {
    return this.#state === 'open' && this.#now() >= this.#openUntil ? 'half-open' : this.#state;
  }

  /** When an open breaker starts admitting a probe, on the breaker's clock; undefined unless open. */
  get openUntil(): number | undefined {
    return this.#state === 'open' ? this.#openUntil : undefined;
  }

  /** How long an open breaker still refuses calls, ms; undefined unless open. */
  get remainingOpenMs(): number | undefined {
    return this.#state === 'open' ? Math.max(0, this.#openUntil - this.#now()) : undefined;
  }

  /**
   * May a call go to this upstream now? Closed: yes. Open: no until openForMs has passed. Half-open:
   * exactly one probe at a time — the call that gets `true` must report success(), failure() or abandon().
   */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    const now = this.#now();
    if (this.#state === 'open') {
      if (now < this.#openUntil) return false;
      this.#transition('half-open', now);
      this.#probeSince = now;
      return true;
    }
    const probeTimeout = this.settings.probeTimeoutMs ?? this.settings.openForMs;
    if (this.#probeSince !== undefined && now - this.#probeSince < probeTimeout) return false;
    this.#probeSince = now;
    return true;
  }

  /** The upstream answered (any answer that is not a counted failure, a 400 included). */
  success(): void {
    // A late success from a call admitted before the breaker opened says nothing about now.
    if (this.#state === 'open') return;
    this.#failures = 0;
    this.#probeSince = undefined;
    if (this.#state === 'half-open') this.#transition('closed', this.#now());
  }

  /** A counted failure (connect failure, 5xx, timeout, 429 — never another 4xx). */
  failure(): void {
    if (this.#state === 'open') return;
    const now = this.#now();
    this.#failures++;
    if (this.#state === 'half-open' || this.#failures >= this.settings.consecutiveFailures) {
      this.#openUntil = now + this.settings.openForMs;
      this.#probeSince = undefined;
      this.#transition('open', now);
    }
  }

  /** The admitted call ended without telling us anything (the caller went away): free the probe slot. */
  abandon(): void {
    if (this.#state === 'half-open') this.#probeSince = undefined;
  }

  #transition(to: BreakerState, at: number): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    if (to === 'closed') this.#failures = 0;
    this.#onStateChange?.({ from, to, at });
  }
}

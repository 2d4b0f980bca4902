// Graceful shutdown, the sidecar's own health: once draining starts, readiness fails and new calls are
// refused with a retriable error, while calls already in flight may finish within the drain window.
// Whatever is still running when the window closes is cut — and told so — rather than left to be killed.
import { TurnoutError } from '../errors.ts';

/** What a shutdown did: calls that finished inside the window, and those cut when it closed. */
export interface DrainReport {
  finished: number;
  cut: number;
  /** Milliseconds from the start of draining until no call was left. */
  ms: number;
}

/** Ends one call in flight: an error answer if nothing was sent yet, an in-band error event otherwise. */
export type CutCall = (reason: TurnoutError) => void;

/**
 * The retriable refusal new calls get while draining: 503 with Retry-After, `x-should-retry: true` (the
 * OpenAI and Anthropic SDKs honour it) and `connection: close`, so the retry opens a fresh connection.
 */
export function shuttingDown(message: string): TurnoutError {
  return new TurnoutError('shutting_down', message, {
    retryAfter: 1,
    headers: { connection: 'close', 'x-should-retry': 'true' },
  });
}

export class Drain {
  #draining = false;
  #startedAt = 0;
  readonly #inFlight = new Set<CutCall>();
  #finished = 0;
  /** Set while {@link settle} waits: called whenever a call ends. */
  #onSettled: (() => void) | undefined;
  #windowClosed = false;
  #windowEnded: (() => void) | undefined;

  get draining(): boolean {
    return this.#draining;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Registers a call; call the returned function once it has ended, however it ended. */
  track(cut: CutCall): () => void {
    this.#inFlight.add(cut);
    return () => {
      if (!this.#inFlight.delete(cut) || !this.#draining) return;
      this.#finished++;
      this.#onSettled?.();
    };
  }

  /** Readiness fails and new calls are refused from now on. Idempotent. */
  begin(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#startedAt = performance.now();
  }

  /**
   * Begins draining if it has not begun, waits until no call is in flight or `windowMs` has passed since
   * draining began (or {@link endWindow} is called), then cuts the calls left with `reason(windowMs)`.
   */
  async settle(windowMs: number, reason: (windowMs: number) => TurnoutError): Promise<DrainReport> {
    this.begin();
    const remaining = windowMs - (performance.now() - this.#startedAt);
    if (this.#inFlight.size > 0 && remaining > 0 && !this.#windowClosed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#onSettled = this.#windowEnded = undefined;
          resolve();
        };
        // An unbounded window (Infinity) has no timer: setTimeout would read it as 1 ms.
        const timer = Number.isFinite(remaining) ? setTimeout(done, remaining) : undefined;
        this.#windowEnded = done;
        this.#onSettled = () => {
          if (this.#inFlight.size === 0) done();
        };
      });
    }
    const left = [...this.#inFlight];
    // Cut calls are no longer waited for: their in-band error is written as they unwind. Each gets an
    // error of its own, since the call's code annotates it (headers, its decision).
    this.#inFlight.clear();
    for (const cut of left) cut(reason(windowMs));
    return {
      finished: this.#finished,
      cut: left.length,
      ms: Math.round(performance.now() - this.#startedAt),
    };
  }

  /** Closes the drain window now (a second signal): calls still in flight are cut at once. */
  endWindow(): void {
    this.#windowClosed = true;
    this.#windowEnded?.();
  }
}

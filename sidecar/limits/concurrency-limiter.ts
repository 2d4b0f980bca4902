// Calls in flight per key (a provider's maxConcurrent). A plain Map, not an LRU: an entry exists only
// while calls are in flight, so memory is bounded by them, and evicting a live count would let the
// key exceed its limit.

export class ConcurrencyLimiter {
  #inFlight = new Map<string, number>();

  /**
   * Enter if fewer than `max` calls hold the key: returns the function that leaves (call it exactly
   * when the call ends — extra calls are ignored), or undefined when the key is full.
   */
  tryEnter(key: string, max: number): (() => void) | undefined {
    const n = this.#inFlight.get(key) ?? 0;
    if (n >= max) return undefined;
    this.#inFlight.set(key, n + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const m = (this.#inFlight.get(key) ?? 1) - 1;
      if (m <= 0) this.#inFlight.delete(key);
      else this.#inFlight.set(key, m);
    };
  }

  inFlight(key: string): number {
    return this.#inFlight.get(key) ?? 0;
  }

  /** Keys with calls in flight. */
  get size(): number {
    return this.#inFlight.size;
  }
}

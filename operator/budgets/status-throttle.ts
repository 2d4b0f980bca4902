// Spend changes with every call; status should not. A namespace whose spend changed is announced (so the
// reconciler writes its policies' status) soon after the first change, then at most once per interval.
export class StatusThrottle {
  readonly #intervalMs: number;
  readonly #listeners = new Set<(namespace: string) => void>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #lastFired = new Map<string, number>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  onDue(listener: (namespace: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  due(namespace: string): void {
    if (this.#timers.has(namespace)) return;
    const last = this.#lastFired.get(namespace) ?? -Infinity;
    // A short pause even for the first change: a burst of reports becomes one write.
    const wait = Math.max(Math.min(250, this.#intervalMs), last + this.#intervalMs - performance.now());
    const timer = setTimeout(() => {
      this.#timers.delete(namespace);
      this.#lastFired.set(namespace, performance.now());
      for (const l of this.#listeners) {
        try {
          l(namespace);
        } catch {
          // A listener's failure is its own; the others still hear of the change.
        }
      }
    }, wait);
    timer.unref();
    this.#timers.set(namespace, timer);
  }

  close(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}

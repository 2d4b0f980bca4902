// A work queue keyed by namespace, shaped like client-go's: a key added many times while waiting is
// processed once; a key is never processed by two workers at once (an add during processing runs it
// again afterwards); a failed key comes back after a per-key exponential backoff, reset on success.
import { delayFor } from '../kube/backoff.ts';

export interface WorkQueueOptions {
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class WorkQueue {
  readonly #handler: (key: string) => Promise<void>;
  readonly #concurrency: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #pending: string[] = [];
  readonly #queued = new Set<string>();
  readonly #active = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #idle = new Set<() => void>();
  #stopped = false;

  constructor(handler: (key: string) => Promise<void>, opts: WorkQueueOptions = {}) {
    this.#handler = handler;
    this.#concurrency = opts.concurrency ?? 4;
    this.#baseMs = opts.baseDelayMs ?? 100;
    this.#maxMs = opts.maxDelayMs ?? 60_000;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#active.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#pending.push(key);
    this.#pump();
  }

  /** Requeues after this key's next backoff delay (doubling per consecutive failure). */
  addRateLimited(key: string): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = delayFor(failures, this.#baseMs, this.#maxMs) * (0.5 + Math.random() / 2);
    if (this.#timers.has(key) || this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delay);
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Consecutive failures of a key so far (0 after a success). */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  get length(): number {
    return this.#pending.length;
  }

  /** Resolves when nothing is queued or running (timers for rate-limited keys aside). */
  idle(): Promise<void> {
    if (this.#pending.length === 0 && this.#active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#pending.length = 0;
    this.#queued.clear();
    await this.idle();
  }

  #pump(): void {
    while (this.#active.size < this.#concurrency && this.#pending.length > 0) {
      const key = this.#pending.shift() as string;
      this.#queued.delete(key);
      this.#active.add(key);
      void this.#process(key);
    }
    if (this.#pending.length === 0 && this.#active.size === 0) {
      for (const resolve of this.#idle) resolve();
      this.#idle.clear();
    }
  }

  async #process(key: string): Promise<void> {
    try {
      await this.#handler(key);
      this.#failures.delete(key);
    } catch {
      // The handler reports its own errors; the queue's job is only to come back later.
      this.addRateLimited(key);
    } finally {
      this.#active.delete(key);
      if (this.#dirty.delete(key)) this.add(key);
      this.#pump();
    }
  }
}

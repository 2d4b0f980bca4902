// Latency per target as an exponentially weighted moving average, so recent calls dominate and an
// upstream that slows down (or recovers) shows within a handful of calls, in O(1) memory per target.
import type { LRUCache } from 'lru-cache';
import { growingLru } from '../lru.ts';

export interface LatencySample {
  /** Time to first token; streams only. */
  ttftMs?: number;
  totalMs: number;
}

export interface LatencyTrackerOptions {
  /** Weight of the newest sample, in (0, 1]. Default 0.3. */
  alpha?: number;
  /** Targets remembered; the least recently measured are forgotten beyond this. Default 10 000. */
  maxKeys?: number;
}

export interface OrderOptions {
  stream: boolean;
  random?: () => number;
  /** Probability that a random non-best measured target is promoted to first. Default 0.05. */
  exploration?: number;
}

interface Averages {
  ttftMs: number | undefined;
  totalMs: number;
}

export class LatencyTracker {
  readonly alpha: number;
  #averages: LRUCache<string, Averages>;

  constructor(options: LatencyTrackerOptions = {}) {
    const alpha = options.alpha ?? 0.3;
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
    this.alpha = alpha;
    this.#averages = growingLru(options.maxKeys ?? 10_000);
  }

  /**
   * Record a completed call. Do not record fast failures (a refused connection would look like the
   * quickest target); a timeout may be recorded with its elapsed time as a penalty.
   */
  record(key: string, sample: LatencySample): void {
    const { ttftMs, totalMs } = sample;
    if (!Number.isFinite(totalMs) || totalMs < 0) return;
    const ttft = ttftMs !== undefined && Number.isFinite(ttftMs) && ttftMs >= 0 ? ttftMs : undefined;
    const a = this.#averages.get(key);
    if (!a) {
      this.#averages.set(key, { ttftMs: ttft, totalMs });
      return;
    }
    a.totalMs += this.alpha * (totalMs - a.totalMs);
    if (ttft !== undefined)
      a.ttftMs = a.ttftMs === undefined ? ttft : a.ttftMs + this.alpha * (ttft - a.ttftMs);
  }

  /**
   * The expected latency that matters to the caller: time to first token for a stream, total time
   * otherwise. Undefined when unmeasured — for a stream, also when only non-stream calls were seen,
   * since a total time says little about the first token and one streamed call will measure it.
   */
  estimate(key: string, stream = false): number | undefined {
    const a = this.#averages.get(key);
    return stream ? a?.ttftMs : a?.totalMs;
  }

  /**
   * Targets fastest first. Unmeasured targets come first, in their given order (optimistic: each gets
   * measured once). Otherwise, with probability `exploration`, a uniformly drawn non-best target is
   * moved to the front, so a target that was slow once can show it has recovered. Consumes `random`
   * deterministically: no draw when some target is unmeasured or there is only one, else one draw,
   * plus one more to pick the explored target.
   */
  orderByLatency<T>(targets: readonly T[], keyOf: (t: T) => string, options: OrderOptions): T[] {
    if (targets.length <= 1) return [...targets];
    const unmeasured: T[] = [];
    const measured: { t: T; ms: number }[] = [];
    for (const t of targets) {
      const ms = this.estimate(keyOf(t), options.stream);
      if (ms === undefined) unmeasured.push(t);
      else measured.push({ t, ms });
    }
    measured.sort((a, b) => a.ms - b.ms); // stable: equal estimates keep the given order
    const ordered = measured.map((m) => m.t);
    if (unmeasured.length > 0) return [...unmeasured, ...ordered];
    const random = options.random ?? Math.random;
    if (random() < (options.exploration ?? 0.05)) {
      const i = 1 + Math.min(ordered.length - 2, Math.floor(random() * (ordered.length - 1)));
      const [explored] = ordered.splice(i, 1) as [T];
      ordered.unshift(explored);
    }
    return ordered;
  }
}

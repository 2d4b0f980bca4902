// Process-wide state that outlives snapshots: breakers, Retry-After cool-downs, latency history,
// limits, budgets, caches, affinity. Created once per sidecar (these structures preallocate), shared by every request.
import { CacheRegistry } from './cache/index.ts';
import { AffinityStore, BreakerRegistry, LatencyTracker } from './health/index.ts';
import { BudgetLedger, ConcurrencyLimiter, RateLimiter } from './limits/index.ts';
import type { Random } from './routing/strategy.ts';
import { CooldownStore } from './upstream/cooldown.ts';

export interface SidecarState {
  breakers: BreakerRegistry;
  /** Targets that answered 429/503 with Retry-After, left alone by every call until then. */
  cooldowns: CooldownStore;
  latency: LatencyTracker;
  affinity: AffinityStore;
  caches: CacheRegistry;
  limiter: RateLimiter;
  concurrency: ConcurrencyLimiter;
  ledger: BudgetLedger;
  random: Random;
}

export interface SidecarStateOptions {
  random?: Random;
  /** Wall clock for budget windows (tests move it). */
  now?: () => number;
}

export function createSidecarState(opts: SidecarStateOptions = {}): SidecarState {
  return {
    breakers: new BreakerRegistry(),
    cooldowns: new CooldownStore(),
    latency: new LatencyTracker(),
    affinity: new AffinityStore(),
    caches: new CacheRegistry(),
    limiter: new RateLimiter(),
    concurrency: new ConcurrencyLimiter(),
    ledger: new BudgetLedger(opts.now ? { now: opts.now } : {}),
    random: opts.random ?? Math.random,
  };
}

// Requests- and tokens-per-minute as token buckets with continuous refill: capacity = the per-minute
// limit, refilled at limit/60 000 per ms, computed from the elapsed time on each touch (no timers).
// Tokens are not known until the answer arrives, so a call takes an estimate up front and settles the
// difference afterwards; an under-estimate leaves the bucket in debt, which later calls wait out.
import type { LRUCache } from 'lru-cache';
import { growingLru } from '../lru.ts';
import {
  BucketLease,
  Leases,
  NO_LEASE,
  refill,
  waitMs,
  type Bucket,
  type RateLease,
} from './token-bucket.ts';

export type { RateLease } from './token-bucket.ts';

export interface RateLimits {
  rpm?: number | undefined;
  tpm?: number | undefined;
}

export interface RateCost {
  /** Default 1. */
  requests?: number;
  /** Estimated tokens (prompt + expected output). */
  tokens: number;
}

export type RateLimitName = 'rpm' | 'tpm';

export type RateDecision =
  { ok: true; lease: RateLease } | { ok: false; key: string; limit: RateLimitName; retryAfterMs: number };

export interface RateScope {
  key: string;
  limits: RateLimits;
}

export interface RateLimiterOptions {
  now?: () => number;
  /** Buckets kept; the least recently used (idle, so nearly always full) are evicted. Default 100 000. */
  maxKeys?: number;
}

export class RateLimiter {
  #buckets: LRUCache<string, Bucket>;
  #now: () => number;

  constructor(options: RateLimiterOptions = {}) {
    this.#now = options.now ?? performance.now.bind(performance);
    this.#buckets = growingLru(options.maxKeys ?? 100_000);
  }

  /** Take one call's requests and estimated tokens from the key's buckets: both or neither. */
  tryAcquire(key: string, limits: RateLimits, cost: RateCost): RateDecision {
    const { rpm, tpm } = limits;
    if (rpm === undefined && tpm === undefined) return { ok: true, lease: NO_LEASE };
    const now = this.#now();
    const requests = cost.requests ?? 1;
    const tokens = Number.isFinite(cost.tokens) ? Math.max(0, cost.tokens) : 0;
    let b = this.#buckets.get(key);
    if (!b) {
      b = { at: now, rpm, tpm, requests: rpm ?? 0, tokens: tpm ?? 0 };
      this.#buckets.set(key, b);
    } else {
      refill(b, now);
      // A limit the key did not have before starts full; a lowered one caps what is left.
      b.requests = b.rpm === undefined ? (rpm ?? 0) : Math.min(b.requests, rpm ?? Infinity);
      b.tokens = b.tpm === undefined ? (tpm ?? 0) : Math.min(b.tokens, tpm ?? Infinity);
      b.rpm = rpm;
      b.tpm = tpm;
    }
    const rpmWait = rpm === undefined ? 0 : waitMs(b.requests, requests, rpm);
    const tpmWait = tpm === undefined ? 0 : waitMs(b.tokens, tokens, tpm);
    if (rpmWait > 0 || tpmWait > 0) {
      // Report the limit that binds longest: waiting for the other alone would not be enough.
      const limit = rpmWait >= tpmWait ? 'rpm' : 'tpm';
      return { ok: false, key, limit, retryAfterMs: Math.max(rpmWait, tpmWait) };
    }
    if (rpm !== undefined) b.requests -= requests;
    if (tpm !== undefined) b.tokens -= tokens;
    return { ok: true, lease: new BucketLease(b, requests, tokens, this.#now) };
  }

  /**
   * Every scope or none (a request is subject to the policy's, its user's and the provider's limits at
   * once). On refusal nothing stays taken: the scopes already acquired are released.
   */
  tryAcquireAll(scopes: readonly RateScope[], cost: RateCost): RateDecision {
    if (scopes.length === 1) return this.tryAcquire(scopes[0]!.key, scopes[0]!.limits, cost);
    const leases: RateLease[] = [];
    for (const s of scopes) {
      const d = this.tryAcquire(s.key, s.limits, cost);
      if (!d.ok) {
        for (const l of leases) l.release();
        return d;
      }
      leases.push(d.lease);
    }
    return { ok: true, lease: new Leases(leases) };
  }

  /** What the key's buckets hold now (negative = debt); undefined for an unknown key. For tests and debugging. */
  peek(key: string): { requests: number | undefined; tokens: number | undefined } | undefined {
    const b = this.#buckets.peek(key);
    if (!b) return undefined;
    refill(b, this.#now());
    return {
      requests: b.rpm === undefined ? undefined : b.requests,
      tokens: b.tpm === undefined ? undefined : b.tokens,
    };
  }

  get size(): number {
    return this.#buckets.size;
  }
}

// One key's token buckets (requests and tokens per minute) and the lease a call holds on them.
// Continuous refill at limit/60 000 per ms, computed from the elapsed time on each touch: no timers.

export interface RateLease {
  /** The call completed: correct the TPM bucket by actualTokens − estimate. First call of settle/release wins. */
  settle(actualTokens: number): void;
  /** The call never reached the upstream: give back the request and the estimated tokens. */
  release(): void;
}

export interface Bucket {
  at: number;
  rpm: number | undefined;
  tpm: number | undefined;
  requests: number;
  tokens: number;
}

const PER_MS = 1 / 60_000;

export function refill(b: Bucket, now: number): void {
  const dt = now - b.at;
  if (dt <= 0) return;
  b.at = now;
  if (b.rpm !== undefined) b.requests = Math.min(b.rpm, b.requests + dt * b.rpm * PER_MS);
  if (b.tpm !== undefined) b.tokens = Math.min(b.tpm, b.tokens + dt * b.tpm * PER_MS);
}

/**
 * Ms until `have` reaches what the call needs, 0 when it already has. A call larger than the whole
 * capacity needs only a full bucket (then goes into debt) — otherwise it could never be served.
 */
export function waitMs(have: number, cost: number, capacity: number): number {
  if (capacity <= 0) return 60_000;
  const need = Math.min(cost, capacity);
  // The epsilon absorbs float error in the refill, so waiting exactly retryAfterMs is always enough.
  return have + 1e-9 >= need ? 0 : Math.ceil((need - have) / (capacity * PER_MS));
}

export class BucketLease implements RateLease {
  #bucket: Bucket;
  #requests: number;
  #tokens: number;
  #now: () => number;
  #done = false;

  constructor(bucket: Bucket, requests: number, tokens: number, now: () => number) {
    this.#bucket = bucket;
    this.#requests = requests;
    this.#tokens = tokens;
    this.#now = now;
  }

  settle(actualTokens: number): void {
    if (this.#done) return;
    this.#done = true;
    if (!Number.isFinite(actualTokens)) return; // unknown usage: the estimate stands
    this.#adjust(0, this.#tokens - Math.max(0, actualTokens));
  }

  release(): void {
    if (this.#done) return;
    this.#done = true;
    this.#adjust(this.#requests, this.#tokens);
  }

  #adjust(requests: number, tokens: number): void {
    const b = this.#bucket;
    refill(b, this.#now());
    if (b.rpm !== undefined) b.requests = Math.min(b.rpm, b.requests + requests);
    if (b.tpm !== undefined) b.tokens = Math.min(b.tpm, b.tokens + tokens);
  }
}

export const NO_LEASE: RateLease = { settle() {}, release() {} };

export class Leases implements RateLease {
  #leases: RateLease[];
  constructor(leases: RateLease[]) {
    this.#leases = leases;
  }
  settle(actualTokens: number): void {
    for (const l of this.#leases) l.settle(actualTokens);
  }
  release(): void {
    for (const l of this.#leases) l.release();
  }
}

// Sidecar-wide cool-downs: a target that answered 429 or 503 with Retry-After is left alone by every
// call until then, not only by the call that was told. Scoped to provider + endpoint + model, because
// the big providers rate-limit per model (OpenAI per model and organisation, Anthropic per model class,
// an Azure deployment is one model): one model's 429 must not take its provider's other models out.
// A plain Map, not an LRU: at most one entry per target of the loaded snapshot; expired entries are
// swept whenever one is added, and targets a reload removed are dropped by retain().

/** The longest Retry-After honoured: a server asking for a day must not disable a target for a day. */
export const MAX_COOLDOWN_MS = 60_000;

/** The statuses whose Retry-After says the target itself is out of capacity (RFC 9110 §10.2.3). */
const COOLDOWN_STATUSES: ReadonlySet<number> = new Set([429, 503]);

export interface CooldownTarget {
  provider: string;
  /** The upstream base URL; '' for providers without one (mock). */
  endpoint: string | undefined;
  model: string;
}

export interface LiveProvider {
  provider: string;
  endpoint: string | undefined;
  models: Iterable<string>;
}

const keyOf = (provider: string, endpoint: string | undefined, model: string): string =>
  `${provider}\n${endpoint ?? ''}\n${model}`;

/** A Retry-After delay as honoured by the sidecar: never negative, never past MAX_COOLDOWN_MS. */
export const honouredDelayMs = (ms: number): number => Math.min(Math.max(0, ms), MAX_COOLDOWN_MS);

/** Whether an upstream answer with this status and Retry-After puts its target in cool-down. */
export const startsCooldown = (status: number | undefined, retryAfterMs: number | undefined): boolean =>
  status !== undefined && COOLDOWN_STATUSES.has(status) && retryAfterMs !== undefined && retryAfterMs > 0;

export class CooldownStore {
  /** Target key → when it may be asked again, epoch ms. */
  #entries = new Map<string, number>();
  #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * Leaves the target alone for `retryAfterMs` (capped); a later deadline already set is kept, so a
   * short Retry-After from one call does not cut a longer one another call was given. Returns the end, epoch ms.
   */
  coolDown(t: CooldownTarget, retryAfterMs: number): number {
    const now = this.#now();
    this.#sweep(now);
    const key = keyOf(t.provider, t.endpoint, t.model);
    const until = now + honouredDelayMs(retryAfterMs);
    const found = this.#entries.get(key);
    if (found !== undefined && found >= until) return found;
    this.#entries.set(key, until);
    return until;
  }

  /** When the target may be asked again (epoch ms) while it is cooling down; undefined when it may be now. */
  until(t: CooldownTarget): number | undefined {
    if (this.#entries.size === 0) return undefined; // the common case, on every candidate of every call
    const key = keyOf(t.provider, t.endpoint, t.model);
    const found = this.#entries.get(key);
    if (found === undefined) return undefined;
    if (found > this.#now()) return found;
    this.#entries.delete(key);
    return undefined;
  }

  /** After a reload: drop the cool-downs of targets the new snapshot no longer has. */
  retain(live: Iterable<LiveProvider>): void {
    const keep = new Set<string>();
    for (const p of live) for (const model of p.models) keep.add(keyOf(p.provider, p.endpoint, model));
    for (const key of this.#entries.keys()) if (!keep.has(key)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(now: number): void {
    for (const [key, until] of this.#entries) if (until <= now) this.#entries.delete(key);
  }
}

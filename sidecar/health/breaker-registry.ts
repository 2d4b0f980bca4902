// One breaker per upstream (provider name + endpoint), outliving snapshot reloads: a reload that leaves
// a provider's breaker settings alone must not forget that its upstream is down. A plain Map, not an
// LRU: there is one entry per provider in the snapshot, and evicting a live breaker would reset it.
import {
  CircuitBreaker,
  type BreakerSettings,
  type BreakerState,
  type BreakerStateChange,
} from './circuit-breaker.ts';

export interface BreakerId {
  provider: string;
  /** The upstream base URL; '' for providers without one (mock). */
  endpoint: string;
}

export interface BreakerRegistryOptions {
  now?: () => number;
  onStateChange?: (id: BreakerId, change: BreakerStateChange) => void;
}

export interface BreakerReport extends BreakerId {
  state: BreakerState;
  openUntil: number | undefined;
}

interface Entry {
  id: BreakerId;
  breaker: CircuitBreaker;
}

const keyOf = (provider: string, endpoint: string): string => `${provider}\n${endpoint}`;

const sameSettings = (a: Readonly<BreakerSettings>, b: BreakerSettings): boolean =>
  a.consecutiveFailures === b.consecutiveFailures &&
  a.openForMs === b.openForMs &&
  a.probeTimeoutMs === b.probeTimeoutMs;

export class BreakerRegistry {
  #entries = new Map<string, Entry>();
  #now: (() => number) | undefined;
  #onStateChange: BreakerRegistryOptions['onStateChange'];

  constructor(options: BreakerRegistryOptions = {}) {
    this.#now = options.now;
    this.#onStateChange = options.onStateChange;
  }

  /** The breaker for this upstream; a fresh (closed) one when first seen or when its settings changed. */
  get(provider: string, endpoint: string | undefined, settings: BreakerSettings): CircuitBreaker {
    const key = keyOf(provider, endpoint ?? '');
    const found = this.#entries.get(key);
    if (found && sameSettings(found.breaker.settings, settings)) return found.breaker;
    const id: BreakerId = { provider, endpoint: endpoint ?? '' };
    const hook = this.#onStateChange;
    const breaker = new CircuitBreaker({
      ...settings,
      ...(this.#now && { now: this.#now }),
      ...(hook && { onStateChange: (change: BreakerStateChange) => hook(id, change) }),
    });
    this.#entries.set(key, { id, breaker });
    return breaker;
  }

  /** After a reload: drop the breakers of upstreams the new snapshot no longer has. */
  retain(live: Iterable<{ provider: string; endpoint?: string | undefined }>): void {
    const keep = new Set<string>();
    for (const l of live) keep.add(keyOf(l.provider, l.endpoint ?? ''));
    for (const key of this.#entries.keys()) if (!keep.has(key)) this.#entries.delete(key);
  }

  /** Every breaker's state, for a metrics gauge or a debug endpoint. */
  report(): BreakerReport[] {
    return [...this.#entries.values()].map(({ id, breaker }) => ({
      ...id,
      state: breaker.state,
      openUntil: breaker.openUntil,
    }));
  }

  get size(): number {
    return this.#entries.size;
  }
}

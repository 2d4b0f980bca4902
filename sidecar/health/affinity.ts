// Session affinity: keeps a conversation on the target that served it, so provider-side prompt caches
// stay warm and a conversation does not switch models mid-way. Bounded (LRU) so a flood of new session
// ids costs a fixed amount of memory; each pin expires after its route's ttl.
import { createHash } from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import { growingLru } from '../lru.ts';

export interface AffinityStoreOptions {
  /** Pins kept across all routes; the least recently used go first. Default 100 000. */
  maxEntries?: number;
  now?: () => number;
}

/** Session ids come from a request header: long ones are hashed so one key stays small. */
const MAX_SESSION_ID = 128;

const keyOf = (routeKey: string, sessionId: string): string =>
  `${routeKey}\n${
    sessionId.length <= MAX_SESSION_ID
      ? sessionId
      : createHash('sha256').update(sessionId).digest('base64url')
  }`;

export class AffinityStore {
  #pins: LRUCache<string, string>;

  constructor(options: AffinityStoreOptions = {}) {
    const clock = options.now;
    this.#pins = growingLru<string, string>(options.maxEntries ?? 100_000, {
      // 0: read the clock on every check rather than lru-cache's per-millisecond timer.
      ttlResolution: 0,
      // +1: lru-cache reads a start time of 0 as "no ttl", and a test clock may well start at 0.
      ...(clock && { perf: { now: () => clock() + 1 } }),
    });
  }

  /** The target key this session is pinned to on this route, if the pin has not expired. */
  get(routeKey: string, sessionId: string): string | undefined {
    return this.#pins.get(keyOf(routeKey, sessionId));
  }

  /**
   * Pin (or re-pin) the session. Call it after every successful call: each call restarts the ttl, so
   * the pin lasts for ttlMs after the conversation's last turn.
   */
  set(routeKey: string, sessionId: string, targetKey: string, ttlMs: number): void {
    if (!(ttlMs > 0)) return;
    this.#pins.set(keyOf(routeKey, sessionId), targetKey, { ttl: ttlMs });
  }

  /** The pinned target failed and the call moved on: drop the pin so the next turn pins afresh. */
  forget(routeKey: string, sessionId: string): void {
    this.#pins.delete(keyOf(routeKey, sessionId));
  }

  get size(): number {
    return this.#pins.size;
  }
}

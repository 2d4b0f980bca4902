// An exact-match cache of complete, successful answers, per route: ttl from when the answer was stored
// (a hit does not extend it), least recently used evicted beyond maxEntries, and a byte budget so a
// route with large answers cannot take the process's memory.
import { LRUCache } from 'lru-cache';
import type { Usage } from '../accounting/usage.ts';

interface AnswerCommon {
  status: number;
  /** The headers to replay (content-type and the like; not hop-by-hop ones). */
  headers: Record<string, string>;
  /** The model that produced the answer. */
  model: string;
  provider?: string;
  usage?: Usage;
}

/** What the caller stores: a JSON body, or a stream's SSE frames to replay in order. Treat as immutable. */
export type CachedAnswer =
  | (AnswerCommon & { stream: false; body: Buffer })
  | (AnswerCommon & { stream: true; events: readonly string[] });

export type CachedResponse = CachedAnswer & {
  /** The cache clock's reading when stored (epoch ms by default): age = now − storedAt. */
  storedAt: number;
};

export interface CacheSettings {
  ttlMs: number;
  maxEntries: number;
}

export interface CacheLimits {
  /** Bytes one route's cache may hold (bodies, frames and headers). Default 64 MiB. */
  maxBytes?: number;
  /** Larger answers are not stored. Default 4 MiB (or maxBytes if smaller). */
  maxEntryBytes?: number;
}

export interface ResponseCacheOptions extends CacheSettings, CacheLimits {
  /** Default Date.now. */
  now?: () => number;
}

/** Rough bytes an entry holds: payload plus a fixed allowance for the object and its small fields. */
function sizeOf(a: CachedAnswer): number {
  let n = 256;
  if (a.stream) for (const e of a.events) n += e.length;
  else n += a.body.length;
  for (const k in a.headers) n += k.length + (a.headers[k]?.length ?? 0);
  return n;
}

export class ResponseCache {
  readonly settings: Readonly<CacheSettings>;
  hits = 0;
  misses = 0;
  #lru: LRUCache<string, CachedResponse>;
  #now: () => number;
  #maxEntryBytes: number;

  constructor(options: ResponseCacheOptions) {
    const { ttlMs, maxEntries } = options;
    this.settings = { ttlMs, maxEntries };
    const clock = options.now ?? Date.now;
    this.#now = clock;
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxEntryBytes = Math.min(options.maxEntryBytes ?? 4 * 1024 * 1024, maxBytes);
    this.#lru = new LRUCache<string, CachedResponse>({
      max: Math.max(1, maxEntries),
      ttl: Math.max(1, ttlMs),
      maxSize: maxBytes,
      sizeCalculation: sizeOf,
      // 0: read the clock on every check rather than lru-cache's per-millisecond timer.
      ttlResolution: 0,
      // +1: lru-cache reads a start time of 0 as "no ttl", and a test clock may well start at 0.
      perf: { now: () => clock() + 1 },
    });
  }

  /** The stored answer, unless it has expired. */
  get(key: string): CachedResponse | undefined {
    const hit = this.#lru.get(key);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  /**
   * Store a complete, successful answer (the caller decides what qualifies). Returns false when it is
   * too large to store. Replaces an answer stored under the same key, restarting its ttl.
   */
  set(key: string, answer: CachedAnswer): boolean {
    const size = sizeOf(answer);
    if (size > this.#maxEntryBytes) return false;
    this.#lru.set(key, { ...answer, storedAt: this.#now() }, { size });
    return true;
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  get size(): number {
    return this.#lru.size;
  }

  /** Bytes held, as counted for maxBytes. */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}

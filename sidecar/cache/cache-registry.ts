// Route caches outliving snapshot reloads: a reload that leaves a route's cache settings alone keeps
// what it has cached. A plain Map: one entry per route with a cache, replaced or dropped on reload
// (the sidecar calls retain() with the loaded snapshot's cached routes each time one is installed).
import { ResponseCache, type CacheLimits, type CacheSettings } from './response-cache.ts';

export interface CacheRegistryOptions extends CacheLimits {
  now?: () => number;
}

export class CacheRegistry {
  #caches = new Map<string, ResponseCache>();
  #options: CacheRegistryOptions;

  constructor(options: CacheRegistryOptions = {}) {
    this.#options = options;
  }

  /** The route's cache; a fresh, empty one when first seen or when ttlMs / maxEntries changed. */
  forRoute(routeKey: string, settings: CacheSettings): ResponseCache {
    const found = this.#caches.get(routeKey);
    if (found && found.settings.ttlMs === settings.ttlMs && found.settings.maxEntries === settings.maxEntries)
      return found;
    const cache = new ResponseCache({
      ...this.#options,
      ttlMs: settings.ttlMs,
      maxEntries: settings.maxEntries,
    });
    this.#caches.set(routeKey, cache);
    return cache;
  }

  /** After a reload: drop the caches of routes that no longer exist or no longer cache. */
  retain(routeKeys: Iterable<string>): void {
    const keep = new Set(routeKeys);
    for (const key of this.#caches.keys()) if (!keep.has(key)) this.#caches.delete(key);
  }

  /** Route caches held. */
  get size(): number {
    return this.#caches.size;
  }

  /** Answers held, over all route caches. */
  get entries(): number {
    let n = 0;
    for (const cache of this.#caches.values()) n += cache.size;
    return n;
  }
}

// lru-cache sized by entry count (`max`) allocates its arrays for all `max` entries up front: ~28 bytes an
// entry, so 2.8 MB for each 100,000-key table whether it holds one key or none. The sidecar's per-key
// tables (rate-limit buckets, affinity pins, budget entries, latency averages) are bounded that high for
// safety but usually hold a handful of keys, and together they were ~15 MB of an idle sidecar's RSS.
// Bounding the same count through maxSize, with every entry of size 1, keeps the bound and lets the
// storage grow with use (lru-cache's documented alternative to `max`).
import { LRUCache } from 'lru-cache';

type GrowingLruOptions<K extends NonNullable<unknown>, V extends NonNullable<unknown>> = Omit<
  LRUCache.Options<K, V, unknown>,
  'max' | 'maxSize' | 'sizeCalculation'
>;

/** An LRU cache holding at most `maxEntries` entries, whose storage grows as entries are added. */
export function growingLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  maxEntries: number,
  options: GrowingLruOptions<K, V> = {},
): LRUCache<K, V> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  return new LRUCache<K, V>({ ...options, maxSize: maxEntries, sizeCalculation: () => 1 });
}

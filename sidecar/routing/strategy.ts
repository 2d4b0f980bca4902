import type { SnapshotRoute, SnapshotTarget } from '../../api/index.ts';

export type Random = () => number;

/**
 * The order in which a route's targets are tried, fallbacks always last. `priority` keeps the declared
 * order; `weighted` draws without replacement in proportion to weight, so the share of first attempts
 * follows the weights and a failing pick still fails over to the others.
 */
export function orderTargets(route: SnapshotRoute, random: Random = Math.random): SnapshotTarget[] {
  const primary = route.strategy === 'weighted' ? weightedOrder(route.targets, random) : route.targets;
  return route.fallbacks.length === 0 ? primary : [...primary, ...route.fallbacks];
}

/** Any list of weighted items (targets, or whatever a caller keeps per target). */
export function weightedOrder<T extends { readonly weight: number }>(
  targets: readonly T[],
  random: Random,
): T[] {
  if (targets.length <= 1) return [...targets];
  const pool = targets.filter((t) => t.weight > 0);
  const out: T[] = [];
  let total = pool.reduce((sum, t) => sum + t.weight, 0);
  while (pool.length > 0) {
    let pick = random() * total;
    let i = 0;
    while (i < pool.length - 1 && pick >= (pool[i] as T).weight) pick -= (pool[i++] as T).weight;
    const [chosen] = pool.splice(i, 1) as [T];
    total -= chosen.weight;
    out.push(chosen);
  }
  // Weight 0 means "never first", not "never": such targets still serve as a last resort.
  for (const t of targets) if (t.weight === 0) out.push(t);
  return out;
}

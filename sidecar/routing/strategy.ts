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

export function weightedOrder(targets: readonly SnapshotTarget[], random: Random): SnapshotTarget[] {
  if (targets.length <= 1) return [...targets];
  const pool = targets.filter((t) => t.weight > 0);
  const out: SnapshotTarget[] = [];
  let total = pool.reduce((sum, t) => sum + t.weight, 0);
  while (pool.length > 0) {
    let pick = random() * total;
    let i = 0;
    while (i < pool.length - 1 && pick >= (pool[i] as SnapshotTarget).weight)
      pick -= (pool[i++] as SnapshotTarget).weight;
    const [chosen] = pool.splice(i, 1) as [SnapshotTarget];
    total -= chosen.weight;
    out.push(chosen);
  }
  // Weight 0 means "never first", not "never": such targets still serve as a last resort.
  for (const t of targets) if (t.weight === 0) out.push(t);
  return out;
}

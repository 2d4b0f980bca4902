// RoutingPolicy status.spend: the fleet totals of a policy's budgets in their current windows, and the
// reverse, the seed a new leader reads back from it. Status lists at most `maxPerBudget` scope keys per
// budget (the biggest spenders): status is not a database, and what falls off it is not kept across a
// leader change (README.md says what that costs).
import type { SnapshotPolicy } from '../../api/index.ts';
import type { SpendStatusEntry } from '../contract.ts';
import { budgetPrefix, formatUSD, isoSeconds, parseUSD, windowBounds } from './keys.ts';
import { totalOf, type KeyState, type SpendAggregate } from './spend-aggregate.ts';

export interface StatusSpend {
  entries: SpendStatusEntry[];
  /** The keys the entries were made from, to mark persisted once written. */
  keys: KeyState[];
}

/** Entries in budget order; within a budget the policy-wide key first, then by spend, then by scope. */
export function statusEntries(
  agg: SpendAggregate,
  policy: SnapshotPolicy,
  now: number,
  maxPerBudget: number,
): StatusSpend {
  const entries: SpendStatusEntry[] = [];
  const keys: KeyState[] = [];
  for (const b of policy.budgets) {
    const { start } = windowBounds(b.window, now);
    const prefix = budgetPrefix(policy.namespace, policy.name, b.name);
    const ranked = agg
      .keysOf(prefix, start)
      .map((k) => ({ k, total: totalOf(k), scope: k.budgetKey.slice(prefix.length + 1) }))
      .filter((r) => r.total > 0)
      .sort((x, y) => y.total - x.total || (x.scope < y.scope ? -1 : x.scope > y.scope ? 1 : 0))
      .slice(0, maxPerBudget);
    ranked.sort((x, y) => Number(y.scope === 'policy') - Number(x.scope === 'policy'));
    for (const r of ranked) {
      const scopeKey = scopeValue(b.scope, r.scope);
      entries.push({
        budget: b.name,
        ...(scopeKey !== undefined && { scopeKey }),
        windowStart: isoSeconds(start),
        usedUSD: formatUSD(r.total),
      });
      keys.push(r.k);
    }
  }
  return { entries, keys };
}

/** Seeds the aggregate from a stored status.spend; entries of other windows or unknown budgets are skipped. */
export function seedFromStatus(
  agg: SpendAggregate,
  policy: SnapshotPolicy,
  status: unknown,
  now: number,
): number {
  const spend = (status as { spend?: unknown } | null | undefined)?.spend;
  if (!Array.isArray(spend)) return 0;
  let seeded = 0;
  for (const raw of spend as Partial<Record<keyof SpendStatusEntry, unknown>>[]) {
    const b = policy.budgets.find((x) => x.name === raw?.budget);
    const micro = parseUSD(raw?.usedUSD);
    if (!b || micro === undefined || typeof raw.windowStart !== 'string') continue;
    const window = windowBounds(b.window, now);
    if (Date.parse(raw.windowStart) !== window.start) continue;
    const scope = scopeOf(b.scope, raw.scopeKey);
    if (scope === undefined) continue;
    const budgetKey = `${budgetPrefix(policy.namespace, policy.name, b.name)}|${scope}`;
    agg.seed({ budgetKey, ...window }, micro);
    seeded++;
  }
  return seeded;
}

/** What status shows as scopeKey: nothing for "policy", the header's value for "header:<name>". */
function scopeValue(budgetScope: string, scope: string): string | undefined {
  if (scope === 'policy') return undefined;
  return scope.startsWith(`${budgetScope}=`) ? scope.slice(budgetScope.length + 1) : scope;
}

function scopeOf(budgetScope: string, scopeKey: unknown): string | undefined {
  if (scopeKey === undefined || scopeKey === null) return budgetScope === 'policy' ? 'policy' : undefined;
  if (typeof scopeKey !== 'string' || budgetScope === 'policy') return undefined;
  return `${budgetScope}=${scopeKey}`;
}

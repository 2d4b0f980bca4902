// RoutingPolicy status.spend: the fleet totals of a policy's budgets in their current windows, and the
// reverse, the seed a new leader reads back from it. Status lists at most `maxPerBudget` scope keys per
// budget (the biggest spenders): status is not a database, and what falls off it is not kept across a
// leader change (README.md says what that costs).
//
// Anyone who may `get` the policy reads status, so a scope's header value is shown as /metrics shows it:
// redacted and cut, with a hash of the raw value when it is shown other than as sent (scope-label.ts).
// Totals are still per raw scope; the hash is how a new leader finds the raw key an entry stands for.
import type { SnapshotPolicy } from '../../api/index.ts';
import type { SecretRedactor } from '../../sidecar/telemetry/redact.ts';
import { labelHash, scopeLabel } from '../../sidecar/telemetry/scope-label.ts';
import type { SpendStatusEntry } from '../contract.ts';
import { budgetPrefix, formatUSD, isoSeconds, parseUSD, windowBounds } from './keys.ts';
import { totalOf, type KeyState, type SpendAggregate } from './spend-aggregate.ts';

export interface StatusSpend {
  entries: SpendStatusEntry[];
  /** The keys the entries were made from, to mark persisted once written. */
  keys: KeyState[];
}

interface Ranked {
  /** Undefined for a pending seed (no raw key known yet). */
  k: KeyState | undefined;
  total: number;
  /** The scope as status shows it: "policy" or "header:<name>=<value as shown>". */
  shown: string;
}

/** Entries in budget order; within a budget the policy-wide key first, then by spend, then by scope. */
export function statusEntries(
  agg: SpendAggregate,
  policy: SnapshotPolicy,
  now: number,
  maxPerBudget: number,
  redactor: SecretRedactor | undefined,
): StatusSpend {
  const entries: SpendStatusEntry[] = [];
  const keys: KeyState[] = [];
  for (const b of policy.budgets) {
    const { start } = windowBounds(b.window, now);
    const prefix = budgetPrefix(policy.namespace, policy.name, b.name);
    const scopeOf = (key: string) => key.slice(prefix.length + 1);
    const ranked: Ranked[] = [
      ...agg
        .keysOf(prefix, start)
        .map((k) => ({ k, total: totalOf(k), shown: scopeLabel(scopeOf(k.budgetKey), redactor) })),
      ...agg
        .pendingOf(prefix, start)
        .map((p) => ({ k: undefined, total: p.seed, shown: scopeOf(p.shownKey) })),
    ]
      .filter((r) => r.total > 0)
      .sort((x, y) => y.total - x.total || (x.shown < y.shown ? -1 : x.shown > y.shown ? 1 : 0))
      .slice(0, maxPerBudget);
    ranked.sort((x, y) => Number(y.shown === 'policy') - Number(x.shown === 'policy'));
    for (const r of ranked) {
      const scopeKey = scopeValue(b.scope, r.shown);
      entries.push({
        budget: b.name,
        ...(scopeKey !== undefined && { scopeKey }),
        windowStart: isoSeconds(start),
        usedUSD: formatUSD(r.total),
      });
      if (r.k) keys.push(r.k);
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
    // A value shown as sent is the raw key itself; a label with a hash waits for the raw key it names.
    const hash = labelHash(scope);
    if (hash === undefined) agg.seed({ budgetKey, ...window }, micro);
    else agg.seedShown({ shownKey: budgetKey, hash, ...window }, micro);
    seeded++;
  }
  return seeded;
}

/** What status shows as scopeKey: nothing for "policy", the header's (shown) value for "header:<name>". */
function scopeValue(budgetScope: string, scope: string): string | undefined {
  if (scope === 'policy') return undefined;
  return scope.startsWith(`${budgetScope}=`) ? scope.slice(budgetScope.length + 1) : scope;
}

function scopeOf(budgetScope: string, scopeKey: unknown): string | undefined {
  if (scopeKey === undefined || scopeKey === null) return budgetScope === 'policy' ? 'policy' : undefined;
  if (typeof scopeKey !== 'string' || budgetScope === 'policy') return undefined;
  return `${budgetScope}=${scopeKey}`;
}

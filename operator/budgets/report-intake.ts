// Takes a sidecar's spend report into the aggregate, record by record. A record counts only for a budget
// of a policy that selects the reporting pod, in a window that has not ended: a pod can add spend to its
// own workload's budgets and no one else's (its token proves which pod it is).
import { selects, type CompiledNamespace } from '../compile/index.ts';
import type { PodIdentity } from '../contract.ts';
import type { SpendReport } from '../push/spend-protocol.ts';
import { parseBudgetKey, toMicro, windowAt } from './keys.ts';
import type { SpendAggregate } from './spend-aggregate.ts';

/** A sidecar's clock may run this far ahead of ours and its next window still be accepted. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const MAX_SCOPE_LENGTH = 512;

export function intake(
  agg: SpendAggregate,
  compiled: CompiledNamespace | undefined,
  pod: PodIdentity,
  report: SpendReport,
  now: number,
): { recorded: number; ignored: number } {
  let recorded = 0;
  for (const r of report.records) {
    const ref = parseBudgetKey(r.budgetKey);
    if (!ref || ref.namespace !== pod.namespace || ref.scope.length > MAX_SCOPE_LENGTH) continue;
    const policy = compiled?.policies.find((p) => p.name === ref.policy);
    if (!policy || !selects(policy.selector, pod.labels)) continue;
    const budget = policy.budgets.find((b) => b.name === ref.budget);
    if (!budget || budget.window !== r.window) continue;
    const scopeOk =
      budget.scope === 'policy' ? ref.scope === 'policy' : ref.scope.startsWith(`${budget.scope}=`);
    const window = windowAt(budget.window, Date.parse(r.windowStart));
    if (!scopeOk || !window || window.end <= now || window.start > now + MAX_CLOCK_SKEW_MS) continue;
    const key = { budgetKey: r.budgetKey, ...window };
    if (agg.record(report.instance, key, toMicro(r.usedUSD), toMicro(r.carriedUSD ?? 0))) recorded++;
  }
  return { recorded, ignored: report.records.length - recorded };
}

// Policy-level admission before any upstream is called: rate limits by scope and USD budgets. Budgets
// reserve the call's worst-case cost up front and settle with the real cost afterwards, so concurrent
// calls cannot jointly overspend (20 concurrent calls against a budget that affords 5 admit 5).
import type { SnapshotBudget, SnapshotPolicy, SnapshotRateLimit } from '../../api/index.ts';
import type { Usage } from '../accounting/usage.ts';
import { TurnoutError } from '../errors.ts';
import type { BudgetReservation, RateLease } from '../limits/index.ts';
import type { Call } from '../upstream/call.ts';
import { candidatesFor, estimateUSD, headerValue, requestedOutputTokens } from '../upstream/candidates.ts';

export interface Admission {
  /** Settle with what the call really used; pass undefined when the usage is unknown (the estimate stands). */
  settle(usage: Usage | undefined, costUSD: number | undefined): void;
  /** Nothing was billed (no upstream answered): give the reservation and rate allowance back. */
  release(): void;
}

export type AdmissionResult =
  { kind: 'admitted'; admission: Admission } | { kind: 'redirect'; route: string; budget: string };

/** Scope key for "policy" or "header:<name>"; undefined when the header is absent (the limit does not apply). */
export function scopeKey(call: Call, scope: string): string | undefined {
  if (scope === 'policy') return 'policy';
  const value = headerValue(call.features.headers[scope.slice('header:'.length)]);
  return value === undefined || value === '' ? undefined : `${scope}=${value}`;
}

export function admit(call: Call, exempt: ReadonlySet<string> = new Set()): AdmissionResult {
  const policy = call.route.policy;
  const lease = admitRate(call, policy);
  const reservations: BudgetReservation[] = [];
  // A second candidate pass only when some budget needs the estimate.
  let estimate: number | undefined;
  for (const budget of policy.budgets) {
    if (exempt.has(budget.name)) continue;
    const scope = scopeKey(call, budget.scope);
    if (scope === undefined) continue;
    const decision = call.state.ledger.reserve(
      {
        budgetKey: `${policy.namespace}/${policy.name}/${budget.name}|${scope}`,
        limitUSD: budget.limitUSD,
        window: budget.window,
      },
      (estimate ??= worstCaseUSD(call)),
    );
    if (decision.ok) {
      reservations.push(decision.reservation);
      continue;
    }
    for (const r of reservations) r.release();
    lease?.release();
    if (budget.action.startsWith('route:'))
      return { kind: 'redirect', route: budget.action.slice('route:'.length), budget: budget.name };
    throw budgetExhausted(policy, budget, scope, decision);
  }
  return {
    kind: 'admitted',
    admission: {
      settle(usage, cost) {
        for (const r of reservations) r.settle(cost ?? Number.NaN);
        if (usage) lease?.settle(usage.inputTokens + usage.outputTokens);
      },
      release() {
        for (const r of reservations) r.release();
        lease?.release();
      },
    },
  };
}

function admitRate(call: Call, policy: SnapshotPolicy): RateLease | undefined {
  const scopes = policy.rateLimits.flatMap((l: SnapshotRateLimit) => {
    const scope = scopeKey(call, l.scope);
    return scope === undefined
      ? []
      : [
          {
            key: `${policy.namespace}/${policy.name}|${scope}`,
            limits: { rpm: l.requestsPerMinute, tpm: l.tokensPerMinute },
          },
        ];
  });
  if (scopes.length === 0) return undefined;
  const decision = call.state.limiter.tryAcquireAll(scopes, {
    tokens: call.features.promptTokens + requestedOutputTokens(call),
  });
  if (decision.ok) return decision.lease;
  const which = decision.limit === 'rpm' ? 'requestsPerMinute' : 'tokensPerMinute';
  throw new TurnoutError(
    'rate_limited',
    `rate limit exceeded: policy ${policy.name} ${which} for ${decision.key.split('|')[1] ?? 'policy'}; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`,
    {
      retryAfter: decision.retryAfterMs / 1000,
    },
  );
}

/** The most any candidate could charge for this call: what a budget must be able to afford. */
function worstCaseUSD(call: Call): number {
  const { candidates } = candidatesFor(call);
  return candidates.reduce((max, c) => Math.max(max, estimateUSD(call, c)), 0);
}

function budgetExhausted(
  policy: SnapshotPolicy,
  b: SnapshotBudget,
  scope: string,
  d: { usedUSD: number; reservedUSD: number; limitUSD: number; retryAfterMs: number },
): TurnoutError {
  const resets = new Date(Date.now() + d.retryAfterMs).toISOString();
  const who = scope === 'policy' ? '' : ` for ${scope}`;
  return new TurnoutError(
    'budget_exceeded',
    `budget "${b.name}" of policy ${policy.name}${who} is spent: $${d.usedUSD.toFixed(4)} used and $${d.reservedUSD.toFixed(4)} in flight of $${d.limitUSD} per ${b.window}; it resets at ${resets}`,
    { retryAfter: d.retryAfterMs / 1000 },
  );
}

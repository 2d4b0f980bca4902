// Policy-level admission before any upstream is called: rate limits by scope and USD budgets. Budgets
// reserve the call's worst-case cost up front and settle with the real cost afterwards, so concurrent
// calls cannot jointly overspend (20 concurrent calls against a budget that affords 5 admit 5).
import type { SnapshotBudget, SnapshotPolicy, SnapshotRateLimit } from '../../api/index.ts';
import type { Usage } from '../accounting/usage.ts';
import { TurnoutError } from '../errors.ts';
import type { BudgetDecision, BudgetReservation, BudgetSpec, RateLease } from '../limits/index.ts';
import type { Call } from '../upstream/call.ts';
import { candidatesFor, estimateUSD, headerValue, requestedOutputTokens } from '../upstream/candidates.ts';
import { scopeLabel } from '../telemetry/scope-label.ts';

export interface Admission {
  /** Settle with what the call really used; pass undefined when the usage is unknown (the estimate stands). */
  settle(usage: Usage | undefined, costUSD: number | undefined): void;
  /** Nothing was billed (no upstream answered): give the reservation and rate allowance back. */
  release(): void;
  /**
   * Reserve more spend (a shadow copy of the call) against the budgets this call was admitted under;
   * undefined when one of them cannot afford it. Settle with the real cost (NaN: unknown, the estimate
   * stands) or release it.
   */
  reserveMore(estimateUSD: number): BudgetReservation | undefined;
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
  const specs: BudgetSpec[] = [];
  // A second candidate pass only when some budget needs the estimate.
  let estimate: number | undefined;
  for (const budget of policy.budgets) {
    if (exempt.has(budget.name)) continue;
    const scope = scopeKey(call, budget.scope);
    if (scope === undefined) continue;
    const spec: BudgetSpec = {
      budgetKey: `${policy.namespace}/${policy.name}/${budget.name}|${scope}`,
      limitUSD: budget.limitUSD,
      window: budget.window,
    };
    const decision = call.state.ledger.reserve(spec, (estimate ??= worstCaseUSD(call)));
    if (decision.ok) {
      reservations.push(decision.reservation);
      specs.push(spec);
      continue;
    }
    for (const r of reservations) r.release();
    lease?.release();
    if (budget.action.startsWith('route:'))
      return { kind: 'redirect', route: budget.action.slice('route:'.length), budget: budget.name };
    throw budgetExhausted(policy, budget, scopeLabel(scope, call.redactor), decision);
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
      reserveMore: (extraUSD) => reserveAll(call, specs, extraUSD),
    },
  };
}

/** One reservation across several budgets: all of them, or none. */
function reserveAll(
  call: Call,
  specs: readonly BudgetSpec[],
  estimateUSD: number,
): BudgetReservation | undefined {
  const held: BudgetReservation[] = [];
  for (const spec of specs) {
    const d = call.state.ledger.reserve(spec, estimateUSD);
    if (!d.ok) {
      for (const r of held) r.release();
      return undefined;
    }
    held.push(d.reservation);
  }
  return {
    settle: (actualUSD) => {
      for (const r of held) r.settle(actualUSD);
    },
    release: () => {
      for (const r of held) r.release();
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
    `rate limit exceeded: policy ${policy.name} ${which} for ${scopeLabel(decision.key.split('|')[1] ?? 'policy', call.redactor)}; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`,
    {
      retryAfter: decision.retryAfterMs / 1000,
    },
  );
}

/**
 * The most this call could be charged: the dearest candidate's estimate — or, on a cascade route, the
 * sum over its candidates, since every answer it asks for is billed, rejected ones included. Each
 * candidate answers at most once (a rejected target is not asked again in later rounds), so the sum
 * bounds every retry round too.
 */
function worstCaseUSD(call: Call): number {
  const { candidates } = candidatesFor(call);
  if (call.route.route.strategy === 'cascade')
    return candidates.reduce((sum, c) => sum + estimateUSD(call, c), 0);
  return candidates.reduce((max, c) => Math.max(max, estimateUSD(call, c)), 0);
}

type Refusal = Extract<BudgetDecision, { ok: false }>;

/** The 429 for a budget that cannot take this call, saying why and when retrying can help; `scope` as printable. */
function budgetExhausted(policy: SnapshotPolicy, b: SnapshotBudget, scope: string, d: Refusal): TurnoutError {
  const who = scope === 'policy' ? '' : ` for ${scope}`;
  const name = `budget "${b.name}" of policy ${policy.name}${who}`;
  const usd = (n: number) => `$${n.toFixed(4)}`;
  const state = `${usd(d.usedUSD)} used and ${usd(d.reservedUSD)} in flight of $${d.limitUSD} per ${b.window}`;
  const retry = `retry in ${Math.ceil(d.retryAfterMs / 1000)} s`;
  let message: string;
  switch (d.reason) {
    case 'exceeds-limit':
      message = `${name}: this call alone may cost up to ${usd(d.estimateUSD)} (prompt estimate plus its output cap at list prices), more than the whole $${d.limitUSD} per ${b.window}: it can never be admitted, in this window or any other; lower max_tokens, shorten the prompt or raise the limit`;
      break;
    case 'in-flight':
      message = `${name} is reserved by calls in flight: ${state}; this call needs up to ${usd(d.estimateUSD)} and may fit once they settle; ${retry}`;
      break;
    case 'lease':
      message = `${name}: this sidecar's share of the fleet budget is used up (${state}); ${retry}, when the operator grants a new share`;
      break;
    case 'spent':
      message = `${name} is spent: ${state}; this call needs up to ${usd(d.estimateUSD)}; it resets at ${new Date(Date.now() + d.retryAfterMs).toISOString()}`;
  }
  return new TurnoutError('budget_exceeded', message, { retryAfter: d.retryAfterMs / 1000 });
}

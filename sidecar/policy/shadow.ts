// Shadow traffic: a copy of a share of a route's calls goes to the shadow target, for comparing models
// on real traffic. The copy is never returned, never awaited by the caller's request, and bounded in
// number, so it cannot slow the caller or pile up; its outcome goes to the decision log only.
//
// The copy is sent only once the call has been served by an upstream (any answer below 400), never for
// a call the sidecar refused (budget, rate limit), one that failed everywhere, or a cache hit:
// - a comparison needs the real answer to compare with, and a refused call has none;
// - a refusal must not be worked around: a budget-refused or rate-limited call that still reached a
//   provider, as a copy, would spend what the refusal protected;
// - while a route's targets are failing, copies of failed calls would add load to an incident.
// Starting after the answer costs nothing the comparison needs: the copy's latency is measured on its own.
//
// The copy is bound by what binds the call: the route's providerTags (compile refuses a shadow target
// without them, and this re-checks), the shadow provider's limits (requestsPerMinute, tokensPerMinute,
// maxConcurrent — shared with real traffic to that provider; a copy that does not fit is skipped, never
// queued), and the budgets the call was admitted under: the copy reserves its own worst case and
// settles its real cost into them, and is skipped when they cannot afford it. Policy rate limits are
// the caller's, not the copy's: they are not charged. Nor is the shadow provider's circuit breaker
// consulted or fed: a copy must not take the half-open probe or open the breaker for real calls.
import type { SnapshotModel, SnapshotRoute } from '../../api/index.ts';
import { costUSD } from '../accounting/usage.ts';
import { shaperFor } from '../dialects/shaper.ts';
import type { BudgetReservation } from '../limits/index.ts';
import type { RuntimeProvider } from '../snapshot/runtime.ts';
import type { Call, Decision } from '../upstream/call.ts';
import { readAll } from '../upstream/attempt.ts';
import { estimateUSD, requestedOutputTokens } from '../upstream/candidates.ts';
import type { Admission } from './admission.ts';

const MAX_IN_FLIGHT = 32;
let inFlight = 0;

type Shadow = NonNullable<SnapshotRoute['shadow']>;

/** Starts the shadow copy of a served call when its route has one and the call falls in its percentage. */
export function maybeShadow(
  call: Call,
  admission: Admission,
  onDecision: ((d: Decision) => void) | undefined,
): void {
  const shadow = call.route.route.shadow;
  if (!shadow || call.operation !== 'chat' || call.state.random() * 100 >= shadow.percent) return;
  if (inFlight >= MAX_IN_FLIGHT) return;
  inFlight++;
  setImmediate(() => {
    void sendShadow(call, shadow, admission)
      .then((d) => onDecision?.(d))
      .finally(() => inFlight--);
  });
}

/** What lets the copy go out: the provider's concurrency slot and rate allowance, and the budgets' reservation. */
interface ShadowPermit {
  /** The copy is over: the provider answered (with its usage and cost when known) or did not. */
  done(answered: boolean, tokens: number | undefined, costUSD: number | undefined): void;
}

async function sendShadow(call: Call, shadow: Shadow, admission: Admission): Promise<Decision> {
  const started = Date.now();
  const base = {
    time: new Date(started).toISOString(),
    snapshot: call.runtime.version,
    policy: call.route.policy.name,
    route: call.route.route.name,
    strategy: 'shadow',
    requestedModel: call.features.model,
    stream: false,
    skipped: [],
    provider: shadow.provider,
    model: shadow.model,
  };
  const provider = call.runtime.providers.get(shadow.provider);
  const model = provider?.models.get(shadow.model);
  if (!provider?.adapter || !provider.transport || !model) {
    return { ...base, status: 0, attempts: [], latencyMs: 0, errorCode: 'shadow_target_unavailable' };
  }
  const permit = permitFor(call, provider, model, admission);
  if (typeof permit === 'string') {
    const skipped = [{ provider: shadow.provider, model: shadow.model, reason: permit }];
    return { ...base, status: 0, attempts: [], skipped, latencyMs: 0, errorCode: 'shadow_skipped' };
  }
  const signal = AbortSignal.timeout(provider.spec.timeouts.totalMs);
  try {
    // Always non-streaming: nobody reads the copy incrementally, and a whole body gives usage.
    const body: Record<string, unknown> = { ...call.body, stream: false };
    delete body.stream_options;
    const request = provider.adapter.chat(
      { body, caller: 'openai', callerBody: body, raw: Buffer.from(JSON.stringify(body)), stream: false },
      { provider: provider.spec, model, apiKey: provider.apiKey },
    );
    const res = await provider.transport.send(request, signal);
    const bytes = await readAll(res.body, 16 * 1024 * 1024);
    const shaper = shaperFor(provider.adapter.wireDialect, 'openai', {
      model: model.name,
      requestedModel: call.features.model,
      callerWantsUsage: false,
    });
    const usage = res.status === 200 ? shaper.json(bytes).usage : undefined;
    const cost = usage && costUSD(usage, model.pricing);
    permit.done(res.status === 200, usage && usage.inputTokens + usage.outputTokens, cost);
    const ms = Date.now() - started;
    return {
      ...base,
      status: res.status,
      attempts: [
        {
          provider: shadow.provider,
          model: shadow.model,
          outcome: res.status === 200 ? 'ok' : 'refused',
          status: res.status,
          ms,
        },
      ],
      latencyMs: ms,
      ...(usage && { usage }),
      ...(cost !== undefined && { costUSD: cost }),
    };
  } catch (e) {
    permit.done(false, undefined, undefined);
    const ms = Date.now() - started;
    return {
      ...base,
      status: 0,
      attempts: [
        {
          provider: shadow.provider,
          model: shadow.model,
          outcome: 'connect-failure',
          ms,
          message: e instanceof Error ? e.message : String(e),
        },
      ],
      latencyMs: ms,
      errorCode: 'shadow_failed',
    };
  }
}

/** Takes what the copy needs without waiting for anything; or says why it may not go (a skip reason). */
function permitFor(
  call: Call,
  provider: RuntimeProvider,
  model: SnapshotModel,
  admission: Admission,
): ShadowPermit | string {
  // The canonical body of such a request is only a view for routing: it is never sent anywhere.
  if (call.untranslatable) return 'the request uses features only its own dialect can carry';
  const tags = provider.spec.tags;
  const required = [call.route.route.providerTags, ...(call.carriedProviderTags ?? [])];
  if (required.some((r) => Object.entries(r).some(([k, v]) => tags[k] !== v)))
    return 'constraint: provider tags do not match';
  const spec = provider.spec;
  const key = `provider:${spec.name}`;
  const leave =
    spec.limits.maxConcurrent === undefined
      ? () => undefined
      : call.state.concurrency.tryEnter(key, spec.limits.maxConcurrent);
  if (!leave) return `provider at maxConcurrent (${spec.limits.maxConcurrent})`;
  const { requestsPerMinute: rpm, tokensPerMinute: tpm } = spec.limits;
  const rate =
    rpm === undefined && tpm === undefined
      ? undefined
      : call.state.limiter.tryAcquire(
          key,
          { rpm, tpm },
          { tokens: call.features.promptTokens + requestedOutputTokens(call, model) },
        );
  if (rate && !rate.ok) {
    leave();
    return `provider ${rate.limit} limit reached`;
  }
  const reservation: BudgetReservation | undefined = admission.reserveMore(estimateUSD(call, { model }));
  if (!reservation) {
    leave();
    rate?.lease.release();
    return 'budget: a budget this call was admitted under cannot afford the copy';
  }
  return {
    done(answered, tokens, cost) {
      leave();
      if (answered) {
        if (tokens !== undefined) rate?.lease.settle(tokens);
        reservation.settle(cost ?? Number.NaN);
      } else {
        rate?.lease.release();
        reservation.release();
      }
    },
  };
}

// Shadow traffic: a copy of a share of a route's calls goes to the shadow target, for comparing models
// on real traffic. The copy is never returned, never awaited by the caller's request, and bounded in
// number, so it cannot slow the caller or pile up; its outcome goes to the decision log only.
import type { SnapshotRoute } from '../../api/index.ts';
import { costUSD } from '../accounting/usage.ts';
import { shaperFor } from '../dialects/shaper.ts';
import type { Call, Decision } from '../upstream/call.ts';
import { readAll } from '../upstream/attempt.ts';

const MAX_IN_FLIGHT = 32;
let inFlight = 0;

/** Starts the shadow copy when the route has one and this call falls in its percentage. */
export function maybeShadow(call: Call, onDecision: ((d: Decision) => void) | undefined): void {
  const shadow = call.route.route.shadow;
  if (!shadow || call.operation !== 'chat' || call.state.random() * 100 >= shadow.percent) return;
  if (inFlight >= MAX_IN_FLIGHT) return;
  inFlight++;
  setImmediate(() => {
    void sendShadow(call, shadow)
      .then((d) => onDecision?.(d))
      .finally(() => inFlight--);
  });
}

async function sendShadow(call: Call, shadow: NonNullable<SnapshotRoute['shadow']>): Promise<Decision> {
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

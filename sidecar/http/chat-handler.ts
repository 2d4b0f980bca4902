import type { IncomingMessage, ServerResponse } from 'node:http';
import { TurnoutError } from '../errors.ts';
import { OPENAI_CHAT, type InboundApi } from './inbound.ts';
import { matchRoute } from '../routing/match.ts';
import type { RuntimeSnapshot } from '../snapshot/runtime.ts';
import { targetKey, type Call, type Decision } from '../upstream/call.ts';
import { dispatch, type DispatchOutcome } from '../upstream/dispatch.ts';
import { admit, type Admission } from '../policy/admission.ts';
import { replay, routeCache, store } from '../policy/cache.ts';
import { maybeShadow } from '../policy/shadow.ts';
import type { SidecarState } from '../runtime-state.ts';
import { readBody } from './body.ts';
import { assertExactNumbers, jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.ts';
import type { CallHooks } from '../telemetry/call-hooks.ts';
import { inputContent, outputContent } from '../telemetry/content.ts';

export interface ChatHandlerOptions {
  maxBodyBytes: number;
  current: () => RuntimeSnapshot | undefined;
  state: SidecarState;
  /** Receives decisions made off the request path (shadow copies). */
  onDecision?: (d: Decision) => void;
  telemetry?: CallHooks;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses the body as strict UTF-8 JSON: broken encodings and JSON (including absurd nesting) get a 400. */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new TurnoutError('invalid_json', 'the request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TurnoutError(
      'invalid_json',
      `the request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (jsonDepthExceeds(text)) {
    throw new TurnoutError(
      'invalid_json',
      `the request body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  assertExactNumbers(value);
  return value;
}

/**
 * A call's decision, assembled only when its bookkeeping runs (telemetry/after-call.ts), from values
 * fixed when the call was answered. Building it — a dozen fields, an ISO timestamp — right after the
 * answer is sent would run just when a keep-alive caller's next request arrives.
 */
export type PendingDecision = () => Decision;

/** Serves one inference call (Chat Completions or Messages); returns its decision, refusals included. */
export async function handleChat(
  req: IncomingMessage,
  res: ServerResponse,
  opts: ChatHandlerOptions,
  clientSignal: AbortSignal,
  api: InboundApi = OPENAI_CHAT,
): Promise<PendingDecision | undefined> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const type = req.headers['content-type'];
  // Lenient like OpenAI's own API (curl -d sends a form type): the body is judged as JSON whatever the
  // header says. Only multipart, which can never be a JSON body, is refused up front.
  if (type !== undefined && /^multipart\//i.test(type)) {
    throw new TurnoutError('unsupported_media_type', `send the body as application/json, not ${type}`);
  }
  const raw = await readBody(req, opts.maxBodyBytes, clientSignal);
  const runtime = opts.current();
  if (!runtime) throw new TurnoutError('not_ready', 'no routing policy is loaded yet', { retryAfter: 1 });
  const { canonical: body, callerBody, untranslatable } = api.parse(parseJsonBody(raw));
  const features = api.features(body, req.headers);
  const route = matchRoute(runtime, features);
  if (!route) throw modelNotFound(runtime, features.model);
  const call: Call = {
    runtime,
    route,
    body,
    raw,
    features,
    res,
    clientSignal,
    startedAt,
    t0,
    attempts: [],
    skipped: [],
    state: opts.state,
    caller: api.caller,
    operation: api.operation,
    callerBody,
    ...(untranslatable && { untranslatable }),
    callerWantsUsage:
      api.caller === 'openai' &&
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
    remaining: [],
    traced: opts.telemetry?.traced ?? false,
    captureContent: opts.telemetry?.captureContent ?? false,
    redactor: opts.telemetry?.redactor,
    traceUpstream: opts.telemetry?.traceUpstream,
  };
  if (call.captureContent) call.content = { input: inputContent(body) };
  const decision: DecisionOf = (extra) => {
    const latencyMs = Date.now() - startedAt; // now, when the call is answered; the rest can wait
    return () => decisionOf(extra(), latencyMs);
  };
  const decisionOf = (extra: DecisionExtra, latencyMs: number): Decision => ({
    time: new Date(startedAt).toISOString(),
    snapshot: runtime.version,
    policy: call.route.policy.name,
    policyNamespace: call.route.policy.namespace,
    policyGeneration: call.route.policy.generation,
    operation: api.operation,
    api: api.name,
    route: call.route.route.name,
    strategy: call.route.route.strategy,
    requestedModel: features.model,
    stream: features.stream,
    attempts: call.attempts,
    skipped: call.skipped,
    latencyMs,
    monoStart: t0,
    ...(call.affinityHit && { affinityHit: true }),
    ...(call.candidates && { candidates: call.candidates.map((c) => targetKey(c.target)) }),
    ...(call.content && { content: call.content }),
    ...extra,
  });
  try {
    return await serve(call, decision, api, opts.onDecision);
  } catch (e) {
    if (e instanceof TurnoutError) {
      Object.assign(e.headers, {
        'x-turnout-policy': call.route.policy.name,
        'x-turnout-route': call.route.route.name,
        'x-turnout-attempts': String(call.attempts.length),
      });
      const { status, code, message } = e; // as they are now: the caller's copy may be redacted later
      (e as TurnoutError & { decision?: PendingDecision }).decision = decision(() => ({
        status,
        errorCode: code,
        errorMessage: message,
      }));
    }
    throw e;
  }
}

type DecisionExtra = Partial<Decision> & { status: number };
/** Fixes the call's latency now; `extra` (what the outcome adds) is read when the decision is built. */
type DecisionOf = (extra: () => DecisionExtra) => PendingDecision;

/**
 * Cache, then admission (rate limits, budgets), then the attempt loop; settles what was spent. A cache
 * hit is answered before admission: it costs nothing, so no limit or budget is charged for it.
 */
async function serve(
  call: Call,
  decision: DecisionOf,
  api: InboundApi,
  onDecision: ((d: Decision) => void) | undefined,
): Promise<PendingDecision> {
  const matched = routeCache(call, api.name);
  const hit = matched?.cache.get(matched.key);
  if (matched && hit) {
    replay(call.res, hit);
    return decision(() => ({
      status: hit.status,
      provider: hit.provider ?? '',
      model: hit.model,
      cacheHit: true,
      ...(hit.usage && { usage: hit.usage }),
      costUSD: 0,
    }));
  }
  const { admission, redirect } = admitOrRedirect(call);
  // A redirected call's answer belongs to the route that served it, under that route's key. That
  // route's cache is not looked up: its answers may come from targets the first route's providerTags exclude.
  const cached = redirect === undefined ? matched : routeCache(call, api.name);
  call.recordAnswer = cached !== undefined || call.captureContent === true;
  let out;
  try {
    out = await dispatch(call);
  } catch (e) {
    // Rejected cascade answers were billed by their providers even when none was acceptable.
    if (call.rejectedCostUSD) admission.settle(undefined, call.rejectedCostUSD);
    else admission.release();
    throw e;
  }
  const rejectedUSD = call.rejectedCostUSD ?? 0;
  const totalUSD =
    out.costUSD === undefined && rejectedUSD === 0 ? undefined : (out.costUSD ?? 0) + rejectedUSD;
  if (billed(out, rejectedUSD)) admission.settle(out.usage, totalUSD);
  else admission.release(); // the upstream refused it: nothing to bill
  if (cached) store(cached, out);
  if (out.status < 400) maybeShadow(call, admission, onDecision);
  if (call.content) call.content.output = outputContent(call.caller, out.recorded, out.finishReason);
  const last = call.attempts.at(-1);
  return decision(() => ({
    status: out.status,
    provider: out.provider,
    model: out.model,
    simulated: out.simulated,
    ...(out.usage && { usage: out.usage }),
    ...(totalUSD !== undefined && { costUSD: totalUSD }),
    ...(out.finishReason !== undefined && { finishReason: out.finishReason }),
    ...(out.ttftMs !== undefined && {
      ttftMs: Math.round(((last?.startMs ?? 0) + out.ttftMs) * 1000) / 1000,
    }),
    ...(out.streamError !== undefined && {
      errorCode: out.streamErrorCode ?? 'upstream_stream_error',
      errorMessage: out.streamError,
    }),
    ...(redirect && { budgetRedirect: redirect }),
  }));
}

/**
 * Whether the provider billed the call. An upstream refusal (a 4xx/5xx passed through) is not billed;
 * an answer is, and so is a stream the caller left after it was committed (ttftMs set: the provider
 * was generating). Such a 499 settles with the usage seen before the cut when the stream reported it,
 * else with the full reservation — the provider may have billed up to the cap.
 */
function billed(out: DispatchOutcome, rejectedUSD: number): boolean {
  return out.status < 400 || rejectedUSD > 0 || out.ttftMs !== undefined;
}

/**
 * Admits the call; a budget with action route:<name> moves it to that route, without that budget. The
 * providerTags of the route it leaves still bind it (compile refuses a redirect that cannot honour them).
 */
function admitOrRedirect(call: Call): { admission: Admission; redirect?: string } {
  const exempt = new Set<string>();
  let redirect: string | undefined;
  for (;;) {
    const result = admit(call, exempt);
    if (result.kind === 'admitted') return { admission: result.admission, ...(redirect && { redirect }) };
    const next = call.runtime.routes.find(
      (r) => r.policy === call.route.policy && r.route.name === result.route,
    );
    if (!next || exempt.has(result.budget))
      throw new TurnoutError(
        'internal_error',
        `budget ${result.budget} redirects to unknown route ${result.route}`,
      );
    exempt.add(result.budget);
    redirect = `${result.budget} → ${result.route}`;
    const tags = call.route.route.providerTags;
    if (Object.keys(tags).length > 0) call.carriedProviderTags = [...(call.carriedProviderTags ?? []), tags];
    call.route = next;
  }
}

function modelNotFound(runtime: RuntimeSnapshot, model: string): TurnoutError {
  const patterns = new Set<string>();
  for (const r of runtime.routes) for (const m of r.route.match.models) patterns.add(m);
  const known = [...patterns].sort().join(', ') || 'none';
  return new TurnoutError(
    'model_not_found',
    `model "${model}" matches no route of the loaded policies and none sets defaultRoute; models that would work: ${known}`,
    { param: 'model' },
  );
}

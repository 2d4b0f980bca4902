// The span tree of one call, built when the call is over from its Decision: a SERVER span for the call
// (the caller's request, continuing its traceparent) and a CLIENT span per upstream attempt, placed at
// the times the attempts really ran. Building after the fact keeps tracing entirely off the request
// path: nothing is allocated or awaited while the call is in flight.
import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Context,
  type SpanContext,
  type SpanStatus,
} from '@opentelemetry/api';
import {
  SamplingDecision,
  type IdGenerator,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { ProviderType } from '../../api/index.ts';
import type { RuntimeSnapshot } from '../snapshot/runtime.ts';
import type { AttemptRecord, Decision } from '../upstream/call.ts';
import {
  ERROR_TYPE,
  EVENT_FIRST_CHUNK,
  EVENT_SKIPPED,
  GEN_AI,
  HTTP_STATUS,
  operationName,
  providerName,
  SERVER_ADDRESS,
  SERVER_PORT,
  TURNOUT,
} from './names.ts';
import { failed, outcomeOf } from './outcome.ts';
import { RecordedSpan, type SpanOrigin } from './recorded-span.ts';
import type { SecretRedactor } from './redact.ts';
import { skipReason } from './skip-reasons.ts';

export interface SpanSinks {
  sampler: Sampler;
  ids: IdGenerator;
  processor: SpanProcessor;
  origin: Omit<SpanOrigin, 'epochOffset'>;
}

/**
 * A sampling decision taken before the call was over (at its first upstream attempt, to send a
 * traceparent upstream): the call's span context, undefined when not sampled, and the span ids its
 * attempts were sent, by attempt index (none for attempts sent no traceparent).
 */
export interface DecidedTrace {
  parent: Context;
  context: SpanContext | undefined;
  attemptSpanIds: (string | undefined)[];
}

export interface SpanInputs extends SpanSinks {
  /** The extracted incoming context (a remote parent when the caller sent a traceparent). */
  parent: Context;
  runtime: RuntimeSnapshot | undefined;
  redactor: SecretRedactor;
  /** performance.now() when the call ended. */
  end: number;
  /** The sampling decision, when it was taken during the call. */
  decided?: DecidedTrace;
}

const FAILURE_CLASSES = new Set(['rate-limited', 'server-error', 'timeout', 'connect-failure']);
const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };

/** The sampling decision for a call: the span context its tree shares, or undefined when not sampled. */
export function sampledContext(io: SpanSinks, parent: Context, name: string): SpanContext | undefined {
  const remote = trace.getSpanContext(parent);
  const traceId = remote && trace.isSpanContextValid(remote) ? remote.traceId : io.ids.generateTraceId();
  const result = io.sampler.shouldSample(parent, traceId, name, SpanKind.SERVER, {}, []);
  if (result.decision !== SamplingDecision.RECORD_AND_SAMPLED) return undefined; // processors export sampled spans only
  const traceState = result.traceState ?? remote?.traceState;
  return {
    traceId,
    spanId: io.ids.generateSpanId(),
    traceFlags: TraceFlags.SAMPLED,
    ...(traceState && { traceState }),
  };
}

/** Records the call span and its attempt spans; returns the call span's context when it was sampled. */
export function recordCall(d: Decision, io: SpanInputs): SpanContext | undefined {
  const op = operationName(d.operation);
  const name = `${op} ${d.requestedModel}`;
  const context = io.decided ? io.decided.context : sampledContext(io, io.parent, name);
  if (!context) return undefined;
  const remote = trace.getSpanContext(io.parent);
  const origin: SpanOrigin = { ...io.origin, epochOffset: Date.now() - performance.now() };
  const start = d.monoStart ?? io.end - d.latencyMs;
  for (const [i, a] of d.attempts.entries()) recordAttempt(d, a, i + 1, op, start, context, origin, io);
  const skipped = d.skipped.map((s) => ({
    name: EVENT_SKIPPED,
    at: start,
    attributes: {
      [TURNOUT.skipTarget]: `${s.provider}/${s.model}`,
      [TURNOUT.skipReason]: skipReason(s.reason),
      [TURNOUT.skipDetail]: io.redactor.redact(s.reason),
    },
  }));
  const status: SpanStatus = failed(d)
    ? {
        code: SpanStatusCode.ERROR,
        message: io.redactor.redact(d.errorMessage ?? d.errorCode ?? `status ${d.status}`),
      }
    : UNSET;
  io.processor.onEnd(
    new RecordedSpan(origin, {
      name,
      kind: SpanKind.SERVER,
      context,
      parent: remote && trace.isSpanContextValid(remote) ? remote : undefined,
      start,
      end: io.end,
      attributes: callAttributes(d, op, io),
      events: skipped,
      status,
    }),
  );
  return context;
}

function callAttributes(d: Decision, op: string, io: SpanInputs): Attributes {
  const attrs: Attributes = {
    [GEN_AI.operationName]: op,
    [GEN_AI.requestModel]: d.requestedModel,
    [GEN_AI.requestStream]: d.stream,
    [HTTP_STATUS]: d.status,
    [TURNOUT.snapshotVersion]: d.snapshot,
    [TURNOUT.policy]: d.policy,
    [TURNOUT.route]: d.route,
    [TURNOUT.strategy]: d.strategy,
    [TURNOUT.attempts]: d.attempts.length,
    [TURNOUT.outcome]: outcomeOf(d),
  };
  // Every attribute costs on every span (recording, encoding, storage): flags only when set, no copies.
  if (d.cacheHit) attrs[TURNOUT.cacheHit] = true;
  if (d.affinityHit) attrs[TURNOUT.affinityHit] = true;
  if (d.api !== undefined) attrs[TURNOUT.api] = d.api;
  if (d.policyNamespace !== undefined) attrs[TURNOUT.policyNamespace] = d.policyNamespace;
  if (d.policyGeneration !== undefined) attrs[TURNOUT.policyGeneration] = d.policyGeneration;
  if (d.provider) {
    attrs[GEN_AI.providerName] = providerName(typeOf(io.runtime, d.provider));
    attrs[TURNOUT.provider] = d.provider;
  }
  if (d.model) attrs[GEN_AI.responseModel] = d.model;
  if (d.usage && !d.cacheHit) usageAttributes(attrs, d.usage);
  if (d.finishReason !== undefined) attrs[GEN_AI.responseFinishReasons] = [d.finishReason];
  if (d.ttftMs !== undefined) attrs[GEN_AI.responseTimeToFirstChunk] = d.ttftMs / 1000;
  if (d.costUSD !== undefined) attrs[TURNOUT.costUSD] = d.costUSD;
  if (d.budgetRedirect !== undefined) attrs[TURNOUT.budgetRedirect] = d.budgetRedirect;
  if (d.simulated) attrs[TURNOUT.simulated] = true;
  if (d.errorCode !== undefined) {
    attrs[ERROR_TYPE] = d.errorCode;
    attrs[TURNOUT.errorCode] = d.errorCode;
  } else if (d.status >= 400) attrs[ERROR_TYPE] = String(d.status);
  if (d.candidates) attrs[TURNOUT.candidates] = d.candidates;
  if (d.skipped.length > 0) {
    attrs[TURNOUT.skippedTargets] = d.skipped.map((s) => `${s.provider}/${s.model}`);
    attrs[TURNOUT.skippedReasons] = d.skipped.map((s) => skipReason(s.reason));
  }
  if (d.content) {
    attrs[GEN_AI.inputMessages] = io.redactor.redact(d.content.input);
    if (d.content.output !== undefined) attrs[GEN_AI.outputMessages] = io.redactor.redact(d.content.output);
  }
  return attrs;
}

function recordAttempt(
  d: Decision,
  a: AttemptRecord,
  n: number,
  op: string,
  callStart: number,
  parent: SpanContext,
  origin: SpanOrigin,
  io: SpanInputs,
): void {
  const start = callStart + (a.startMs ?? 0);
  const provider = io.runtime?.providers.get(a.provider)?.spec;
  const attrs: Attributes = {
    [GEN_AI.operationName]: op,
    [GEN_AI.providerName]: providerName(provider?.type),
    [GEN_AI.requestModel]: a.model,
    [TURNOUT.provider]: a.provider,
    [TURNOUT.attemptNumber]: n,
    [TURNOUT.attemptOutcome]: a.outcome,
  };
  const server = provider?.endpoint === undefined ? undefined : serverOf(provider.endpoint);
  if (server) {
    attrs[SERVER_ADDRESS] = server.address;
    attrs[SERVER_PORT] = server.port;
  }
  if (a.status !== undefined) attrs[HTTP_STATUS] = a.status;
  if (a.outcome === 'ok') attrs[GEN_AI.responseModel] = a.model;
  else attrs[ERROR_TYPE] = a.outcome === 'refused' && a.status !== undefined ? String(a.status) : a.outcome;
  if (FAILURE_CLASSES.has(a.outcome)) attrs[TURNOUT.failureClass] = a.outcome;
  if (a.retryDelayMs !== undefined) attrs[TURNOUT.retryDelayMs] = a.retryDelayMs;
  if (a.fallback) attrs[TURNOUT.fallback] = true;
  if (a.usage) usageAttributes(attrs, a.usage);
  if (a.costUSD !== undefined) attrs[TURNOUT.costUSD] = a.costUSD;
  if (a.finishReason !== undefined) attrs[GEN_AI.responseFinishReasons] = [a.finishReason];
  if (a.ttftMs !== undefined) attrs[GEN_AI.responseTimeToFirstChunk] = a.ttftMs / 1000;
  if (a.streamError !== undefined) {
    // A stream the sidecar cut itself (its drain window closed) is not the upstream's failure.
    attrs[ERROR_TYPE] = a.streamErrorCode ?? 'upstream_stream_error';
    attrs[TURNOUT.streamError] = io.redactor.redact(a.streamError);
  }
  const ok = a.outcome === 'ok' && a.streamError === undefined;
  io.processor.onEnd(
    new RecordedSpan(origin, {
      name: `${op} ${a.model}`,
      kind: SpanKind.CLIENT,
      context: {
        traceId: parent.traceId,
        // The id its upstream was sent as traceparent, when it was sent one.
        spanId: io.decided?.attemptSpanIds[n - 1] ?? io.ids.generateSpanId(),
        traceFlags: parent.traceFlags,
      },
      parent,
      start,
      end: start + a.ms,
      attributes: attrs,
      events: a.ttftMs === undefined ? [] : [{ name: EVENT_FIRST_CHUNK, at: start + a.ttftMs }],
      status: ok
        ? UNSET
        : {
            code: SpanStatusCode.ERROR,
            message: io.redactor.redact(a.streamError ?? a.message ?? a.outcome),
          },
    }),
  );
}

function usageAttributes(attrs: Attributes, u: NonNullable<Decision['usage']>): void {
  attrs[GEN_AI.inputTokens] = u.inputTokens;
  attrs[GEN_AI.outputTokens] = u.outputTokens;
  if (u.cachedInputTokens > 0) attrs[GEN_AI.cacheReadInputTokens] = u.cachedInputTokens;
  if (u.reasoningTokens > 0) attrs[GEN_AI.reasoningOutputTokens] = u.reasoningTokens;
}

function typeOf(runtime: RuntimeSnapshot | undefined, provider: string): ProviderType | undefined {
  return runtime?.providers.get(provider)?.spec.type;
}

/** server.address/port of a provider endpoint, parsed once per endpoint (URL parsing is not free). */
const servers = new Map<string, { address: string; port: number }>();
function serverOf(endpoint: string): { address: string; port: number } | undefined {
  let s = servers.get(endpoint);
  if (s) return s;
  try {
    const u = new URL(endpoint);
    s = { address: u.hostname, port: u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443 };
  } catch {
    return undefined;
  }
  if (servers.size > 1000) servers.clear();
  servers.set(endpoint, s);
  return s;
}

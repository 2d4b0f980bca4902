// The tracer: the configured sampler, the SDK's batching span processor and OTLP/HTTP protobuf
// exporter, and a resource, all private to the sidecar (nothing is registered globally, so an embedding
// process keeps its own). Spans are made when a call is over (spans.ts); the incoming W3C traceparent
// is their parent, and each upstream attempt of a sampled call is sent its own span as traceparent.
import type { IncomingMessage } from 'node:http';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  diag,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace as otelTrace,
  type Attributes,
  type SpanContext,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  RandomIdGenerator,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { RuntimeSnapshot } from '../snapshot/runtime.ts';
import type { Call, Decision } from '../upstream/call.ts';
import type { SamplerConfig, TracingConfig } from './config.ts';
import { ERROR_TYPE, GEN_AI, HTTP_STATUS, operationName, TURNOUT } from './names.ts';
import { RecordedSpan } from './recorded-span.ts';
import type { SecretRedactor } from './redact.ts';
import { recordCall, sampledContext, type DecidedTrace, type SpanSinks } from './spans.ts';

const SCOPE = { name: 'turnout-sidecar' };

export interface TracerOptions {
  config?: TracingConfig;
  /** Replaces the configured exporter; spans go through a SimpleSpanProcessor (tests: in-memory). */
  exporter?: SpanExporter;
  /** Replaces the span processor altogether (benchmarks: batching to an encoding-only exporter). */
  processor?: SpanProcessor;
  sampler?: Sampler;
  redactor: SecretRedactor;
}

export class CallTracer {
  readonly #sinks: SpanSinks;
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #redactor: SecretRedactor;
  /** Calls whose sampling was decided at their first upstream attempt, until their spans are recorded. */
  readonly #decided = new WeakMap<IncomingMessage, DecidedTrace>();

  constructor(opts: TracerOptions) {
    const config = opts.config;
    this.#redactor = opts.redactor;
    const resource = resourceFromAttributes({
      ...config?.resourceAttributes,
      'service.name': config?.serviceName ?? 'turnout-sidecar',
    });
    this.#sinks = {
      sampler: opts.sampler ?? samplerFor(config?.sampler ?? { kind: 'parentbased_always_on' }),
      ids: new RandomIdGenerator(),
      processor: opts.processor ?? processorFor(opts.exporter, config),
      origin: {
        resource,
        scope: SCOPE,
        ...(config?.attributeValueLengthLimit !== undefined && {
          valueLengthLimit: config.attributeValueLengthLimit,
        }),
      },
    };
  }

  /**
   * Sets the W3C traceparent (and tracestate) of an upstream attempt's request when the call is sampled:
   * its parent is that attempt's CLIENT span, whose id is fixed here and used when the spans are
   * recorded. The call's sampling decision is taken at its first attempt and kept for recordDecision,
   * so a traced call pays for it once, as before, only earlier. Bound: handed to the request path as is.
   */
  readonly traceUpstream = (call: Call, headers: Record<string, string>, attempt: number): void => {
    try {
      const decided = this.#traceOf(call);
      if (!decided.context) return;
      const spanId = this.#sinks.ids.generateSpanId();
      decided.attemptSpanIds[attempt - 1] = spanId;
      const context = otelTrace.setSpanContext(ROOT_CONTEXT, { ...decided.context, spanId });
      this.#propagator.inject(context, headers, defaultTextMapSetter);
    } catch (e) {
      diag.error('turnout: setting traceparent failed', e);
    }
  };

  #traceOf(call: Call): DecidedTrace {
    const req = call.res.req;
    let decided = this.#decided.get(req);
    if (!decided) {
      const parent = this.#parentOf(req);
      const name = `${operationName(call.operation)} ${call.features.model}`;
      decided = { parent, context: sampledContext(this.#sinks, parent, name), attemptSpanIds: [] };
      this.#decided.set(req, decided);
    }
    return decided;
  }

  /**
   * Spans for a routed call; sets the decision's traceId/spanId when the call was sampled. `end` is when
   * the call ended (performance.now()), given when the spans are recorded later than that.
   */
  recordDecision(
    req: IncomingMessage,
    d: Decision,
    runtime: RuntimeSnapshot | undefined,
    end = performance.now(),
  ): void {
    try {
      const decided = this.#decided.get(req);
      if (decided) this.#decided.delete(req);
      const sc = recordCall(d, {
        ...this.#sinks,
        parent: decided?.parent ?? this.#parentOf(req),
        runtime,
        redactor: this.#redactor,
        end,
        ...(decided && { decided }),
      });
      if (sc) {
        d.traceId = sc.traceId;
        d.spanId = sc.spanId;
      }
    } catch (e) {
      // Telemetry must never fail a call that has been served.
      diag.error('turnout: recording spans failed', e);
    }
  }

  /**
   * A call refused before it was routed (bad JSON, unknown model, not ready): one span, no children.
   * Sets the decision's traceId/spanId when sampled. `start` and `end` are performance.now() values.
   */
  recordRefusal(req: IncomingMessage, d: Decision, start: number, end: number): void {
    try {
      const sc = this.#refusal(req, d, start, end);
      if (sc) {
        d.traceId = sc.traceId;
        d.spanId = sc.spanId;
      }
    } catch (e) {
      diag.error('turnout: recording a span failed', e);
    }
  }

  #refusal(req: IncomingMessage, d: Decision, start: number, end: number): SpanContext | undefined {
    const op = operationName(d.operation);
    const parent = this.#parentOf(req);
    const context = sampledContext(this.#sinks, parent, op);
    if (!context) return undefined;
    const code = d.errorCode ?? String(d.status);
    const attributes: Attributes = {
      [GEN_AI.operationName]: op,
      [HTTP_STATUS]: d.status,
      [ERROR_TYPE]: code,
      [TURNOUT.errorCode]: code,
      [TURNOUT.outcome]: code,
    };
    if (d.api !== undefined) attributes[TURNOUT.api] = d.api;
    const remote = otelTrace.getSpanContext(parent);
    this.#sinks.processor.onEnd(
      new RecordedSpan(
        { ...this.#sinks.origin, epochOffset: Date.now() - performance.now() },
        {
          name: op,
          kind: SpanKind.SERVER,
          context,
          parent: remote && otelTrace.isSpanContextValid(remote) ? remote : undefined,
          start,
          end,
          attributes,
          events: [],
          status:
            d.status >= 500
              ? { code: SpanStatusCode.ERROR, message: this.#redactor.redact(d.errorMessage ?? code) }
              : { code: SpanStatusCode.UNSET },
        },
      ),
    );
    return context;
  }

  #parentOf(req: IncomingMessage) {
    return this.#propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
  }

  forceFlush(): Promise<void> {
    return this.#sinks.processor.forceFlush();
  }

  /** Flushes what is buffered, then stops exporting. */
  shutdown(): Promise<void> {
    return this.#sinks.processor.shutdown();
  }
}

function processorFor(exporter: SpanExporter | undefined, config: TracingConfig | undefined): SpanProcessor {
  if (exporter) return new SimpleSpanProcessor({ exporter });
  if (config?.exporter === 'console') return new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() });
  // Compression, timeout and TLS files come from the exporter's own reading of OTEL_EXPORTER_OTLP_*.
  const otlp = new OTLPTraceExporter({
    ...(config?.url !== undefined && { url: config.url }),
    ...(config?.headers && { headers: config.headers }),
  });
  return new BatchSpanProcessor({ exporter: otlp, ...config?.batch });
}

export function samplerFor(s: SamplerConfig): Sampler {
  switch (s.kind) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(s.ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(s.ratio) });
  }
}

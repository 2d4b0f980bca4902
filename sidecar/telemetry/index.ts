// Telemetry for one sidecar: the tracer (when configured), the redactor, and the per-call hooks the
// request path reads. Configured from the standard OTEL_* variables; tests inject an exporter instead.
// The OpenTelemetry SDK and exporter are loaded only when tracing is on (Telemetry.create): a sidecar that
// exports no spans does not carry them in memory.
import type { Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { SnapshotStore } from '../snapshot/store.ts';
import type { Decision } from '../upstream/call.ts';
import type { CallHooks } from './call-hooks.ts';
import { telemetryConfig, type Env, type TelemetryConfig } from './config.ts';
import { decisionRecord, type DecisionRecord } from './decision-log.ts';
import { SecretRedactor } from './redact.ts';
import type { CallTracer } from './tracing.ts';

export { CAPTURE_CONTENT_ENV, telemetryConfig, type Env, type TelemetryConfig } from './config.ts';
export type { DecisionRecord } from './decision-log.ts';
export { SecretRedactor, REDACTED } from './redact.ts';
export type { CallHooks, TraceUpstream } from './call-hooks.ts';
export { isRefusal, refusalDecision, MAX_REFUSAL_MESSAGE_CHARS, type Refusal } from './refusal.ts';
export { LiveStats, renderLive } from './live-view.ts';

const SHUTDOWN_TIMEOUT_MS = 2000;

export interface TelemetryOptions {
  /** Where OTEL_* come from; default process.env. */
  env?: Env;
  /** Export spans here (through a SimpleSpanProcessor) instead of the configured OTLP exporter; turns tracing on. */
  exporter?: SpanExporter;
  /** Replaces the span processor (and exporter) altogether; turns tracing on. */
  processor?: SpanProcessor;
  sampler?: Sampler;
  /** Overrides OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. */
  captureContent?: boolean;
}

export class Telemetry {
  readonly redactor = new SecretRedactor();
  /** Undefined when tracing is off: the request path then does nothing for spans. */
  readonly tracer: CallTracer | undefined;
  readonly hooks: CallHooks;
  #settle: (() => void) | undefined;
  /** Problems with the OTEL_* variables, for the startup log. */
  readonly warnings: readonly string[];

  /** Reads the configuration and, only when tracing is on, loads the tracer. */
  static async create(opts: TelemetryOptions = {}): Promise<Telemetry> {
    const config = await telemetryConfig(opts.env ?? process.env);
    const traced =
      config.tracing !== undefined || opts.exporter !== undefined || opts.processor !== undefined;
    const tracing = traced ? await import('./tracing.ts') : undefined;
    return new Telemetry(opts, config, tracing?.CallTracer);
  }

  /** Use Telemetry.create(); `Tracer` is the lazily loaded CallTracer class when tracing is on. */
  private constructor(
    opts: TelemetryOptions,
    config: TelemetryConfig,
    Tracer: typeof CallTracer | undefined,
  ) {
    this.warnings = config.warnings;
    this.tracer =
      Tracer && (config.tracing || opts.exporter || opts.processor)
        ? new Tracer({
            redactor: this.redactor,
            ...(config.tracing && { config: config.tracing }),
            ...(opts.exporter && { exporter: opts.exporter }),
            ...(opts.processor && { processor: opts.processor }),
            ...(opts.sampler && { sampler: opts.sampler }),
          })
        : undefined;
    this.hooks = {
      traced: this.tracer !== undefined,
      captureContent: this.tracer !== undefined && (opts.captureContent ?? config.captureContent),
      redactor: this.redactor,
      traceUpstream: this.tracer?.traceUpstream,
    };
  }

  /** Follows the snapshots the store loads: their credentials are what the redactor scrubs. */
  attach(store: SnapshotStore): void {
    if (store.current) this.redactor.update(store.current);
    store.onLoad((runtime) => this.redactor.update(runtime));
  }

  /** The decision log's JSON object for one call. */
  decisionRecord(d: Decision): DecisionRecord {
    return decisionRecord(d, this.redactor);
  }

  redact(text: string): string {
    return this.redactor.redact(text);
  }

  /** Calls answered but not yet recorded (queued, see after-call.ts) are recorded before a flush. */
  settleBeforeFlush(settle: () => void): void {
    this.#settle = settle;
  }

  async forceFlush(): Promise<void> {
    this.#settle?.();
    await this.tracer?.forceFlush().catch(() => undefined);
  }

  /**
   * Flushes buffered spans and stops exporting, waiting at most `timeoutMs`: a collector that is down
   * must not hold up a sidecar's exit (the exporter would retry with backoff), nor fail it.
   */
  async shutdown(timeoutMs = SHUTDOWN_TIMEOUT_MS): Promise<void> {
    if (!this.tracer) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([this.tracer.shutdown().catch(() => undefined), timeout]);
    clearTimeout(timer);
  }
}

import type { Call } from '../upstream/call.ts';
import type { SecretRedactor } from './redact.ts';

/**
 * Sets the trace headers (W3C traceparent, tracestate) of upstream attempt `attempt` (1, 2, …) of a
 * call, when the call is sampled.
 */
export type TraceUpstream = (call: Call, headers: Record<string, string>, attempt: number) => void;

/** What the request path needs from telemetry, decided once per sidecar, read once per call. */
export interface CallHooks {
  /** Spans are recorded: keep the few extra facts only a span shows (the candidate list). */
  traced: boolean;
  /** Prompts and completions go on spans. */
  captureContent: boolean;
  redactor: SecretRedactor;
  /** Present only when tracing is on: a call without tracing does not even look for its trace. */
  traceUpstream: TraceUpstream | undefined;
}

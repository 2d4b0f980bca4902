import type { ServerResponse } from 'node:http';
import type { FailureClass, SnapshotTarget } from '../../api/index.ts';
import type { Usage } from '../accounting/usage.ts';
import type { InferenceBody, RequestFeatures } from '../routing/features.ts';
import type { Operation } from '../http/inbound.ts';
import type { RuntimeRoute, RuntimeSnapshot } from '../snapshot/runtime.ts';
import type { SidecarState } from '../runtime-state.ts';
import type { CallerDialect } from '../dialects/shaper.ts';
import type { TurnoutError } from '../errors.ts';
import type { Candidate } from './candidates.ts';
import type { SecretRedactor } from '../telemetry/redact.ts';
import type { CallContent } from '../telemetry/content.ts';
import type { TraceUpstream } from '../telemetry/call-hooks.ts';

/** Everything one caller request carries through routing and its attempts. */
export interface Call {
  runtime: RuntimeSnapshot;
  /** The matched route; a budget with action route:<name> may replace it before dispatch. */
  route: RuntimeRoute;
  /** providerTags of routes a budget redirect moved the call away from: they still bind it. */
  carriedProviderTags?: readonly Readonly<Record<string, string>>[];
  /** The request in canonical form: OpenAI Chat for chat calls, the OpenAI body for other operations. */
  body: InferenceBody;
  operation: Operation;
  raw: Buffer;
  features: RequestFeatures;
  res: ServerResponse;
  /** Aborts when the caller goes away. */
  clientSignal: AbortSignal;
  startedAt: number;
  /** performance.now() at the start: attempt offsets and span times are on this clock. */
  t0: number;
  attempts: AttemptRecord[];
  skipped: SkipRecord[];
  state: SidecarState;
  affinityHit?: boolean;
  /** Keep what the caller received, for the response cache. */
  recordAnswer?: boolean;
  /** The dialect the caller speaks, its own parsed body, and whether it asked for stream usage. */
  caller: CallerDialect;
  callerBody: Record<string, unknown>;
  callerWantsUsage: boolean;
  /** Set when only an upstream speaking the caller's dialect can serve the call: why the others cannot. */
  untranslatable?: TurnoutError;
  /** Candidates after the one being tried (for context-length failover). */
  remaining: Candidate[];
  /** Set when an upstream said the prompt is too long: smaller windows are not tried. */
  minContextWindow?: number;
  /** Cascade: what rejected answers cost (they were billed by the provider), and which targets gave them. */
  rejectedCostUSD?: number;
  rejected?: Set<Candidate>;
  /** Why a target could not take the request at all, when none could. */
  unsuitable?: TurnoutError;
  /** Telemetry: the call is traced (keep the candidate list), content is captured, secrets to scrub. */
  traced?: boolean;
  captureContent?: boolean;
  redactor?: SecretRedactor;
  /** Tracing on: sets an upstream attempt's traceparent when the call is sampled (telemetry/tracing.ts). */
  traceUpstream?: TraceUpstream | undefined;
  /** Prompt, then completion, when content capture is on. */
  content?: CallContent;
  /** The eligible candidates in try order, kept only when traced. */
  candidates?: readonly Candidate[];
  /** Backoff waited before the next attempt (a new round), for its record. */
  retryDelayMs?: number;
}

export interface AttemptRecord {
  provider: string;
  model: string;
  /** `ok`, a failure class, `refused` (returned to the caller as is) or `aborted` (caller left). */
  outcome: 'ok' | FailureClass | 'refused' | 'aborted' | 'rejected';
  status?: number;
  /** Duration, and start as an offset from the call's start (ms, µs precision). */
  ms: number;
  startMs?: number;
  message?: string;
  /** Backoff waited before this attempt (the first of a new round). */
  retryDelayMs?: number;
  /** A fallback target (the route's fallbacks list). */
  fallback?: boolean;
  /** Stream: attempt start to the first content (text, tool call or finish) sent, ms. */
  ttftMs?: number;
  usage?: Usage;
  costUSD?: number;
  finishReason?: string;
  /** A stream that failed after it was committed to the caller. */
  streamError?: string;
  /** The Turnout error code when the sidecar, not the upstream, cut that stream (shutting_down). */
  streamErrorCode?: string;
}

export interface SkipRecord {
  provider: string;
  model: string;
  reason: string;
}

export interface Decision {
  time: string;
  snapshot: string;
  policy: string;
  policyNamespace?: string;
  /** The RoutingPolicy's metadata.generation: which version of it decided. */
  policyGeneration?: number;
  /** gen_ai operation and the inbound surface (openai.chat, anthropic.messages, …). */
  operation?: Operation;
  api?: string;
  route: string;
  strategy: string;
  requestedModel: string;
  stream: boolean;
  status: number;
  provider?: string;
  model?: string;
  simulated?: boolean;
  attempts: AttemptRecord[];
  skipped: SkipRecord[];
  latencyMs: number;
  usage?: Usage;
  costUSD?: number;
  errorCode?: string;
  cacheHit?: boolean;
  affinityHit?: boolean;
  /** Budgets this call was checked against, and a route switch one of them caused. */
  budgetRedirect?: string;
  errorMessage?: string;
  finishReason?: string;
  /** Stream: call start to the first content (text, tool call or finish) sent, ms. */
  ttftMs?: number;
  /** Eligible targets in try order ("provider/model"), when traced. */
  candidates?: string[];
  /** performance.now() at the call's start (spans are placed on this clock); never logged. */
  monoStart?: number;
  /** Prompt and completion, only when content capture is on; never logged. */
  content?: CallContent;
  /** The call's span, when traced. */
  traceId?: string;
  spanId?: string;
}

export type TargetKey = `${string}/${string}`;
export const targetKey = (t: SnapshotTarget): TargetKey => `${t.provider}/${t.model}`;

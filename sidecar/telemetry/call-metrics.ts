// Per-call metrics, observed once per decision. The gen_ai_* ones are the OpenTelemetry GenAI client
// metrics in their Prometheus spelling (dots to underscores, unit suffix: gen_ai.client.operation.duration
// → gen_ai_client_operation_duration_seconds), with the conventions' bucket advice; they describe each
// upstream attempt, as the GenAI client spans do. The turnout_* ones describe the caller's call.
import type { Registry } from 'prom-client';
import type { RuntimeSnapshot } from '../snapshot/runtime.ts';
import type { AttemptRecord, Decision } from '../upstream/call.ts';
import { operationName, providerName } from './names.ts';
import { skipReason } from './skip-reasons.ts';
import { FastCounter, FastHistogram } from './fast-metrics.ts';

/** Semantic-conventions bucket advice for gen_ai.client.token.usage. */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** … and for gen_ai.client.operation.duration and time_to_first_chunk (seconds). */
const SECONDS_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
const FAILURE_CLASSES = new Set<string>(['rate-limited', 'server-error', 'timeout', 'connect-failure']);

const GENAI_LABELS = [
  'gen_ai_operation_name',
  'gen_ai_provider_name',
  'gen_ai_request_model',
  'turnout_provider',
] as const;

type GenAiLabel = (typeof GENAI_LABELS)[number];
type TargetLabel = 'policy' | 'route' | 'provider' | 'model';

export class CallMetrics {
  readonly #tokens: FastHistogram<GenAiLabel | 'gen_ai_response_model' | 'gen_ai_token_type'>;
  readonly #operation: FastHistogram<GenAiLabel | 'gen_ai_response_model' | 'error_type'>;
  readonly #firstChunk: FastHistogram<GenAiLabel>;
  readonly #callFirstChunk: FastHistogram<'policy' | 'route'>;
  readonly #failovers: FastCounter<TargetLabel | 'failure_class'>;
  readonly #skipped: FastCounter<TargetLabel | 'reason'>;
  readonly #cost: FastCounter<TargetLabel>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#tokens = new FastHistogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens per upstream attempt (gen_ai.client.token.usage), by gen_ai.token.type input/output',
      labelNames: [...GENAI_LABELS, 'gen_ai_response_model', 'gen_ai_token_type'],
      buckets: TOKEN_BUCKETS,
      registers,
    });
    this.#operation = new FastHistogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'Duration of each upstream attempt (gen_ai.client.operation.duration); error_type set on failures',
      labelNames: [...GENAI_LABELS, 'gen_ai_response_model', 'error_type'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#firstChunk = new FastHistogram({
      name: 'gen_ai_client_operation_time_to_first_chunk_seconds',
      help: 'Upstream attempt start to its first stream chunk (gen_ai.client.operation.time_to_first_chunk)',
      labelNames: GENAI_LABELS,
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#callFirstChunk = new FastHistogram({
      name: 'turnout_time_to_first_chunk_seconds',
      help: 'What the caller waited for its first stream chunk, failovers included',
      labelNames: ['policy', 'route'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#failovers = new FastCounter({
      name: 'turnout_failovers_total',
      help: 'Attempts that failed with a retryable class and moved the call on, by failure class',
      labelNames: ['policy', 'route', 'provider', 'model', 'failure_class'],
      registers,
    });
    this.#skipped = new FastCounter({
      name: 'turnout_candidates_skipped_total',
      help: 'Targets left out of a call, by reason (breaker-open, constraint, context-window, rate-limited, …)',
      labelNames: ['policy', 'route', 'provider', 'model', 'reason'],
      registers,
    });
    this.#cost = new FastCounter({
      name: 'turnout_cost_usd_total',
      help: 'Spend in USD at list prices, by the target that was billed (rejected cascade answers included)',
      labelNames: ['policy', 'route', 'provider', 'model'],
      registers,
    });
  }

  // Label values go in each metric's labelNames order.
  observe(d: Decision, runtime: RuntimeSnapshot | undefined): void {
    const op = operationName(d.operation);
    let attemptCost = 0;
    for (const a of d.attempts) {
      attemptCost += a.costUSD ?? 0;
      this.#attempt(d, a, op, runtime);
    }
    for (const s of d.skipped)
      this.#skipped.inc([d.policy, d.route, s.provider, s.model, skipReason(s.reason)]);
    // The call's cost beyond what its attempts recorded (none did, or a cost only known overall).
    const rest = (d.costUSD ?? 0) - attemptCost;
    if (rest > 1e-12 && d.provider) this.#cost.inc([d.policy, d.route, d.provider, d.model ?? ''], rest);
    if (d.ttftMs !== undefined) this.#callFirstChunk.observe([d.policy, d.route], d.ttftMs / 1000);
  }

  #attempt(d: Decision, a: AttemptRecord, op: string, runtime: RuntimeSnapshot | undefined): void {
    // gen_ai_operation_name, gen_ai_provider_name, gen_ai_request_model, turnout_provider
    const genai = [op, providerName(runtime?.providers.get(a.provider)?.spec.type), a.model, a.provider];
    if (a.outcome !== 'aborted') {
      const ok = a.outcome === 'ok';
      const errorType = ok
        ? ''
        : a.outcome === 'refused' && a.status !== undefined
          ? String(a.status)
          : a.outcome;
      this.#operation.observe([...genai, ok ? a.model : '', errorType], a.ms / 1000);
    }
    if (a.usage) {
      this.#tokens.observe([...genai, a.model, 'input'], a.usage.inputTokens);
      this.#tokens.observe([...genai, a.model, 'output'], a.usage.outputTokens);
    }
    if (a.ttftMs !== undefined) this.#firstChunk.observe(genai, a.ttftMs / 1000);
    const target = [d.policy, d.route, a.provider, a.model];
    if (FAILURE_CLASSES.has(a.outcome)) this.#failovers.inc([...target, a.outcome]);
    if (a.costUSD !== undefined && a.costUSD > 0) this.#cost.inc(target, a.costUSD);
  }
}

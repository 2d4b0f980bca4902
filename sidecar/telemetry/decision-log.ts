// The decision log: one JSON object per call, for log pipelines. Built field by field from the Decision
// (never by spreading it), so nothing is logged by accident — no prompt content, no span clock — and
// every free-text field passes the redactor.
import type { Decision } from '../upstream/call.ts';
import { outcomeOf } from './outcome.ts';
import type { SecretRedactor } from './redact.ts';
import { skipReason } from './skip-reasons.ts';

export interface DecisionRecord {
  outcome: string;
  status: number;
  time: string;
  latencyMs: number;
  api?: string;
  operation?: string;
  snapshot: string;
  policy: string;
  policyNamespace?: string;
  policyGeneration?: number;
  route: string;
  strategy: string;
  requestedModel: string;
  stream: boolean;
  /** "provider/model" that answered, when one did. */
  target?: string;
  simulated?: boolean;
  candidates?: string[];
  attempts: Record<string, unknown>[];
  skipped: { target: string; reason: string; detail: string }[];
  tokens?: { input: number; output: number; cachedInput: number; reasoning: number };
  costUSD?: number;
  ttftMs?: number;
  finishReason?: string;
  cacheHit?: boolean;
  affinityHit?: boolean;
  budgetRedirect?: string;
  errorCode?: string;
  error?: string;
  traceId?: string;
  spanId?: string;
}

export function decisionRecord(d: Decision, redactor: SecretRedactor): DecisionRecord {
  const r: DecisionRecord = {
    outcome: outcomeOf(d),
    status: d.status,
    time: d.time,
    latencyMs: d.latencyMs,
    snapshot: d.snapshot,
    policy: d.policy,
    route: d.route,
    strategy: d.strategy,
    requestedModel: d.requestedModel,
    stream: d.stream,
    attempts: d.attempts.map((a, i) => ({
      n: i + 1,
      target: `${a.provider}/${a.model}`,
      outcome: a.outcome,
      ...(a.status !== undefined && { status: a.status }),
      ms: a.ms,
      ...(a.startMs !== undefined && { startMs: a.startMs }),
      ...(a.retryDelayMs !== undefined && { retryDelayMs: a.retryDelayMs }),
      ...(a.fallback && { fallback: true }),
      ...(a.ttftMs !== undefined && { ttftMs: a.ttftMs }),
      ...(a.usage && { tokens: { input: a.usage.inputTokens, output: a.usage.outputTokens } }),
      ...(a.costUSD !== undefined && { costUSD: a.costUSD }),
      ...(a.message !== undefined && { message: redactor.redact(a.message) }),
      ...(a.streamError !== undefined && { streamError: redactor.redact(a.streamError) }),
    })),
    skipped: d.skipped.map((s) => ({
      target: `${s.provider}/${s.model}`,
      reason: skipReason(s.reason),
      detail: redactor.redact(s.reason),
    })),
  };
  if (d.api !== undefined) r.api = d.api;
  if (d.operation !== undefined) r.operation = d.operation;
  if (d.policyNamespace !== undefined) r.policyNamespace = d.policyNamespace;
  if (d.policyGeneration !== undefined) r.policyGeneration = d.policyGeneration;
  if (d.provider) r.target = `${d.provider}/${d.model ?? ''}`;
  if (d.simulated) r.simulated = true;
  if (d.candidates) r.candidates = d.candidates;
  if (d.usage)
    r.tokens = {
      input: d.usage.inputTokens,
      output: d.usage.outputTokens,
      cachedInput: d.usage.cachedInputTokens,
      reasoning: d.usage.reasoningTokens,
    };
  if (d.costUSD !== undefined) r.costUSD = d.costUSD;
  if (d.ttftMs !== undefined) r.ttftMs = d.ttftMs;
  if (d.finishReason !== undefined) r.finishReason = d.finishReason;
  if (d.cacheHit) r.cacheHit = true;
  if (d.affinityHit) r.affinityHit = true;
  if (d.budgetRedirect !== undefined) r.budgetRedirect = d.budgetRedirect;
  if (d.errorCode !== undefined) r.errorCode = d.errorCode;
  if (d.errorMessage !== undefined) r.error = redactor.redact(d.errorMessage);
  if (d.traceId !== undefined) r.traceId = d.traceId;
  if (d.spanId !== undefined) r.spanId = d.spanId;
  return r;
}

// Attribute and metric names. The gen_ai.* ones are the OpenTelemetry GenAI semantic conventions; they
// are spelled out here rather than imported from @opentelemetry/semantic-conventions/incubating, whose
// GenAI constants are marked deprecated (moved to the semantic-conventions-genai repository) and whose
// own guidance is to copy incubating names into the instrumentation that uses them.
import type { ProviderType } from '../../api/index.ts';
import type { Operation } from '../http/inbound.ts';

export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestStream: 'gen_ai.request.stream',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  responseModel: 'gen_ai.response.model',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  reasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  tokenType: 'gen_ai.token.type',
} as const;

export const ERROR_TYPE = 'error.type';
export const HTTP_STATUS = 'http.response.status_code';
export const SERVER_ADDRESS = 'server.address';
export const SERVER_PORT = 'server.port';

/** Turnout's own decision attributes, on the call span unless marked attempt. */
export const TURNOUT = {
  api: 'turnout.api',
  snapshotVersion: 'turnout.snapshot.version',
  policy: 'turnout.policy',
  policyNamespace: 'turnout.policy.namespace',
  policyGeneration: 'turnout.policy.generation',
  route: 'turnout.route',
  strategy: 'turnout.strategy',
  candidates: 'turnout.candidates',
  skippedTargets: 'turnout.skipped.targets',
  skippedReasons: 'turnout.skipped.reasons',
  attempts: 'turnout.attempts',
  provider: 'turnout.provider',
  outcome: 'turnout.outcome',
  costUSD: 'turnout.cost_usd',
  cacheHit: 'turnout.cache.hit',
  affinityHit: 'turnout.affinity.hit',
  budgetRedirect: 'turnout.budget.redirect',
  simulated: 'turnout.simulated',
  errorCode: 'turnout.error.code',
  streamError: 'turnout.stream.error',
  /** Attempt span. */
  attemptNumber: 'turnout.attempt.number',
  attemptOutcome: 'turnout.attempt.outcome',
  failureClass: 'turnout.failure_class',
  retryDelayMs: 'turnout.retry.delay_ms',
  fallback: 'turnout.fallback',
  /** Attributes of the turnout.candidate.skipped event. */
  skipTarget: 'turnout.skip.target',
  skipReason: 'turnout.skip.reason',
  skipDetail: 'turnout.skip.detail',
} as const;

export const EVENT_SKIPPED = 'turnout.candidate.skipped';
export const EVENT_FIRST_CHUNK = 'turnout.first_chunk';

/** gen_ai.operation.name: the Responses API generates chat turns too. */
export function operationName(op: Operation | undefined): string {
  return op === 'embeddings' ? 'embeddings' : 'chat';
}

/** gen_ai.provider.name well-known values; types without one keep their own name. */
const PROVIDER_NAMES: Record<ProviderType, string> = {
  openai: 'openai',
  'azure-openai': 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  'openai-compatible': 'openai_compatible',
  mock: 'turnout.mock',
};

export function providerName(type: ProviderType | undefined): string {
  return type === undefined ? '_OTHER' : PROVIDER_NAMES[type];
}

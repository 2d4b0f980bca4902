// Why the model stopped, between dialects. Unknown values map to the plain "it stopped" reason of the
// target dialect: a new provider reason must never break a caller's SDK, which only knows its own enum.
import type { AnthropicStopReason, OpenAiFinishReason } from './types.ts';

const FROM_ANTHROPIC: Readonly<Record<string, OpenAiFinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export function finishFromAnthropic(stopReason: unknown): OpenAiFinishReason {
  return (typeof stopReason === 'string' ? FROM_ANTHROPIC[stopReason] : undefined) ?? 'stop';
}

const GEMINI_FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
]);

/** Gemini has no "tool calls" reason: a candidate that stopped with a functionCall part is one. */
export function finishFromGemini(reason: unknown, hasFunctionCall: boolean): OpenAiFinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && GEMINI_FILTERED.has(reason)) return 'content_filter';
  return hasFunctionCall ? 'tool_calls' : 'stop';
}

const TO_ANTHROPIC: Readonly<Record<string, AnthropicStopReason>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

export function stopReasonFromOpenAi(finishReason: unknown): AnthropicStopReason {
  return (typeof finishReason === 'string' ? TO_ANTHROPIC[finishReason] : undefined) ?? 'end_turn';
}

const OPENAI_REASONS = new Set<string>(['stop', 'length', 'tool_calls', 'content_filter']);

/** An OpenAI finish_reason as the canonical enum; the legacy function_call counts as tool_calls. */
export function canonicalFinish(reason: unknown): OpenAiFinishReason | undefined {
  if (reason === 'function_call') return 'tool_calls';
  return typeof reason === 'string' && OPENAI_REASONS.has(reason)
    ? (reason as OpenAiFinishReason)
    : undefined;
}

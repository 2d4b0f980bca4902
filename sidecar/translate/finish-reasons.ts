// Why the model stopped, between dialects. Unknown values map to the plain "it stopped" reason of the
// target dialect: a new provider reason must never break a caller's SDK, which only knows its own enum.
import { own } from './json.ts';
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
  return own(FROM_ANTHROPIC, stopReason) ?? 'stop';
}

/** Gemini withheld the answer (or the rest of it) for what it contains: OpenAI's content_filter. */
const GEMINI_FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini stopped without an answer it could give: no OpenAI reason says so (`stop` would pass an empty
 * or cut answer off as complete), so these are upstream failures, which another target may not have.
 */
const GEMINI_FAILED: Readonly<Record<string, string>> = {
  MALFORMED_FUNCTION_CALL: 'the function call it generated was invalid',
  UNEXPECTED_TOOL_CALL: 'it called a tool the request did not offer',
  TOO_MANY_TOOL_CALLS: 'it generated too many tool calls',
  MALFORMED_RESPONSE: 'its response was malformed',
  MISSING_THOUGHT_SIGNATURE: 'it found a thought signature missing in the request',
  LANGUAGE: 'the request uses a language it does not support',
  OTHER: 'for an unspecified reason',
  IMAGE_OTHER: 'image generation failed',
  NO_IMAGE: 'it was expected to generate an image and did not',
};

/** Why a Gemini candidate is a failed answer rather than a finished one; undefined when it is not. */
export function geminiFailure(reason: unknown): string | undefined {
  const why = own(GEMINI_FAILED, reason);
  return why === undefined ? undefined : `Gemini stopped with ${String(reason)}: ${why}`;
}

/**
 * Gemini has no "tool calls" reason: a candidate that stopped with a functionCall part is one. Failure
 * reasons (geminiFailure) must be checked first; here they read as `stop`.
 */
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
  return own(TO_ANTHROPIC, finishReason) ?? 'end_turn';
}

const OPENAI_REASONS = new Set<string>(['stop', 'length', 'tool_calls', 'content_filter']);

/** An OpenAI finish_reason as the canonical enum; the legacy function_call counts as tool_calls. */
export function canonicalFinish(reason: unknown): OpenAiFinishReason | undefined {
  if (reason === 'function_call') return 'tool_calls';
  return typeof reason === 'string' && OPENAI_REASONS.has(reason)
    ? (reason as OpenAiFinishReason)
    : undefined;
}

// Provider usage blocks → the neutral Usage the accounting code bills, and back out to each dialect.
// The providers disagree on what "input" means, which is why these live in one place:
//   OpenAI     prompt_tokens includes cached tokens; reasoning is inside completion_tokens.
//   Anthropic  input_tokens EXCLUDES cache reads and cache writes; the prompt is the sum of all three.
//   Gemini     promptTokenCount includes cached tokens; thoughtsTokenCount is NOT inside
//              candidatesTokenCount but is billed as output, so output = candidates + thoughts.
import type { Usage } from '../accounting/usage.ts';
import { count, isRecord } from './json.ts';
import type { AnthropicUsageJson, OpenAiUsageJson } from './types.ts';

export function usageFromAnthropic(raw: unknown): Usage | undefined {
  if (!isRecord(raw)) return undefined;
  if (typeof raw.input_tokens !== 'number' && typeof raw.output_tokens !== 'number') return undefined;
  const cacheRead = count(raw.cache_read_input_tokens);
  const cacheWrite = count(raw.cache_creation_input_tokens);
  const details = isRecord(raw.output_tokens_details) ? raw.output_tokens_details : {};
  return {
    inputTokens: count(raw.input_tokens) + cacheRead + cacheWrite,
    outputTokens: count(raw.output_tokens),
    cachedInputTokens: cacheRead,
    reasoningTokens: count(details.thinking_tokens),
    ...(cacheWrite > 0 && { cacheWriteTokens: cacheWrite }), // billed at pricing.cacheWrite
  };
}

export function usageFromGemini(raw: unknown): Usage | undefined {
  if (!isRecord(raw)) return undefined;
  if (typeof raw.promptTokenCount !== 'number' && typeof raw.candidatesTokenCount !== 'number') {
    return undefined;
  }
  const thoughts = count(raw.thoughtsTokenCount);
  return {
    // Tool-use prompt tokens (code execution, search results fed back) are billed as input.
    inputTokens: count(raw.promptTokenCount) + count(raw.toolUsePromptTokenCount),
    outputTokens: count(raw.candidatesTokenCount) + thoughts,
    cachedInputTokens: count(raw.cachedContentTokenCount),
    reasoningTokens: thoughts,
  };
}

export function openAiUsageJson(usage: Usage): OpenAiUsageJson {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

/** Anthropic's split: input_tokens without the cached part. Cache writes are not tracked, so 0. */
export function anthropicUsageJson(usage: Usage): AnthropicUsageJson {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  return {
    input_tokens: usage.inputTokens - cached,
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

export const ZERO_USAGE: Usage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  reasoningTokens: 0,
});

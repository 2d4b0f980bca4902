import type { Pricing } from '../../api/index.ts';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (billed at cachedInput). */
  cachedInputTokens: number;
  /** Output tokens spent on reasoning; included in outputTokens, as providers report them. */
  reasoningTokens: number;
  /**
   * Input tokens written to the provider's prompt cache (Anthropic cache_creation_input_tokens);
   * included in inputTokens, billed at cacheWrite. Absent when the provider reports none.
   */
  cacheWriteTokens?: number;
}

interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export function usageFromOpenAi(raw: unknown): Usage | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const u = raw as OpenAiUsage;
  if (typeof u.prompt_tokens !== 'number' && typeof u.completion_tokens !== 'number') return undefined;
  return {
    inputTokens: u.prompt_tokens ?? 0,
    outputTokens: u.completion_tokens ?? 0,
    cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/**
 * USD for one call. Cached input (cache reads) and cache writes at their own prices, falling back to the
 * input price; reasoning at its own price when one is set.
 */
export function costUSD(usage: Usage, pricing: Pricing | undefined): number | undefined {
  if (!pricing) return undefined;
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const written = Math.min(usage.cacheWriteTokens ?? 0, usage.inputTokens - cached);
  const reasoning = pricing.reasoning === undefined ? 0 : Math.min(usage.reasoningTokens, usage.outputTokens);
  const micro =
    (usage.inputTokens - cached - written) * pricing.input +
    cached * (pricing.cachedInput ?? pricing.input) +
    written * (pricing.cacheWrite ?? pricing.input) +
    (usage.outputTokens - reasoning) * pricing.output +
    reasoning * (pricing.reasoning ?? pricing.output);
  return micro / 1_000_000;
}

/** Fixed 6 decimals: exact enough for per-call cost, stable in headers and logs. */
export const formatUSD = (usd: number): string => usd.toFixed(6);

interface ResponsesUsage {
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens_details?: { reasoning_tokens?: number } | null;
}

/** Usage as the OpenAI Responses API reports it (input_tokens / output_tokens). */
export function usageFromResponses(raw: unknown): Usage | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const u = raw as ResponsesUsage;
  if (typeof u.input_tokens !== 'number' && typeof u.output_tokens !== 'number') return undefined;
  return {
    inputTokens: u.input_tokens ?? 0,
    outputTokens: u.output_tokens ?? 0,
    cachedInputTokens: u.input_tokens_details?.cached_tokens ?? 0,
    reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

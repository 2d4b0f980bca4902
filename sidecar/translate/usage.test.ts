import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { costUSD } from '../accounting/usage.ts';
import { finishFromAnthropic, finishFromGemini, stopReasonFromOpenAi } from './finish-reasons.ts';
import { anthropicUsageJson, openAiUsageJson, usageFromAnthropic, usageFromGemini } from './usage.ts';

describe('usage', () => {
  it('Anthropic: the prompt is input + cache reads + cache writes; reasoning from thinking_tokens', () => {
    assert.deepEqual(
      usageFromAnthropic({
        input_tokens: 3,
        cache_read_input_tokens: 2000,
        cache_creation_input_tokens: 500,
        output_tokens: 400,
        output_tokens_details: { thinking_tokens: 350 },
      }),
      {
        inputTokens: 2503,
        outputTokens: 400,
        cachedInputTokens: 2000,
        reasoningTokens: 350,
        cacheWriteTokens: 500,
      },
    );
    assert.deepEqual(
      usageFromAnthropic({ input_tokens: 1, output_tokens: 2, cache_read_input_tokens: null }),
      {
        inputTokens: 1,
        outputTokens: 2,
        cachedInputTokens: 0,
        reasoningTokens: 0,
      },
    );
  });

  it('Gemini: thoughts are billed as output; cached is inside the prompt count', () => {
    assert.deepEqual(
      usageFromGemini({
        promptTokenCount: 1000,
        cachedContentTokenCount: 800,
        candidatesTokenCount: 50,
        thoughtsTokenCount: 150,
        toolUsePromptTokenCount: 20,
      }),
      { inputTokens: 1020, outputTokens: 200, cachedInputTokens: 800, reasoningTokens: 150 },
    );
  });

  it('prices translated usage the way the provider bills it', () => {
    const usage = usageFromGemini({
      promptTokenCount: 1_000_000,
      cachedContentTokenCount: 1_000_000,
      candidatesTokenCount: 0,
      thoughtsTokenCount: 1_000_000,
    });
    assert.ok(usage);
    assert.equal(costUSD(usage, { input: 1, cachedInput: 0.25, output: 10 }), 0.25 + 10);
  });

  it('returns undefined for blocks without counts and survives garbage values', () => {
    for (const junk of [undefined, null, 'x', {}, { input_tokens: 'many' }])
      assert.equal(usageFromAnthropic(junk), undefined);
    assert.equal(usageFromGemini({ totalTokenCount: 5 }), undefined);
    assert.deepEqual(usageFromAnthropic({ input_tokens: -5, output_tokens: Number.NaN }), {
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      reasoningTokens: 0,
    });
  });

  it('renders usage for each dialect', () => {
    const usage = { inputTokens: 100, outputTokens: 10, cachedInputTokens: 60, reasoningTokens: 4 };
    assert.deepEqual(openAiUsageJson(usage), {
      prompt_tokens: 100,
      completion_tokens: 10,
      total_tokens: 110,
      prompt_tokens_details: { cached_tokens: 60 },
      completion_tokens_details: { reasoning_tokens: 4 },
    });
    assert.deepEqual(anthropicUsageJson(usage), {
      input_tokens: 40,
      output_tokens: 10,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 60,
    });
  });
});

describe('finish reasons', () => {
  it('round-trips between OpenAI and Anthropic for every OpenAI reason', () => {
    for (const reason of ['stop', 'length', 'tool_calls', 'content_filter'] as const) {
      assert.equal(finishFromAnthropic(stopReasonFromOpenAi(reason)), reason);
    }
  });

  it('Gemini: a function call turns STOP into tool_calls but not a filter or a limit', () => {
    assert.equal(finishFromGemini('STOP', true), 'tool_calls');
    assert.equal(finishFromGemini('MAX_TOKENS', true), 'length');
    assert.equal(finishFromGemini('SAFETY', true), 'content_filter');
    assert.equal(finishFromGemini('IMAGE_SAFETY', false), 'content_filter');
    assert.equal(finishFromGemini('MALFORMED_FUNCTION_CALL', false), 'stop');
    assert.equal(finishFromGemini(undefined, false), 'stop');
  });
});

// Cost from usage and list prices: each kind of input token at its own price.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usageFromAnthropic } from '../translate/usage.ts';
import { costUSD, type Usage } from './usage.ts';

const usage = (u: Partial<Usage>): Usage => ({
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  reasoningTokens: 0,
  ...u,
});

describe('costUSD', () => {
  it('prices cache writes at cacheWrite, cache reads at cachedInput, the rest of the input at input', () => {
    // 1M input tokens: 200k written to the cache, 300k read from it, 500k plain; 100k output.
    const u = usage({
      inputTokens: 1_000_000,
      cacheWriteTokens: 200_000,
      cachedInputTokens: 300_000,
      outputTokens: 100_000,
    });
    const pricing = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 };
    const expected = 0.5 * 3 + 0.3 * 0.3 + 0.2 * 3.75 + 0.1 * 15;
    assert.ok(Math.abs((costUSD(u, pricing) ?? 0) - expected) < 1e-9);
  });

  it('falls back to the input price when no cacheWrite price is set', () => {
    const u = usage({ inputTokens: 1_000_000, cacheWriteTokens: 1_000_000 });
    assert.equal(costUSD(u, { input: 3, output: 15 }), 3);
    assert.equal(costUSD(u, { input: 3, output: 15, cacheWrite: 3.75 }), 3.75);
  });

  it('never bills more cache-write tokens than the input holds', () => {
    const u = usage({ inputTokens: 100, cacheWriteTokens: 1_000 });
    assert.equal(costUSD(u, { input: 1_000_000, output: 0, cacheWrite: 2_000_000 }), 200);
  });

  it('bills an Anthropic usage block’s cache_creation_input_tokens at cacheWrite', () => {
    const u = usageFromAnthropic({
      input_tokens: 0,
      cache_creation_input_tokens: 1_000_000,
      cache_read_input_tokens: 0,
      output_tokens: 0,
    });
    assert.ok(u);
    assert.equal(costUSD(u, { input: 3, output: 15, cacheWrite: 3.75 }), 3.75);
  });
});

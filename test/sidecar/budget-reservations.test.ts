// Budgets hold when real usage is far above what a careless estimate would reserve: answers without
// max_tokens, prompts made mostly of tool schemas, streams the caller leaves, cascades that pay for
// rejected answers. And a refusal says why: spent, reserved by calls in flight, or a call too large.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as manifest from '../helpers/manifests.ts';
import { budgetUsedUSD } from './budget-metrics.ts';
import { chat, errorOf, sharedHarness } from './harness.ts';
import { providersYaml } from './manifests.ts';

const h = sharedHarness();

const providers = (primaryModelExtra = '') =>
  providersYaml(h.primary.url, h.secondary.url).replace(
    'pricing: { input: 2.5, output: 10 }, capabilities',
    `pricing: { input: 2.5, output: 10 }, ${primaryModelExtra}capabilities`,
  );
const budgeted = (limitUSD: number, route = '      targets: [{ provider: primary, model: gpt-4o }]') =>
  manifest.routingPolicy(
    `    - name: smart
      match: { model: ["smart"] }
${route}`,
    `  budgets:
    - { name: daily, limitUSD: ${limitUSD}, window: day, scope: policy, action: reject }`,
  );

const statuses = async (calls: Promise<Response>[]) => {
  const results = await Promise.all(calls);
  await Promise.all(results.map((r) => r.text()));
  return results.map((r) => r.status);
};

describe('budget reservations hold against real usage', () => {
  it('without max_tokens a call reserves the model’s maxOutputTokens: long answers cannot overspend', async () => {
    // 16 000 output tokens at $10/1M ≈ $0.16 a call: $0.4 affords 2, and the real answers use all of it.
    const t = await h.run({ 'p.yaml': providers('maxOutputTokens: 16000, '), 'r.yaml': budgeted(0.4) });
    h.primary.setDefault({ kind: 'ok', delayMs: 300, usage: { completionTokens: 16_000 } });
    const got = await statuses(Array.from({ length: 20 }, () => chat(t.url)));
    assert.equal(got.filter((s) => s === 200).length, 2);
    const sent = h.primary.requests.map((r) => (r.body as { max_tokens?: unknown }).max_tokens);
    assert.deepEqual(sent, [undefined, undefined], 'the caller’s request is not capped on its behalf');
    const used = await budgetUsedUSD(t.url, 'daily');
    assert.ok(used > 0.3 && used <= 0.4, `used $${used} of $0.4`);
  });

  it('tool schemas count as prompt: a call mostly made of tool definitions reserves their cost', async () => {
    // 400 000 characters of tool description ≈ 100 000 prompt tokens ≈ $0.25 a call: $0.6 affords 2.
    const t = await h.run({ 'p.yaml': providers(), 'r.yaml': budgeted(0.6) });
    h.primary.setDefault({
      kind: 'ok',
      delayMs: 300,
      usage: { promptTokens: 100_000, completionTokens: 10 },
    });
    const tools = [
      {
        type: 'function',
        function: { name: 'lookup', description: 'x'.repeat(400_000), parameters: { type: 'object' } },
      },
    ];
    const got = await statuses(Array.from({ length: 20 }, () => chat(t.url, { tools, max_tokens: 10 })));
    assert.equal(got.filter((s) => s === 200).length, 2);
    const used = await budgetUsedUSD(t.url, 'daily');
    assert.ok(used > 0.5 && used <= 0.6, `used $${used} of $0.6`);
  });

  it('a stream the caller leaves after it started is charged, not released', async () => {
    const t = await h.run({ 'p.yaml': providers(), 'r.yaml': budgeted(0.0501) });
    h.primary.setDefault({ kind: 'ok', chunks: 8, chunkDelayMs: 200, usage: { completionTokens: 1000 } });
    for (let i = 0; i < 5; i++) {
      const leave = new AbortController();
      const res = await chat(t.url, { stream: true, max_tokens: 1000 }, {}, leave.signal);
      assert.equal(res.status, 200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let got = '';
      while ((got.match(/data: \{/g) ?? []).length < 3)
        got += new TextDecoder().decode((await reader.read()).value);
      leave.abort();
    }
    await waitFor(async () => (await budgetUsedUSD(t.url, 'daily')) > 0.05, 'all five 499s settled');
    // OpenAI streams report usage in their last chunk, which none of them reached: each is charged its
    // reservation (1000 output tokens at $10/1M plus the prompt), as the provider may have billed that much.
    const probe = await chat(t.url, { max_tokens: 1000 });
    assert.equal(probe.status, 429);
    assert.match((await errorOf(probe)).message, /is spent: \$0\.05\d+ used/);
  });

  it('a cascade reserves every candidate’s answer, since rejected answers are billed too', async () => {
    const route = `      strategy: cascade
      targets: [{ provider: primary, model: gpt-4o }, { provider: secondary, model: backup-model }]
      cascade: { accept: { finishReasons: [stop] } }`;
    // Both targets at ≈$0.01 per 1000 output tokens: a call may cost ≈$0.02, so $0.0501 affords 2.
    const t = await h.run({
      'p.yaml': providers().replace(
        'pricing: { input: 0.1, output: 0.2 }',
        'pricing: { input: 2.5, output: 9.9 }',
      ),
      'r.yaml': budgeted(0.0501, route),
    });
    h.secondary.setDefault({
      kind: 'ok',
      delayMs: 200,
      usage: { completionTokens: 1000 },
      finishReason: 'length',
    });
    h.primary.setDefault({ kind: 'ok', delayMs: 200, usage: { completionTokens: 1000 } });
    const got = await statuses(Array.from({ length: 20 }, () => chat(t.url, { max_tokens: 1000 })));
    assert.equal(got.filter((s) => s === 200).length, 2);
    assert.equal(h.secondary.count, 2, 'each admitted call paid for a rejected answer');
    const used = await budgetUsedUSD(t.url, 'daily');
    assert.ok(used > 0.039 && used <= 0.0501, `used $${used} of $0.0501`);
  });
});

describe('budget refusals say why', () => {
  it('refused only by calls in flight: "reserved by calls in flight", Retry-After 1, and it fits soon after', async () => {
    const t = await h.run({ 'p.yaml': providers(), 'r.yaml': budgeted(0.0501) });
    h.primary.setDefault({ kind: 'ok', delayMs: 500 });
    const running = Array.from({ length: 5 }, () => chat(t.url, { max_tokens: 1000 }));
    await waitFor(() => Promise.resolve(h.primary.count === 5), 'five calls are upstream');
    const refused = await chat(t.url, { max_tokens: 1000 });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    const err = await errorOf(refused);
    assert.equal(err.code, 'budget_exceeded');
    assert.match(err.message, /budget "daily" of policy app is reserved by calls in flight: .* retry in 1 s/);
    assert.deepEqual(await statuses(running), [200, 200, 200, 200, 200]);
    assert.equal((await chat(t.url, { max_tokens: 1000 })).status, 200, 'they settled below their estimate');
  });

  it('a call whose own estimate exceeds the whole limit is told it can never be admitted', async () => {
    const t = await h.run({ 'p.yaml': providers(), 'r.yaml': budgeted(0.001) });
    const res = await chat(t.url, { max_tokens: 1000 });
    assert.equal(res.status, 429);
    const err = await errorOf(res);
    assert.match(
      err.message,
      /this call alone may cost up to \$0\.0100 .* more than the whole \$0\.001 per day/,
    );
    assert.match(err.message, /can never be admitted/);
    assert.equal(h.primary.count, 0);
  });
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}

// Every retryable failure class is absorbed or turned into a clean, bounded error; nothing truncated is
// presented as complete. Real turnout dev process, fake OpenAI upstreams with injected faults.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import * as manifest from '../helpers/manifests.ts';
import type { TurnoutProcess } from '../helpers/turnout-process.ts';
import { chat, errorOf, sharedHarness } from './harness.ts';
import { providersYaml } from './manifests.ts';

let t: TurnoutProcess;
let client: OpenAI;

const FAST_TIMEOUTS = `circuitBreaker: { consecutiveFailures: 1000 }
  timeouts: { firstToken: 400ms, idle: 500ms, total: 1500ms }`;

const policy = manifest.routingPolicy(`
    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      fallbacks: [{ provider: secondary, model: backup-model }]
    - name: solo
      match: { model: ["solo"] }
      targets: [{ provider: primary, model: gpt-4o }]
      retry: { attempts: 2, backoff: { base: 100ms, max: 400ms } }
      timeouts: { total: 2500ms }`);

const h = sharedHarness(async (started) => {
  t = await started.run({
    'p.yaml': providersYaml(started.primary.url, started.secondary.url, FAST_TIMEOUTS),
    'r.yaml': policy,
  });
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'x', maxRetries: 0, logLevel: 'off' });
});

async function streamText(model = 'smart') {
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    messages: [{ role: 'user', content: 'x' }],
  });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  return text;
}

describe('failures before the answer starts fail over invisibly', () => {
  it('429 with Retry-After as an HTTP date', async () => {
    const until = new Date(Date.now() + 2000); // whole seconds on the wire: 1–2 s from now
    h.primary.onNext({ kind: 'status', status: 429, retryAfter: until.toUTCString() });
    const res = await chat(t.url);
    assert.equal(res.headers.get('x-turnout-provider'), 'secondary');
    // Retry-After cools the primary down for every call of the sidecar: the next tests need it back.
    await sleep(until.getTime() - Date.now() + 50);
  });

  it('429 without Retry-After on a single target: backs off, then retries (never hammers)', async () => {
    h.primary.script([
      { kind: 'status', status: 429 },
      { kind: 'ok', content: 'after backoff' },
    ]);
    const started = Date.now();
    const res = await chat(t.url, { model: 'solo' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-turnout-attempts'), '2');
    const gap = (h.primary.requests[1]?.receivedAt ?? 0) - (h.primary.requests[0]?.receivedAt ?? 0);
    assert.ok(gap >= 50, `waited ${gap} ms between attempts (base 100ms with jitter ≥ 50ms)`);
    assert.ok(Date.now() - started < 2500);
  });

  it('an upstream that accepts and never answers: timeout, then the fallback', async () => {
    h.primary.onNext({ kind: 'hang' });
    const res = await chat(t.url);
    assert.equal(res.headers.get('x-turnout-provider'), 'secondary');
    await t.waitForLine(/primary\/gpt-4o ✗timeout → secondary\/backup-model ✓200/);
  });

  it('a stream whose first token is too slow: the fallback serves it, the caller sees one clean stream', async () => {
    h.primary.onNext({ kind: 'slow-first-token', delayMs: 3000, content: 'from primary' });
    h.secondary.onNext({ kind: 'ok', content: 'from secondary', chunks: 3 });
    assert.equal(await streamText(), 'from secondary');
  });

  it('an error status on a stream request fails over before any byte is sent', async () => {
    h.primary.onNext({ kind: 'status', status: 500 });
    h.secondary.onNext({ kind: 'ok', content: 'fine', chunks: 2 });
    assert.equal(await streamText(), 'fine');
  });

  it('context_length_exceeded moves to a target with a larger window; content filter does not retry', async () => {
    h.primary.onNext({ kind: 'context-length' });
    const res = await chat(t.url);
    assert.equal(res.status, 200, 'the fallback has no declared window, so it may be larger');
    assert.equal(res.headers.get('x-turnout-provider'), 'secondary');
    h.primary.onNext({ kind: 'content-filter' });
    const filtered = await chat(t.url);
    assert.equal(filtered.status, 400);
    assert.equal(
      (await errorOf(filtered)).code,
      'content_filter',
      "the provider's reason reaches the caller",
    );
    assert.equal(h.secondary.count, 1, 'a content-policy refusal is not sent elsewhere');
  });

  it("failed attempts are not billed: the cost is the serving target's", async () => {
    h.primary.onNext({ kind: 'status', status: 503 });
    h.secondary.onNext({ kind: 'ok', usage: { promptTokens: 1000, completionTokens: 1000 } });
    const res = await chat(t.url);
    assert.equal(res.headers.get('x-turnout-cost-usd'), (1000 * 0.1e-6 + 1000 * 0.2e-6).toFixed(6));
  });

  it('when the route deadline passes: 504 upstream_timeout, bounded', async () => {
    h.primary.setDefault({ kind: 'hang' });
    const started = Date.now();
    const res = await chat(t.url, { model: 'solo' });
    assert.equal(res.status, 504);
    assert.equal((await errorOf(res)).code, 'upstream_timeout');
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });
});

describe('failures after the first byte end in-band, never as a complete answer', () => {
  it('a cut stream', async () => {
    h.primary.onNext({ kind: 'cut-stream', afterChunks: 2, content: 'a b c d e f', chunks: 6 });
    await assert.rejects(
      streamText(),
      /ended before the answer was complete|stream failed|terminated|other side closed/i,
    );
  });

  it('a stalled stream ends within the idle timeout with an error', async () => {
    h.primary.onNext({ kind: 'stall', afterChunks: 2, content: 'a b c d e f', chunks: 6 });
    const started = Date.now();
    await assert.rejects(streamText(), /stalled|stream failed/i);
    assert.ok(Date.now() - started < 3000);
  });

  it('a malformed chunk is skipped and the answer completes', async () => {
    h.primary.onNext({ kind: 'malformed-chunk', afterChunks: 1, content: 'one two three', chunks: 3 });
    assert.equal(await streamText(), 'one two three');
  });

  it('a healthy stream arrives whole: every delta, the finish reason, usage, then [DONE] last', async () => {
    // Chunks apart in time, so the sidecar reads them one by one (sent at once they arrive in one read).
    h.primary.onNext({
      chunkDelayMs: 5,
      kind: 'ok',
      content: 'one two three four',
      chunks: 4,
      usage: { promptTokens: 5, completionTokens: 4 },
    });
    const res = await chat(t.url, { stream: true, stream_options: { include_usage: true } });
    assert.equal(res.status, 200);
    const datas = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((event) => event.replace(/^data: /, ''));
    assert.equal(datas.at(-1), '[DONE]');
    const chunks = datas.slice(0, -1).map((d) => JSON.parse(d) as OpenAI.ChatCompletionChunk);
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'one two three four');
    assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason, 'stop');
    assert.equal(chunks.at(-1)?.usage?.completion_tokens, 4);
  });

  it('a stream that ends without [DONE] after finishing is finalised promptly, with usage', async () => {
    h.primary.onNext({
      kind: 'no-done',
      content: 'done anyway',
      chunks: 2,
      usage: { promptTokens: 10, completionTokens: 20 },
    });
    const stream = await client.chat.completions.create({
      model: 'smart',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'x' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      usage = c.usage ?? usage;
    }
    assert.equal(text, 'done anyway');
    assert.equal(usage?.completion_tokens, 20);
  });

  it('a caller that disconnects mid-stream aborts the upstream within a second', async () => {
    h.primary.onNext({ kind: 'ok', content: 'a b c d e f g h', chunks: 8, chunkDelayMs: 300 });
    const controller = new AbortController();
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smart', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    const gone = Date.now();
    await h.primary.waitFor((r) => r.aborted, 1000);
    assert.ok(Date.now() - gone <= 1000);
  });
});

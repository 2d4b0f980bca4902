// Streams and failover: nothing is committed to the caller before the answer starts (content, a tool
// call, a finish), so an upstream that opens its stream and then stalls or errs still fails over; what
// happens after commit is reported honestly to the breaker and to billing. Real `turnout dev` process,
// fake upstreams, real SDK clients where a client's reading matters.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { repeatStep } from '../helpers/fake-upstreams.ts';
import * as manifest from '../helpers/manifests.ts';
import { fresh, postJson, provider, startMesh, type Mesh } from './failover-harness.ts';

let m: Mesh;

const FAST = `circuitBreaker: { consecutiveFailures: 1000 }
  timeouts: { firstToken: 500ms, idle: 1000ms, total: 4000ms }`;
const FRAGILE = `circuitBreaker: { consecutiveFailures: 2, openFor: 60s }
  timeouts: { firstToken: 500ms, idle: 1000ms, total: 4000ms }`;
const GPT = `[{ name: gpt-a, pricing: { input: 1, output: 2 }, capabilities: [chat, streaming, tools, json, responses] }]`;
const CLAUDE = `[{ name: claude-x, pricing: { input: 3, output: 15 }, capabilities: [chat, streaming, tools, json] }]`;
const BACKUP = `[{ name: backup-model, capabilities: [chat, streaming, tools, json, responses] }]`;
const FALLBACK = `fallbacks: [{ provider: backup, model: backup-model }]`;

before(async () => {
  m = await startMesh((u) => [
    provider('oa', 'openai', u.oa.url, GPT, FAST),
    provider('an', 'anthropic', u.an.url, CLAUDE, FAST),
    provider('backup', 'openai', u.backup.url, BACKUP),
    // Same upstream as oa, each with a breaker of its own that a test may open.
    provider('cut', 'openai', u.oa.url, GPT, FRAGILE),
    provider('gone', 'openai', u.oa.url, GPT, FRAGILE),
    // A short idle timeout, and a first byte that takes longer than it.
    provider('slowstart', 'openai', u.oa.url, GPT, 'timeouts: { firstToken: 5s, idle: 200ms, total: 5s }'),
    manifest.routingPolicy(`
    - { name: fo, match: { model: ["fo-*"] }, targets: [{ provider: oa, model: gpt-a }], ${FALLBACK} }
    - { name: fa, match: { model: ["fa-*"] }, targets: [{ provider: an, model: claude-x }], ${FALLBACK} }
    - { name: ttft, match: { model: ["ttft-*"] }, targets: [{ provider: an, model: claude-x }], timeouts: { firstToken: 3s } }
    - { name: cut, match: { model: ["cut-*"] }, targets: [{ provider: cut, model: gpt-a }], ${FALLBACK}, retry: { attempts: 0 } }
    - { name: gone, match: { model: ["gone-*"] }, targets: [{ provider: gone, model: gpt-a }], ${FALLBACK}, retry: { attempts: 0 } }
    - { name: slow, match: { model: ["slow-*"] }, targets: [{ provider: slowstart, model: gpt-a }], retry: { attempts: 0 }, timeouts: { firstToken: 3s } }
`),
  ]);
});
after(() => m.close());
beforeEach(() => m.reset());

type Caller = 'openai' | 'anthropic' | 'responses';

function streamCall(caller: Caller, model: string, signal?: AbortSignal): Promise<Response> {
  if (caller === 'anthropic') {
    const body = { model, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] };
    return postJson(`${m.t.url}/v1/messages`, body, signal);
  }
  if (caller === 'responses')
    return postJson(`${m.t.url}/v1/responses`, { model, stream: true, input: 'hi' });
  const body = { model, stream: true, messages: [{ role: 'user', content: 'hi' }] };
  return postJson(`${m.t.url}/v1/chat/completions`, body, signal);
}

/** Reads a stream until its first content arrives, then hangs up. */
async function hangUpAfterFirstContent(model: string): Promise<void> {
  const controller = new AbortController();
  const res = await streamCall('openai', model, controller.signal);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!text.includes('"content":"a')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  controller.abort();
}

describe('a stream that opened but has not started its answer still fails over', () => {
  const cases: [string, 'fo' | 'fa', Caller][] = [
    ['OpenAI upstream (role chunk, then silence), OpenAI caller', 'fo', 'openai'],
    ['OpenAI upstream, Anthropic caller', 'fo', 'anthropic'],
    ['OpenAI Responses upstream (response.created, in_progress, then silence)', 'fo', 'responses'],
    [
      'Anthropic upstream (message_start, content_block_start, ping, then silence), OpenAI caller',
      'fa',
      'openai',
    ],
    ['Anthropic upstream, Anthropic caller', 'fa', 'anthropic'],
  ];
  for (const [name, route, caller] of cases) {
    it(name, async () => {
      const upstream = route === 'fo' ? m.oa : m.an;
      upstream.onNext({ kind: 'stall', afterChunks: 0 });
      m.backup.onNext({ kind: 'ok', content: 'from the backup', chunks: 1 });
      const model = fresh(route);
      const res = await streamCall(caller, model);
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-turnout-provider'), 'backup');
      assert.match(text, /from the backup/);
      assert.doesNotMatch(text, /event: error/, 'one clean stream, nothing of the stalled one');
      const d = await m.decision(model);
      assert.deepEqual(
        d.attempts.map((a) => [a.target, a.outcome]),
        [
          [route === 'fo' ? 'oa/gpt-a' : 'an/claude-x', 'timeout'],
          ['backup/backup-model', 'ok'],
        ],
      );
    });
  }

  for (const caller of ['openai', 'anthropic'] as const) {
    it(`an overloaded_error right after message_start fails over (${caller} caller)`, async () => {
      m.an.onNext({ kind: 'stream-error', afterChunks: 0, status: 529 });
      m.backup.onNext({ kind: 'ok', content: 'from the backup', chunks: 1 });
      const model = fresh('fa');
      const res = await streamCall(caller, model);
      const text = await res.text();
      assert.equal(res.headers.get('x-turnout-provider'), 'backup');
      assert.match(text, /from the backup/);
      assert.doesNotMatch(text, /Overloaded|event: error/);
      const d = await m.decision(model);
      assert.deepEqual(
        d.attempts.map((a) => a.outcome),
        ['server-error', 'ok'],
      );
    });
  }

  it('time to first token is measured to the first content; the opening frames still reach the caller', async () => {
    m.an.onNext({ kind: 'stall', afterChunks: 0, stallMs: 400, content: 'late answer', chunks: 1 });
    const model = fresh('ttft');
    const res = await streamCall('openai', model);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    assert.match(events[0] ?? '', /"delta":\{"role":"assistant","content":""\}/);
    assert.match(events[1] ?? '', /"content":"late answer"/);
    assert.equal(events.at(-1), 'data: [DONE]');
    const d = await m.decision(model);
    const ttft = d.attempts[0]?.ttftMs ?? 0;
    assert.ok(ttft >= 400, `ttft ${ttft} ms counts the wait for content, not the opening event`);
  });
});

describe('after the stream was committed', () => {
  it('a stream broken by the upstream counts against its breaker', async () => {
    m.oa.script(repeatStep({ kind: 'cut-stream', afterChunks: 2 }, 2));
    for (let i = 0; i < 2; i++) {
      const model = fresh('cut');
      const res = await streamCall('openai', model);
      assert.equal(res.headers.get('x-turnout-provider'), 'cut');
      assert.match(await res.text(), /upstream_stream_error/);
      assert.ok((await m.decision(model)).attempts[0]?.streamError);
    }
    const res = await streamCall('openai', fresh('cut'));
    await res.text();
    assert.equal(res.headers.get('x-turnout-provider'), 'backup', 'two broken streams opened the breaker');
    assert.equal(m.oa.count, 2);
  });

  it('a caller who hangs up says nothing against the upstream', async () => {
    m.oa.setDefault({ kind: 'ok', content: 'a b c d e f', chunks: 6, chunkDelayMs: 300 });
    for (let i = 0; i < 2; i++) {
      const model = fresh('gone');
      await hangUpAfterFirstContent(model);
      assert.equal((await m.decision(model)).status, 499);
    }
    m.oa.setDefault({ kind: 'ok' });
    const res = await streamCall('openai', fresh('gone'));
    await res.text();
    assert.equal(res.headers.get('x-turnout-provider'), 'gone');
  });

  it('a caller who hangs up is reported with the usage the upstream had reported so far, and its cost', async () => {
    m.an.onNext({ kind: 'ok', content: 'a b c d e f', chunks: 6, chunkDelayMs: 300 });
    const model = fresh('fa');
    await hangUpAfterFirstContent(model);
    const d = await m.decision(model);
    assert.equal(d.status, 499);
    // message_start reports the prompt's tokens and 1 output token, as the real API does.
    assert.ok((d.tokens?.input ?? 0) > 0 && d.tokens?.output === 1, JSON.stringify(d.tokens));
    const expected = ((d.tokens?.input ?? 0) * 3 + 1 * 15) / 1_000_000;
    assert.ok(Math.abs((d.costUSD ?? 0) - expected) < 1e-12, `cost ${d.costUSD}, expected ${expected}`);
  });

  it('an Anthropic stream that finished but lost message_stop ends cleanly for the Anthropic SDK', async () => {
    m.an.onNext({ kind: 'no-done', content: 'The full answer.', chunks: 2 });
    const model = fresh('fa');
    const client = new Anthropic({ baseURL: m.t.url, apiKey: 'x', maxRetries: 0 });
    const message = await client.messages
      .stream({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    assert.deepEqual(message.content, [{ type: 'text', text: 'The full answer.' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal((await m.decision(model)).errorCode, undefined);
  });
});

describe('timeouts', () => {
  it("the route's firstToken governs until the first byte, not the provider's shorter idle", async () => {
    // Past the 200 ms idle and past undici's coarse (~500 ms) body timer tick.
    m.oa.onNext({ kind: 'slow-first-token', delayMs: 1200, content: 'worth the wait', chunks: 1 });
    const res = await streamCall('openai', fresh('slow'));
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(text, /worth the wait/);
    assert.match(text, /data: \[DONE\]\n\n$/);
  });
});

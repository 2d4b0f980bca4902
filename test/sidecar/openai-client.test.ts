// The real `openai` npm client → `turnout dev` (a real process) → fake OpenAI upstreams on loopback.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import type { FakeProvider } from '../fakes/index.ts';
import { closeAll, resetAll, startFakeUpstreams } from '../helpers/fake-upstreams.ts';
import { startDev, type DevTurnout } from '../helpers/turnout-process.ts';
import { policyYaml, PRIMARY_KEY, providersYaml } from './manifests.ts';

let primary: FakeProvider;
let secondary: FakeProvider;
let turnout: DevTurnout;
let client: OpenAI;

before(async () => {
  ({ primary, secondary } = await startFakeUpstreams({ primary: 'openai', secondary: 'openai' }));
  turnout = await startDev(
    { 'providers.yaml': providersYaml(primary.url, secondary.url), 'policy.yaml': policyYaml() },
    { args: ['--max-body-bytes', '64k'] },
  );
  client = new OpenAI({
    baseURL: `${turnout.url}/v1`,
    apiKey: 'sk-app-own-key-must-not-travel',
    maxRetries: 0,
  });
});

after(async () => {
  await turnout?.close();
  await closeAll({ primary, secondary });
});

beforeEach(() => resetAll({ primary, secondary }));

const ask = (extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions
    .create({ model: 'smart', messages: [{ role: 'user', content: 'hello' }], ...extra })
    .withResponse();

describe('openai client through turnout dev', () => {
  it("non-streaming: routed to the primary with its own key, never the app's", async () => {
    primary.onNext({
      kind: 'ok',
      content: 'hi from primary',
      usage: { promptTokens: 1000, completionTokens: 500 },
    });
    const { data, response } = await ask();
    assert.equal(data.choices[0]?.message.content, 'hi from primary');
    assert.equal(data.model, 'gpt-4o', 'names the model that answered');
    assert.equal(response.headers.get('x-turnout-route'), 'smart');
    assert.equal(response.headers.get('x-turnout-provider'), 'primary');
    assert.equal(response.headers.get('x-turnout-model'), 'gpt-4o');
    assert.equal(response.headers.get('x-turnout-attempts'), '1');
    assert.equal(response.headers.get('x-turnout-cost-usd'), (1000 * 2.5e-6 + 500 * 10e-6).toFixed(6));
    const upstream = primary.requests[0];
    assert.equal(upstream?.apiKey, PRIMARY_KEY);
    assert.equal(upstream?.model, 'gpt-4o', 'the requested alias was rewritten to the target model');
    assert.ok(
      !JSON.stringify(upstream?.headers).includes('sk-app-own-key'),
      "the app's Authorization is not forwarded",
    );
  });

  it('streaming: chunks arrive in order and the stream ends properly', async () => {
    primary.onNext({ kind: 'ok', content: 'one two three four five', chunks: 5 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'count' }],
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, 'one two three four five');
    assert.equal(finish, 'stop');
    assert.equal(
      primary.requests[0]?.body && (primary.requests[0].body as { model?: string }).model,
      'gpt-4o',
    );
  });

  it('a streamed tool call is passed through intact', async () => {
    primary.onNext({
      kind: 'ok',
      toolCall: { name: 'get_weather', arguments: { city: 'Paris', unit: 'c' } },
      chunks: 4,
    });
    const runner = client.chat.completions.stream({
      model: 'smart',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.type, 'function');
    assert.equal(call?.type === 'function' ? call.function.name : '', 'get_weather');
    assert.deepEqual(JSON.parse(call?.type === 'function' ? call.function.arguments : '{}'), {
      city: 'Paris',
      unit: 'c',
    });
    assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
  });

  for (const step of [
    { kind: 'status', status: 503 },
    { kind: 'status', status: 500 },
    { kind: 'status', status: 429, retryAfter: '1' },
    { kind: 'status', status: 429 },
    { kind: 'reset' },
  ] as const) {
    const label =
      step.kind === 'status' ? `${step.status}${'retryAfter' in step ? ' with Retry-After' : ''}` : step.kind;
    it(`fails over to the fallback when the primary answers ${label}`, async () => {
      primary.onNext(step);
      secondary.onNext({ kind: 'ok', content: 'from secondary' });
      const { data, response } = await ask();
      assert.equal(data.choices[0]?.message.content, 'from secondary');
      assert.equal(data.model, 'backup-model');
      assert.equal(response.headers.get('x-turnout-provider'), 'secondary');
      assert.equal(response.headers.get('x-turnout-attempts'), '2');
      assert.equal(primary.count, 1, 'the failed primary was tried once');
      // Retry-After cools the primary down for every call of the sidecar: the next tests need it back.
      if ('retryAfter' in step) await sleep(Number(step.retryAfter) * 1000 + 50);
    });
  }

  it('fails over a stream that the primary refuses before its first byte', async () => {
    primary.onNext({ kind: 'status', status: 503 });
    secondary.onNext({ kind: 'ok', content: 'streamed from secondary', chunks: 3 });
    const stream = await client.chat.completions.create({
      model: 'smart',
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'streamed from secondary');
  });

  it('returns a non-retryable upstream 400 to the caller unchanged, without failing over', async () => {
    primary.onNext({
      kind: 'status',
      status: 400,
      errorCode: 'invalid_value',
      message: 'temperature too high',
    });
    await assert.rejects(ask(), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 400);
      assert.match(e.message, /temperature too high/);
      return true;
    });
    assert.equal(secondary.count, 0);
  });

  it('when every target fails: 502 upstream_unavailable naming each attempt', async () => {
    primary.onNext({ kind: 'status', status: 503 });
    secondary.onNext({ kind: 'status', status: 502 });
    await assert.rejects(ask(), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 502);
      assert.equal(e.code, 'upstream_unavailable');
      assert.match(e.message, /primary\/gpt-4o: 503; secondary\/backup-model: 502/);
      return true;
    });
  });

  it('when every target is rate limited: 429 with Retry-After', async () => {
    primary.onNext({ kind: 'status', status: 429, retryAfter: '7' });
    secondary.onNext({ kind: 'status', status: 429, retryAfter: '3' });
    const res = await fetch(`${turnout.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '3');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'rate_limited');
  });
});

describe('bad input gets a clear OpenAI-style error and the process stays up', () => {
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${turnout.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('malformed JSON → 400 invalid_json', async () => {
    const res = await post('{"model": "smart", "messages": [');
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { code: string; type: string; message: string } };
    assert.equal(error.code, 'invalid_json');
    assert.equal(error.type, 'invalid_request_error');
  });

  it('unknown model → 404 model_not_found listing the models that would work', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'nonexistent', messages: [{ role: 'user', content: 'x' }] }),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.APIError);
        assert.equal(e.status, 404);
        assert.equal(e.code, 'model_not_found');
        assert.match(e.message, /models that would work: gpt-4o\*, smart/);
        return true;
      },
    );
  });

  it('oversized body → 413 body_too_large at the configured limit', async () => {
    const res = await post(
      JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'x'.repeat(100_000) }] }),
    );
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'body_too_large');
    assert.equal(primary.count + secondary.count, 0, 'nothing was sent upstream');
  });

  it('wrong types, unknown paths and wrong methods are refused in the same dialect', async () => {
    const bad = await post(JSON.stringify({ model: 42, messages: [] }));
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'model');
    const missing = await fetch(`${turnout.url}/v1/nope`);
    assert.equal(missing.status, 404);
    const method = await fetch(`${turnout.url}/v1/chat/completions`);
    assert.equal(method.status, 405);
  });

  it('after all of that the sidecar still serves', async () => {
    assert.equal((await fetch(`${turnout.url}/healthz`)).status, 200);
    const { data } = await ask();
    assert.ok(data.choices[0]?.message.content);
  });
});

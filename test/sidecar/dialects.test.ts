// Every dialect both ways, with the real SDKs: OpenAI and Anthropic callers served by OpenAI,
// Anthropic and Gemini upstreams (fakes speaking each wire format), streaming and not, with tools.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { closeAll, resetAll, startFakeUpstreams, type FakeUpstreams } from '../helpers/fake-upstreams.ts';
import * as manifest from '../helpers/manifests.ts';
import { startDev, type DevTurnout } from '../helpers/turnout-process.ts';

const KEYS = { openai: 'sk-oa-0000', anthropic: 'sk-an-1111', gemini: 'gm-2222' };
let fakes: FakeUpstreams<'openai' | 'anthropic' | 'gemini'>;
let turnout: DevTurnout;
let openai: OpenAI;
let anthropic: Anthropic;

const manifests = (f: typeof fakes) =>
  manifest.file(
    manifest.secret({ oa: KEYS.openai, an: KEYS.anthropic, gm: KEYS.gemini }),
    manifest.modelProvider({
      name: 'oa',
      type: 'openai',
      endpoint: f.openai.url,
      key: 'oa',
      models:
        '[{ name: gpt-4o, pricing: { input: 2.5, output: 10 }, capabilities: [chat, streaming, tools, json] }]',
    }),
    manifest.modelProvider({
      name: 'an',
      type: 'anthropic',
      endpoint: f.anthropic.url,
      key: 'an',
      models:
        '[{ name: claude-sonnet-4-6, maxOutputTokens: 8192, pricing: { input: 3, output: 15, cachedInput: 0.3 }, capabilities: [chat, streaming, tools, json] }]',
    }),
    manifest.modelProvider({
      name: 'gm',
      type: 'gemini',
      endpoint: f.gemini.url,
      key: 'gm',
      models:
        '[{ name: gemini-2.5-flash, pricing: { input: 0.3, output: 2.5 }, capabilities: [chat, streaming, tools, json] }]',
    }),
    manifest.routingPolicy(`
    - { name: openai, match: { model: ["to-openai"] }, targets: [{ provider: oa, model: gpt-4o }] }
    - { name: anthropic, match: { model: ["to-anthropic"] }, targets: [{ provider: an, model: claude-sonnet-4-6 }] }
    - { name: gemini, match: { model: ["to-gemini"] }, targets: [{ provider: gm, model: gemini-2.5-flash }] }
    - name: mixed
      match: { model: ["to-mixed"] }
      targets: [{ provider: oa, model: gpt-4o }, { provider: an, model: claude-sonnet-4-6 }]`),
  );

before(async () => {
  fakes = await startFakeUpstreams({ openai: 'openai', anthropic: 'anthropic', gemini: 'gemini' });
  turnout = await startDev({ 'all.yaml': manifests(fakes) });
  openai = new OpenAI({
    baseURL: `${turnout.url}/v1`,
    apiKey: 'sk-app-openai',
    maxRetries: 0,
    logLevel: 'off',
  });
  anthropic = new Anthropic({ baseURL: turnout.url, apiKey: 'sk-app-anthropic', maxRetries: 0 });
});

after(async () => {
  await turnout?.close();
  await closeAll(fakes);
});

beforeEach(() => resetAll(fakes));

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('OpenAI callers served by Anthropic and Gemini', () => {
  for (const [model, upstream] of [
    ['to-anthropic', 'anthropic'],
    ['to-gemini', 'gemini'],
  ] as const) {
    it(`${model}: a plain answer, with the system prompt and the provider's key translated`, async () => {
      fakes[upstream].onNext({
        kind: 'ok',
        content: `hello from ${upstream}`,
        usage: { promptTokens: 20, completionTokens: 7 },
      });
      const { data, response } = await openai.chat.completions
        .create({
          model,
          messages: [
            { role: 'system', content: 'be brief' },
            { role: 'user', content: 'hi' },
          ],
        })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, `hello from ${upstream}`);
      assert.equal(data.choices[0]?.finish_reason, 'stop');
      assert.equal(data.usage?.prompt_tokens, 20);
      assert.equal(data.usage?.completion_tokens, 7);
      assert.ok(response.headers.get('x-turnout-cost-usd'));
      const seen = fakes[upstream].requests[0];
      assert.equal(seen?.apiKey, KEYS[upstream]);
      assert.doesNotMatch(seen?.query ?? '', /key=/, 'the key never travels in the URL');
      assert.ok(!JSON.stringify(seen?.headers).includes('sk-app-openai'));
      assert.match(JSON.stringify(seen?.body), /be brief/);
    });

    it(`${model}: a streamed tool call arrives as OpenAI tool-call deltas`, async () => {
      fakes[upstream].onNext({
        kind: 'ok',
        toolCall: { name: 'get_weather', arguments: { city: 'Paris' } },
        chunks: 3,
      });
      const final = await openai.chat.completions
        .stream({ model, messages: [{ role: 'user', content: 'weather?' }], tools: [weatherTool] })
        .finalChatCompletion();
      const call = final.choices[0]?.message.tool_calls?.[0];
      assert.equal(call?.type === 'function' ? call.function.name : '', 'get_weather');
      assert.deepEqual(JSON.parse(call?.type === 'function' ? call.function.arguments : '{}'), {
        city: 'Paris',
      });
      assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
    });

    it(`${model}: a cut stream raises an error in the client instead of ending as if complete`, async () => {
      fakes[upstream].onNext({
        kind: 'cut-stream',
        afterChunks: 2,
        content: 'one two three four five six',
        chunks: 6,
      });
      const stream = await openai.chat.completions.create({
        model,
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      });
      await assert.rejects(async () => {
        for await (const _ of stream) {
          /* drain */
        }
      }, /upstream|stream|complete/i);
    });
  }
});

describe('Anthropic callers (POST /v1/messages)', () => {
  for (const [model, upstream] of [
    ['to-openai', 'openai'],
    ['to-anthropic', 'anthropic'],
    ['to-gemini', 'gemini'],
  ] as const) {
    it(`${model}: messages.create, non-streaming`, async () => {
      fakes[upstream].onNext({ kind: 'ok', content: `answer via ${upstream}` });
      const msg = await anthropic.messages.create({
        model,
        max_tokens: 256,
        system: 'be brief',
        messages: [{ role: 'user', content: 'hi' }],
      });
      const text = msg.content.find((b) => b.type === 'text');
      assert.equal(text?.type === 'text' ? text.text : '', `answer via ${upstream}`);
      assert.equal(msg.stop_reason, 'end_turn');
      assert.ok(msg.usage.output_tokens > 0);
      assert.equal(fakes[upstream].requests[0]?.apiKey, KEYS[upstream]);
    });

    it(`${model}: a streamed tool_use block`, async () => {
      fakes[upstream].onNext({
        kind: 'ok',
        toolCall: { name: 'get_weather', arguments: { city: 'Oslo' } },
        chunks: 3,
        usage: { promptTokens: 20, completionTokens: 7 },
      });
      const msg = await anthropic.messages
        .stream({
          model,
          max_tokens: 256,
          messages: [{ role: 'user', content: 'weather?' }],
          tools: [
            {
              name: 'get_weather',
              input_schema: { type: 'object', properties: { city: { type: 'string' } } },
            },
          ],
        })
        .finalMessage();
      const tool = msg.content.find((b) => b.type === 'tool_use');
      assert.equal(tool?.type === 'tool_use' ? tool.name : '', 'get_weather');
      assert.deepEqual(tool?.type === 'tool_use' ? tool.input : {}, { city: 'Oslo' });
      assert.equal(msg.stop_reason, 'tool_use');
      // message_delta carries the upstream's usage, whichever dialect streamed it.
      assert.equal(msg.usage.input_tokens, 20);
      assert.equal(msg.usage.output_tokens, 7);
    });
  }

  it("the Anthropic-to-Anthropic path forwards the caller's own request body", async () => {
    await anthropic.messages.create({
      model: 'to-anthropic',
      max_tokens: 100,
      metadata: { user_id: 'u-1' },
      messages: [{ role: 'user', content: 'hi' }],
    });
    const body = fakes.anthropic.requests[0]?.body as { model?: string; metadata?: unknown };
    assert.equal(body.model, 'claude-sonnet-4-6');
    assert.deepEqual(body.metadata, { user_id: 'u-1' });
  });

  it('Anthropic-only features reach an Anthropic upstream as sent, beta header included', async () => {
    const request = {
      max_tokens: 100,
      messages: [{ role: 'user' as const, content: 'news today?' }],
      tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 2 }],
    };
    const beta = { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } };
    // A route with an OpenAI target first: that target cannot express the tool and is passed over.
    await anthropic.messages.create({ ...request, model: 'to-mixed' }, beta);
    assert.equal(fakes.openai.requests.length, 0);
    const sent = fakes.anthropic.requests[0];
    assert.deepEqual((sent?.body as { tools?: unknown }).tools, request.tools);
    assert.equal(sent?.headers['anthropic-beta'], 'context-1m-2025-08-07');
    // With no Anthropic target the caller is told which parameter no target could take.
    await assert.rejects(
      anthropic.messages.create({ ...request, model: 'to-openai' }, beta),
      (e: unknown) => {
        assert.ok(e instanceof Anthropic.BadRequestError);
        assert.match(e.message, /tools\[0\]/);
        return true;
      },
    );
    assert.equal(fakes.openai.requests.length, 0);
  });

  it("errors come back in Anthropic's format, so the SDK raises its own error classes", async () => {
    await assert.rejects(
      anthropic.messages.create({
        model: 'no-such-model',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      }),
      (e: unknown) => {
        assert.ok(e instanceof Anthropic.NotFoundError);
        assert.match(e.message, /model_not_found|matches no route/);
        return true;
      },
    );
    const res = await fetch(`${turnout.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ model: 'to-openai', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(Object.keys((await res.json()) as object), ['type', 'error']);
  });

  it("an upstream error is translated into the caller's dialect", async () => {
    fakes.openai.onNext({
      kind: 'status',
      status: 400,
      errorCode: 'invalid_value',
      message: 'temperature out of range',
    });
    await assert.rejects(
      anthropic.messages.create({
        model: 'to-openai',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      }),
      (e: unknown) => {
        assert.ok(e instanceof Anthropic.BadRequestError);
        assert.match(e.message, /temperature out of range/);
        return true;
      },
    );
  });
});

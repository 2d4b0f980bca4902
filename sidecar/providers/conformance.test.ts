// One conformance suite run against every adapter: the same canonical requests go through each
// provider type's adapter and must come out as valid requests of its wire format, with the credential
// in the provider's header and never in the URL; recorded answers of each wire format (fixtures in
// test/fixtures/translate, streams included) must come back through the same shaping path the sidecar
// uses as the OpenAI answer the fixture expects. Provider types that serve the Responses API are held to
// their wire contract the same way (test/fixtures/providers holds their recorded answers).
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { ProviderType, SnapshotModel, SnapshotProvider } from '../../api/index.ts';
import { shaperFor } from '../dialects/shaper.ts';
import { sseTranslatorPipe } from '../translate/index.ts';
import { classifyStatus } from '../upstream/classify.ts';
import { providerKind } from './registry.ts';
import type { ChatCall, WireDialect } from './types.ts';

const KEY = 'sk-conformance-secret-0123';

const provider = (type: ProviderType): SnapshotProvider => ({
  name: type,
  type,
  simulated: type === 'mock',
  ...(type !== 'mock' && {
    endpoint:
      {
        gemini: 'https://g.example/v1beta',
        anthropic: 'https://a.example',
        'azure-openai': 'https://z.example/openai',
      }[type as string] ?? 'https://o.example/v1',
  }),
  credential: type,
  models: [],
  tags: {},
  limits: {},
  timeouts: { connectMs: 1000, firstTokenMs: 1000, idleMs: 1000, totalMs: 1000 },
  circuitBreaker: { consecutiveFailures: 5, openForMs: 1000 },
  ...(type === 'azure-openai' && { azure: { apiVersion: '2024-10-21' } }),
});
const model: SnapshotModel = {
  name: 'target-model',
  deployment: 'prod-deploy',
  maxOutputTokens: 1024,
  capabilities: ['chat', 'streaming', 'tools', 'json', 'vision'],
};

const CASES: Record<string, Record<string, unknown>> = {
  plain: { model: 'alias', messages: [{ role: 'user', content: 'hello' }] },
  system: {
    model: 'alias',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello' },
    ],
  },
  tools: {
    model: 'alias',
    messages: [{ role: 'user', content: 'weather?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ],
  },
  stream: { model: 'alias', stream: true, messages: [{ role: 'user', content: 'hello' }] },
  image: {
    model: 'alias',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ],
  },
  json: {
    model: 'alias',
    response_format: { type: 'json_object' },
    messages: [{ role: 'user', content: 'json please' }],
  },
};

const TYPES: ProviderType[] = ['openai', 'azure-openai', 'anthropic', 'gemini', 'openai-compatible', 'mock'];

function prepare(type: ProviderType, body: Record<string, unknown>) {
  const kind = providerKind(type);
  assert.ok(kind, `no adapter for ${type}`);
  const call: ChatCall = {
    body,
    caller: 'openai',
    callerBody: body,
    raw: Buffer.from(JSON.stringify(body)),
    stream: body.stream === true,
  };
  const req = kind.adapter.chat(call, { provider: provider(type), model, apiKey: KEY });
  return {
    wire: kind.adapter.wireDialect,
    req,
    json: JSON.parse(String(req.body)) as Record<string, unknown>,
  };
}

/** What a valid request of each wire format must contain. */
const WIRE_CHECKS: Record<WireDialect, (json: Record<string, unknown>, name: string) => void> = {
  openai(json, name) {
    assert.ok(Array.isArray(json.messages), 'messages');
    if (name === 'tools') assert.ok(Array.isArray(json.tools));
  },
  anthropic(json, name) {
    assert.ok(Array.isArray(json.messages) && typeof json.max_tokens === 'number', 'messages and max_tokens');
    assert.ok(
      (json.messages as { role: string }[]).every((m) => m.role === 'user' || m.role === 'assistant'),
      'no system role in messages',
    );
    if (name === 'system') assert.equal(json.system, 'be brief');
    if (name === 'tools') assert.ok((json.tools as { input_schema?: unknown }[])[0]?.input_schema);
  },
  gemini(json, name) {
    assert.ok(Array.isArray(json.contents), 'contents');
    if (name === 'system') assert.ok(json.systemInstruction);
    if (name === 'tools')
      assert.ok((json.tools as { functionDeclarations?: unknown[] }[])[0]?.functionDeclarations);
    if (name === 'image') assert.match(JSON.stringify(json.contents), /inlineData/);
  },
};

describe('adapter conformance: requests', () => {
  for (const type of TYPES) {
    for (const [name, body] of Object.entries(CASES)) {
      it(`${type}: ${name}`, () => {
        const { wire, req, json } = prepare(type, body);
        assert.equal(req.method, 'POST');
        WIRE_CHECKS[wire](json, name);
        assert.ok(!req.path.includes(KEY), 'the key is never in the URL');
        const keyHeaders = Object.entries(req.headers)
          .filter(([, v]) => v.includes(KEY))
          .map(([k]) => k);
        const expected = {
          openai: ['authorization'],
          'openai-compatible': ['authorization'],
          mock: ['authorization'],
          'azure-openai': ['api-key'],
          anthropic: ['x-api-key'],
          gemini: ['x-goog-api-key'],
        }[type];
        assert.deepEqual(keyHeaders, expected);
        if (wire !== 'gemini')
          assert.equal(
            json.model,
            type === 'azure-openai' || wire === 'openai' || wire === 'anthropic'
              ? 'target-model'
              : json.model,
          );
        if (type === 'azure-openai')
          assert.match(
            req.path,
            /^\/openai\/deployments\/prod-deploy\/chat\/completions\?api-version=2024-10-21$/,
          );
        if (wire === 'gemini')
          assert.match(
            req.path,
            body.stream
              ? /models\/target-model:streamGenerateContent\?alt=sse$/
              : /models\/target-model:generateContent$/,
          );
        if (wire === 'anthropic') assert.equal(req.path, '/v1/messages');
      });
    }
  }
});

async function fixtures(dir: string, root = 'translate') {
  const base = new URL(`../../test/fixtures/${root}/${dir}/`, import.meta.url);
  const names = (await readdir(base)).filter((f) => f.endsWith('.json'));
  return Promise.all(
    names.map(async (n) => ({
      name: n,
      ...(JSON.parse(await readFile(new URL(n, base), 'utf8')) as {
        input: unknown;
        expected: unknown;
        options?: Record<string, unknown>;
      }),
    })),
  );
}

const RESPONSE_FIXTURES: [WireDialect, string][] = [
  ['anthropic', 'openai-response-from-anthropic'],
  ['gemini', 'openai-response-from-gemini'],
];

describe('adapter conformance: answers through the sidecar shaping path', () => {
  for (const [wire, dir] of RESPONSE_FIXTURES) {
    it(`${wire}: every recorded JSON answer becomes the expected OpenAI answer`, async () => {
      for (const f of await fixtures(dir)) {
        const shaped = shaperFor(wire, 'openai', {
          model: typeof f.options?.model === 'string' ? f.options.model : 'm',
          requestedModel: 'alias',
          callerWantsUsage: false,
        }).json(Buffer.from(JSON.stringify(f.input)));
        const got = JSON.parse(shaped.bytes.toString('utf8')) as { choices: unknown; usage?: unknown };
        const want = f.expected as { choices: unknown; usage?: unknown };
        // Tool-call ids derive from the (random) response id: compare everything else.
        const withoutIds = (choices: unknown) =>
          JSON.parse(JSON.stringify(choices).replace(/"id":"call_[^"]*"/g, '"id":"call"')) as unknown;
        assert.deepEqual(withoutIds(got.choices), withoutIds(want.choices), f.name);
        assert.deepEqual(got.usage, want.usage, f.name);
      }
    });
  }

  for (const [wire, dir] of [
    ['anthropic', 'anthropic-stream-to-openai'],
    ['gemini', 'gemini-stream-to-openai'],
  ] as const) {
    it(`${wire}: every recorded stream yields the expected text, tool calls and end`, async () => {
      for (const f of await fixtures(dir)) {
        const shaper = shaperFor(wire, 'openai', {
          model: 'm',
          requestedModel: 'alias',
          callerWantsUsage: f.options?.includeUsage === true,
        });
        const pipe = sseTranslatorPipe(shaper.stream());
        const sse = (f.input as { event?: string; data: unknown }[])
          .map(
            (e) =>
              `${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`,
          )
          .join('');
        const frames = [...pipe.feed(sse), ...pipe.end()];
        const summarise = (datas: unknown[]) => {
          let text = '';
          let args = '';
          let done = false;
          let error = false;
          for (const d of datas) {
            if (d === '[DONE]') done = true;
            const c = d as {
              choices?: {
                delta?: { content?: string; tool_calls?: { function?: { arguments?: string } }[] };
              }[];
              error?: unknown;
            };
            if (c?.error) error = true;
            text += c?.choices?.[0]?.delta?.content ?? '';
            args +=
              c?.choices?.[0]?.delta?.tool_calls?.map((t) => t.function?.arguments ?? '').join('') ?? '';
          }
          return { text, args, done, error };
        };
        const got = summarise(
          frames
            .map((fr) =>
              fr
                .split('\n')
                .find((l) => l.startsWith('data: '))
                ?.slice(6),
            )
            .map((d): unknown => (d === '[DONE]' ? d : JSON.parse(d ?? 'null'))),
        );
        const want = summarise((f.expected as { frames: { data: unknown }[] }).frames.map((x) => x.data));
        assert.deepEqual(got, want, f.name);
      }
    });
  }
});

const RESPONSES_CASES: Record<string, Record<string, unknown>> = {
  text: { model: 'alias', input: 'hello' },
  stream: { model: 'alias', input: 'hello', stream: true },
  items: {
    model: 'alias',
    instructions: 'be brief',
    input: [{ role: 'user', content: [{ type: 'input_text', text: 'weather?' }] }],
    tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} } }],
  },
};

/**
 * Each provider type serving the Responses API: the exact path (no query: neither an api-version nor the
 * key in the URL), the one header carrying the key, and what the body's `model` must name.
 */
const RESPONSES_WIRE: [ProviderType, { path: string; keyHeader: string; model: string }][] = [
  ['openai', { path: '/v1/responses', keyHeader: 'authorization', model: 'target-model' }],
  // The v1 API: the deployment travels in `model`, and the dated azure.apiVersion is not sent.
  ['azure-openai', { path: '/openai/v1/responses', keyHeader: 'api-key', model: 'prod-deploy' }],
];

describe('adapter conformance: Responses requests', () => {
  for (const [type, wire] of RESPONSES_WIRE) {
    for (const [name, body] of Object.entries(RESPONSES_CASES)) {
      it(`${type}: ${name}`, () => {
        const raw = Buffer.from(JSON.stringify(body));
        const call: ChatCall = {
          body,
          caller: 'openai',
          callerBody: body,
          raw,
          stream: body.stream === true,
        };
        const ctx = { provider: provider(type), model, apiKey: KEY };
        const req = providerKind(type)?.adapter.responses?.(call, ctx);
        assert.ok(req, `${type} serves the Responses API`);
        assert.equal(req.method, 'POST');
        assert.equal(req.path, wire.path);
        const keyHeaders = Object.keys(req.headers).filter((k) => req.headers[k]?.includes(KEY));
        assert.deepEqual(keyHeaders, [wire.keyHeader]);
        assert.deepEqual(JSON.parse(String(req.body)), { ...body, model: wire.model }, 'only model changes');
      });
    }
  }
});

describe('adapter conformance: Responses answers through the sidecar shaping path', () => {
  const azureFixture = async (name: string) => {
    const found = (await fixtures('azure-openai', 'providers')).find((f) => f.name === name);
    assert.ok(found, `test/fixtures/providers/azure-openai/${name}`);
    return found;
  };
  const responsesShaper = (type: ProviderType) => {
    const kind = providerKind(type);
    assert.ok(kind && typeof kind.adapter.responses === 'function', `${type} serves the Responses API`);
    return shaperFor(kind.adapter.wireDialect, 'openai', {
      model: 'target-model',
      requestedModel: 'alias',
      callerWantsUsage: false,
      operation: 'responses',
    });
  };

  it('azure-openai: a recorded JSON answer reaches the caller byte for byte, its usage read', async () => {
    const f = await azureFixture('responses-json.json');
    const upstream = Buffer.from(JSON.stringify(f.input));
    const shaped = responsesShaper('azure-openai').json(upstream);
    assert.ok(shaped.bytes.equals(upstream));
    assert.deepEqual(shaped.usage, (f.expected as { usage: unknown }).usage);
  });

  it('azure-openai: a recorded stream passes event by event, complete, with its usage', async () => {
    const f = await azureFixture('responses-stream.json');
    const events = (f.input as { event: string; data: unknown }[]).map(
      (e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`,
    );
    const translator = responsesShaper('azure-openai').stream();
    const pipe = sseTranslatorPipe(translator);
    // Fed in uneven pieces, as a network delivers them.
    const sse = events.join('');
    const frames = [...pipe.feed(sse.slice(0, 101)), ...pipe.feed(sse.slice(101)), ...pipe.end()];
    assert.deepEqual(frames, events);
    const text = (f.input as { event: string; data: { delta?: string } }[])
      .filter((e) => e.event === 'response.output_text.delta')
      .map((e) => e.data.delta)
      .join('');
    const want = f.expected as { text: string; completed: boolean; error: unknown; usage: unknown };
    assert.equal(text, want.text);
    assert.equal(translator.completed, want.completed);
    assert.equal(translator.error ?? null, want.error);
    assert.deepEqual(translator.usage, want.usage);
  });

  it('azure-openai: a content-filter refusal is content-policy, never retried, its reason passed on', async () => {
    const f = await azureFixture('responses-content-filter.json');
    const { status, body } = f.input as { status: number; body: unknown };
    const upstream = Buffer.from(JSON.stringify(body));
    const { neutral, bytes } = responsesShaper('azure-openai').error(status, upstream);
    assert.deepEqual(neutral, (f.expected as { neutral: unknown }).neutral);
    assert.ok(bytes.equals(upstream), "the OpenAI caller gets Azure's own error, reason included");
    assert.equal(classifyStatus(status), undefined, 'no failure class: not retried, not failed over');
  });
});

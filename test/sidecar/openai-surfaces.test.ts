// /v1/embeddings and /v1/responses through turnout dev, with the real openai client: routed by model,
// only to models that declare the capability, passed through in the OpenAI wire format.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI from 'openai';
import { fakeVector, startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import * as manifest from '../helpers/manifests.ts';
import { startDev, type DevTurnout } from '../helpers/turnout-process.ts';

let fake: FakeProvider;
let turnout: DevTurnout;
let client: OpenAI;

before(async () => {
  fake = await startFakeProvider({ dialect: 'openai' });
  turnout = await startDev({
    'all.yaml': manifest.file(
      manifest.secret({ k: 'sk-surfaces' }),
      manifest.modelProvider({
        name: 'oa',
        type: 'openai',
        endpoint: fake.url,
        key: 'k',
        models: `
    - { name: gpt-4o, pricing: { input: 2.5, output: 10 }, capabilities: [chat, streaming, responses] }
    - { name: text-embedding-3-small, pricing: { input: 0.02, output: 0 }, capabilities: [embeddings] }`,
      }),
      manifest.mockProvider('sim', '[{ name: sim-embed, capabilities: [embeddings] }]'),
      manifest.routingPolicy(`
    - { name: embed, match: { model: ["embed"] }, targets: [{ provider: oa, model: text-embedding-3-small }] }
    - { name: embed-sim, match: { model: ["embed-sim"] }, targets: [{ provider: sim, model: sim-embed }] }
    - { name: wrong, match: { model: ["embed-wrong"] }, targets: [{ provider: oa, model: gpt-4o }] }
    - { name: respond, match: { model: ["smart"] }, targets: [{ provider: oa, model: gpt-4o }] }`),
    ),
  });
  client = new OpenAI({ baseURL: `${turnout.url}/v1`, apiKey: 'x', maxRetries: 0 });
});

after(async () => {
  await turnout?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

describe('POST /v1/embeddings', () => {
  it('routes by model alias to an embeddings model, with cost from usage', async () => {
    const { data, response } = await client.embeddings
      .create({ model: 'embed', input: ['alpha', 'beta'] })
      .withResponse();
    assert.equal(data.data.length, 2);
    const expected = Array.from(fakeVector('alpha', data.data[0]?.embedding.length ?? 0));
    assert.deepEqual(
      data.data[0]?.embedding.map((x) => Math.round(x * 1e5)),
      expected.map((x) => Math.round(x * 1e5)),
    );
    assert.equal(response.headers.get('x-turnout-model'), 'text-embedding-3-small');
    assert.ok(response.headers.get('x-turnout-cost-usd'));
    assert.equal(fake.requests[0]?.model, 'text-embedding-3-small');
  });

  it('never sends embeddings to a model without the capability', async () => {
    await assert.rejects(client.embeddings.create({ model: 'embed-wrong', input: 'x' }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 503);
      assert.match(e.message, /does not declare the embeddings capability/);
      return true;
    });
    assert.equal(fake.count, 0);
  });

  it('the simulated provider answers with deterministic vectors, labelled simulated', async () => {
    const a = await client.embeddings
      .create({ model: 'embed-sim', input: 'same', encoding_format: 'float' })
      .withResponse();
    const b = await client.embeddings.create({ model: 'embed-sim', input: 'same', encoding_format: 'float' });
    assert.equal(a.response.headers.get('x-turnout-simulated'), 'true');
    assert.deepEqual(a.data.data[0]?.embedding, b.data[0]?.embedding);
  });

  it('refuses a body without input', async () => {
    const res = await fetch(`${turnout.url}/v1/embeddings`, {
      method: 'POST',
      body: JSON.stringify({ model: 'embed' }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, 'input');
  });
});

describe('POST /v1/responses', () => {
  it('non-streaming', async () => {
    fake.onNext({ kind: 'ok', content: 'a response' });
    const { data, response } = await client.responses
      .create({ model: 'smart', input: 'hello' })
      .withResponse();
    assert.equal(data.output_text, 'a response');
    assert.equal(response.headers.get('x-turnout-route'), 'respond');
    assert.ok(response.headers.get('x-turnout-cost-usd'));
  });

  it('streaming, to completion', async () => {
    fake.onNext({ kind: 'ok', content: 'streamed response text', chunks: 4 });
    const final = await client.responses.stream({ model: 'smart', input: 'hello' }).finalResponse();
    assert.equal(final.output_text, 'streamed response text');
  });

  it('a cut Responses stream ends with an error event, not a silent end', async () => {
    fake.onNext({ kind: 'cut-stream', afterChunks: 1, content: 'a b c d', chunks: 4 });
    await assert.rejects(client.responses.stream({ model: 'smart', input: 'hello' }).finalResponse());
  });
});

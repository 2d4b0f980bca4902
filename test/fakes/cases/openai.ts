import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI from 'openai';
import {
  defaultContent,
  estimateTokens,
  fakeVector,
  startFakeProvider,
  type FakeProvider,
} from '../index.ts';

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('openai dialect with the openai SDK', () => {
  let fake: FakeProvider;
  let client: OpenAI;
  before(async () => {
    fake = await startFakeProvider({ dialect: 'openai' });
    client = new OpenAI({ baseURL: fake.url, apiKey: 'x', maxRetries: 0 });
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  it('answers a chat completion with the echo content and chars/4 usage', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello there' },
      ],
    });
    const content = defaultContent('gpt-4o-mini', 'hello there');
    assert.equal(completion.choices[0]?.message.content, content);
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.equal(completion.model, 'gpt-4o-mini');
    assert.equal(completion.usage?.prompt_tokens, estimateTokens('be brief' + 'hello there'));
    assert.equal(completion.usage?.completion_tokens, estimateTokens(content));
    assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 0);
    const [request] = fake.requests;
    assert.equal(request?.apiKey, 'x');
    assert.equal(request?.endpoint, 'chat.completions');
    assert.equal(request?.model, 'gpt-4o-mini');
  });

  it('serves identical default requests from reused bytes the SDK still parses', async () => {
    const ask = () =>
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'same' }] });
    const [first, second] = [await ask(), await ask()];
    assert.deepEqual(second, first);
    assert.equal(second.choices[0]?.message.content, defaultContent('gpt-4o', 'same'));
  });

  it('streams chat deltas that the SDK stream helper assembles, with a usage chunk', async () => {
    fake.onNext({ kind: 'ok', content: 'one two three four five', chunks: 5, model: 'gpt-4o-2024' });
    const stream = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'count' }],
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on('content', (delta) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    assert.equal(deltas.length, 5);
    assert.equal(final.choices[0]?.message.content, 'one two three four five');
    assert.equal(final.model, 'gpt-4o-2024');
    assert.equal(final.usage?.completion_tokens, estimateTokens('one two three four five'));
    assert.equal(fake.requests[0]?.stream, true);
  });

  it('streams a tool call split across chunks when the request has tools', async () => {
    fake.onNext({
      kind: 'ok',
      toolCall: { name: 'get_weather', arguments: { city: 'Paris', unit: 'C' } },
      chunks: 3,
    });
    const stream = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [weatherTool],
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(final.choices[0]?.message.content, null);
    assert.ok(call?.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', unit: 'C' });
  });

  it('returns a non-stream tool call, and none when the request declares no tools', async () => {
    fake.script([
      { kind: 'ok', toolCall: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      { kind: 'ok', toolCall: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
    ]);
    const messages = [{ role: 'user' as const, content: 'weather?' }];
    const withTools = await client.chat.completions.create({
      model: 'gpt-4o',
      messages,
      tools: [weatherTool],
    });
    const call = withTools.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.equal(call.function.arguments, '{"city":"Oslo"}');
    const without = await client.chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(without.choices[0]?.message.tool_calls, undefined);
    assert.equal(without.choices[0]?.message.content, defaultContent('gpt-4o', 'weather?'));
  });

  it('answers the Responses API, plain and streamed', async () => {
    const plain = await client.responses.create({ model: 'gpt-4o', input: 'hi', instructions: 'be nice' });
    assert.equal(plain.output_text, defaultContent('gpt-4o', 'hi'));
    assert.equal(plain.usage?.input_tokens, estimateTokens('be nice' + 'hi'));
    const stream = client.responses.stream({
      model: 'gpt-4o',
      input: [{ role: 'user', content: 'stream me' }],
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    assert.equal(final.output_text, defaultContent('gpt-4o', 'stream me'));
    assert.equal(types[0], 'response.created');
    assert.equal(types.filter((type) => type === 'response.output_text.delta').length, 4);
    assert.equal(types.at(-1), 'response.completed');
  });

  it('streams a Responses function call', async () => {
    fake.onNext({ kind: 'ok', toolCall: { name: 'get_weather', arguments: { city: 'Rome' } } });
    const tools = [{ type: 'function' as const, name: 'get_weather', parameters: {}, strict: false }];
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'weather?', tools });
    const final = await stream.finalResponse();
    const item = final.output[0];
    assert.ok(item?.type === 'function_call');
    assert.deepEqual(JSON.parse(item.arguments), { city: 'Rome' });
  });

  it('embeds deterministically, in the default base64 and in float format', async () => {
    const viaBase64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    assert.equal(viaBase64.data.length, 2);
    assert.deepEqual(Array.from(viaBase64.data[1]?.embedding ?? []), Array.from(fakeVector('b', 16)));
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'a',
      encoding_format: 'float',
      dimensions: 4,
    });
    assert.deepEqual(floats.data[0]?.embedding, Array.from(fakeVector('a', 4)));
    assert.equal(floats.usage.prompt_tokens, 1);
  });

  it('lists models without consuming a scripted step', async () => {
    fake.onNext({ kind: 'status', status: 500 });
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    assert.ok(models.includes('gpt-4o-mini'));
    assert.equal(fake.pending, 1);
  });

  it('raises the SDK error classes from the dialect error JSON', async () => {
    fake.script([
      { kind: 'status', status: 429, retryAfter: '7' },
      { kind: 'context-length' },
      { kind: 'content-filter' },
    ]);
    const call = () =>
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.code, 'rate_limit_exceeded');
      assert.equal(error.headers.get('retry-after'), '7');
      return true;
    });
    await assert.rejects(
      call(),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.code === 'context_length_exceeded',
    );
    await assert.rejects(
      call(),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.code === 'content_filter',
    );
  });
});

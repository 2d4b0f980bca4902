import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { defaultContent, estimateTokens, startFakeProvider, type FakeProvider } from '../index.ts';
import { post, readBody, sseEvents } from './http.ts';

const weatherTool = { name: 'get_weather', input_schema: { type: 'object' as const, properties: {} } };

describe('anthropic dialect with the @anthropic-ai/sdk client', () => {
  let fake: FakeProvider;
  let client: Anthropic;
  before(async () => {
    fake = await startFakeProvider({ dialect: 'anthropic' });
    client = new Anthropic({ baseURL: fake.url, apiKey: 'x', maxRetries: 0 });
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  it('answers a message with the echo content and usage, recording the key', async () => {
    const message = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      system: 'be brief',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
    });
    const text = defaultContent('claude-sonnet-4-6', 'hello');
    assert.deepEqual(message.content, [{ type: 'text', text }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, estimateTokens('be brief' + 'hello'));
    assert.equal(message.usage.output_tokens, estimateTokens(text));
    // SDK 1.x sends apiKey as `Authorization: Bearer`; the fake reads that or x-api-key.
    assert.equal(fake.requests[0]?.apiKey, 'x');
  });

  it('streams text that MessageStream assembles', async () => {
    fake.onNext({ kind: 'ok', content: 'a streamed answer', chunks: 3 });
    const stream = client.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'go' }],
    });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    assert.equal(deltas.length, 3);
    assert.equal(await stream.finalText(), 'a streamed answer');
    assert.equal(message.usage.output_tokens, estimateTokens('a streamed answer'));
  });

  it('streams a tool_use block with input_json_delta pieces', async () => {
    fake.onNext({
      kind: 'ok',
      content: 'Let me check.',
      toolCall: { name: 'get_weather', arguments: { city: 'Lima' } },
    });
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'weather?' }],
    });
    const message = await stream.finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.content[0]?.type, 'text');
    const tool = message.content[1];
    assert.ok(tool?.type === 'tool_use');
    assert.equal(tool.name, 'get_weather');
    assert.deepEqual(tool.input, { city: 'Lima' });
  });

  it('sends the full event sequence, ping included, and records x-api-key', async () => {
    const body = {
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    };
    const res = await post(`${fake.url}/v1/messages`, body, { 'x-api-key': 'k2' });
    const events = sseEvents((await readBody(res)).text);
    assert.deepEqual(events.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
    assert.deepEqual(events.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.ok(res.headers.get('request-id')?.startsWith('req_'));
    assert.equal(fake.requests[0]?.apiKey, 'k2');
  });

  it('maps statuses, context length and content filter to what the SDK expects', async () => {
    fake.script([{ kind: 'status', status: 529 }, { kind: 'context-length' }, { kind: 'content-filter' }]);
    const call = () =>
      client.messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      });
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError);
      assert.equal(error.status, 529);
      assert.equal(error.type, 'overloaded_error');
      return true;
    });
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof Anthropic.BadRequestError);
      assert.match(error.message, /prompt is too long/);
      return true;
    });
    const refused = await call();
    assert.equal(refused.stop_reason, 'refusal');
    assert.deepEqual(refused.content, []);
  });
});

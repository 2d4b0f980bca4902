// The real openai and @anthropic-ai/sdk clients read what the translators write: streams are fed to
// the SDKs' own stream helpers through a stub fetch, so a frame an SDK would reject fails here.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAiResponseFromAnthropic } from './anthropic-response.ts';
import { AnthropicToOpenAiStream } from './anthropic-to-openai-stream.ts';
import { anthropicErrorJson, openAiErrorJson } from './error-render.ts';
import { GeminiToOpenAiStream } from './gemini-to-openai-stream.ts';
import { OpenAiToAnthropicStream } from './openai-to-anthropic-stream.ts';
import { loadFixtures } from './testing/conformance.ts';
import { runThroughPipe, type InputEvent } from './testing/frames.ts';
import type { StreamTranslator } from './types.ts';

function stubFetch(status: number, body: string, contentType: string): typeof fetch {
  return () => Promise.resolve(new Response(body, { status, headers: { 'content-type': contentType } }));
}

const openai = (status: number, body: string, type = 'text/event-stream') =>
  new OpenAI({ apiKey: 'x', baseURL: 'http://stub/v1', maxRetries: 0, fetch: stubFetch(status, body, type) });
const anthropic = (status: number, body: string, type = 'text/event-stream') =>
  new Anthropic({ apiKey: 'x', baseURL: 'http://stub', maxRetries: 0, fetch: stubFetch(status, body, type) });

function translated(fixtureFile: string, translator: StreamTranslator): string {
  const fixture = loadFixtures().find((f) => f.file === fixtureFile);
  assert.ok(fixture, fixtureFile);
  return runThroughPipe(translator, fixture.input as InputEvent[]).join('');
}

const chatParams = { model: 'm', messages: [{ role: 'user' as const, content: 'q' }] };
const messageParams = { model: 'm', max_tokens: 100, messages: [{ role: 'user' as const, content: 'q' }] };

describe('translated streams, read by the official SDKs', () => {
  it('openai: an Anthropic tool-use stream assembles into the tool call', async () => {
    const sse = translated(
      'anthropic-stream-to-openai/tool-use-split-arguments.json',
      new AnthropicToOpenAiStream({ created: 1 }),
    );
    const completion = await openai(200, sse).chat.completions.stream(chatParams).finalChatCompletion();
    const choice = completion.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, "Okay, let's check the weather for San Francisco:");
    const call = choice?.message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.deepEqual(JSON.parse(call.function.arguments), {
      location: 'San Francisco, CA',
      unit: 'fahrenheit',
    });
  });

  it('openai: a Gemini stream with usage assembles, usage included', async () => {
    const options = { id: 'c', created: 1, model: 'gemini', includeUsage: true };
    const sse = translated('gemini-stream-to-openai/thoughts-usage.json', new GeminiToOpenAiStream(options));
    const completion = await openai(200, sse).chat.completions.stream(chatParams).finalChatCompletion();
    assert.equal(completion.choices[0]?.message.content, '17 + 25 = 42.');
    assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 230);
  });

  it('openai: an in-band error frame raises an APIError instead of a short answer', async () => {
    const sse = translated(
      'anthropic-stream-to-openai/truncated.json',
      new AnthropicToOpenAiStream({ created: 1 }),
    );
    const stream = await openai(200, sse).chat.completions.create({ ...chatParams, stream: true });
    await assert.rejects(async () => {
      for await (const _chunk of stream) {
        // drain
      }
    }, OpenAI.APIError);
  });

  it('anthropic: an OpenAI tool-call stream assembles into tool_use blocks', async () => {
    const sse = translated(
      'openai-stream-to-anthropic/tool-calls-split-arguments.json',
      new OpenAiToAnthropicStream({ requestedModel: 'claude-x' }),
    );
    const message = await anthropic(200, sse).messages.stream(messageParams).finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual(
      message.content.map((b) => (b.type === 'tool_use' ? [b.id, b.name, b.input] : b.type)),
      [
        ['call_DdmO9pD3xa9XTPNJ32zg2hcA', 'get_weather', { location: 'Paris, France' }],
        ['call_ABCDEF0123456789abcdefgh', 'get_time', { timezone: 'Europe/Paris' }],
      ],
    );
    assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [82, 41]);
  });

  it('anthropic: usage with cache reads arrives in message_delta', async () => {
    const sse = translated(
      'openai-stream-to-anthropic/cache-reasoning-usage.json',
      new OpenAiToAnthropicStream({ requestedModel: 'claude-x' }),
    );
    const message = await anthropic(200, sse).messages.stream(messageParams).finalMessage();
    assert.deepEqual([message.usage.input_tokens, message.usage.cache_read_input_tokens], [128, 1920]);
  });

  it('anthropic: an in-band error event raises an APIError', async () => {
    const sse = translated(
      'openai-stream-to-anthropic/error-in-stream.json',
      new OpenAiToAnthropicStream({ requestedModel: 'c' }),
    );
    await assert.rejects(
      anthropic(200, sse).messages.stream(messageParams).finalMessage(),
      Anthropic.APIError,
    );
  });
});

describe('translated bodies, read by the official SDKs', () => {
  it('openai: a translated Anthropic response is a ChatCompletion', async () => {
    const json = openAiResponseFromAnthropic(
      {
        id: 'msg_1',
        model: 'c',
        content: [{ type: 'text', text: 'hi' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1, output_tokens: 1 },
      },
      { created: 1 },
    );
    const typed: OpenAI.ChatCompletion = json; // the output type fits the SDK's own type
    const completion = await openai(200, JSON.stringify(typed), 'application/json').chat.completions.create(
      chatParams,
    );
    assert.equal(completion.choices[0]?.message.content, 'hi');
  });

  it('openai: a context-length error surfaces as BadRequestError with the OpenAI code', async () => {
    const body = JSON.stringify(
      openAiErrorJson({ status: 400, kind: 'context-length', message: 'too long' }),
    );
    await assert.rejects(
      openai(400, body, 'application/json').chat.completions.create(chatParams),
      (e: unknown) => {
        return e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded';
      },
    );
  });

  it('anthropic: an overloaded error keeps its Anthropic type', async () => {
    const body = JSON.stringify(anthropicErrorJson({ status: 529, kind: 'server', message: 'busy' }));
    await assert.rejects(
      anthropic(529, body, 'application/json').messages.create(messageParams),
      (e: unknown) => {
        return (
          e instanceof Anthropic.APIError &&
          e.status === 529 &&
          JSON.stringify(e.error).includes('overloaded_error')
        );
      },
    );
  });
});

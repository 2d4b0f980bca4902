import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnthropicToOpenAiStream } from './anthropic-to-openai-stream.ts';
import { assembleOpenAi } from './testing/assemble-openai.ts';
import { parseFrames, runThroughPipe, type InputEvent } from './testing/frames.ts';

const ev = (data: Record<string, unknown>): InputEvent => ({ event: String(data.type), data });
const start = (usage: Record<string, unknown> = { input_tokens: 10, output_tokens: 1 }) =>
  ev({ type: 'message_start', message: { id: 'msg_1', model: 'claude-x', content: [], usage } });
const block = (index: number, content_block: unknown) =>
  ev({ type: 'content_block_start', index, content_block });
const delta = (index: number, d: unknown) => ev({ type: 'content_block_delta', index, delta: d });
const stopBlock = (index: number) => ev({ type: 'content_block_stop', index });
const messageDelta = (stop_reason: string, usage: unknown = { output_tokens: 5 }) =>
  ev({ type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage });
const STOP = ev({ type: 'message_stop' });

function run(events: InputEvent[], includeUsage = false) {
  const t = new AnthropicToOpenAiStream({ created: 1, includeUsage });
  const frames = parseFrames(runThroughPipe(t, events));
  return { t, frames, answer: assembleOpenAi(frames) };
}

describe('AnthropicToOpenAiStream', () => {
  it('streams text and ends with [DONE] on message_stop', () => {
    const { t, frames, answer } = run([
      start(),
      block(0, { type: 'text', text: '' }),
      ev({ type: 'ping' }),
      delta(0, { type: 'text_delta', text: 'Hel' }),
      delta(0, { type: 'text_delta', text: 'lo' }),
      stopBlock(0),
      messageDelta('end_turn'),
      STOP,
    ]);
    assert.deepEqual(answer.choices, [{ content: 'Hello', toolCalls: [], finishReason: 'stop' }]);
    assert.equal(answer.done, true);
    assert.deepEqual(frames[0]?.data, {
      id: 'msg_1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'claude-x',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    });
    assert.deepEqual([t.completed, t.finishReason, t.malformed], [true, 'stop', 0]);
  });

  it('streams tool calls: id and name first, then argument fragments, indexes in order', () => {
    const { answer } = run([
      start(),
      block(0, { type: 'tool_use', id: 'toolu_a', name: 'f', input: {} }),
      delta(0, { type: 'input_json_delta', partial_json: '' }),
      delta(0, { type: 'input_json_delta', partial_json: '{"x":' }),
      delta(0, { type: 'input_json_delta', partial_json: '1}' }),
      stopBlock(0),
      block(1, { type: 'tool_use', id: 'toolu_b', name: 'g', input: {} }),
      delta(1, { type: 'input_json_delta', partial_json: '{}' }),
      stopBlock(1),
      messageDelta('tool_use'),
      STOP,
    ]);
    assert.deepEqual(answer.choices[0]?.toolCalls, [
      { id: 'toolu_a', name: 'f', arguments: '{"x":1}' },
      { id: 'toolu_b', name: 'g', arguments: '{}' },
    ]);
    assert.equal(answer.choices[0]?.finishReason, 'tool_calls');
  });

  it('merges message_start and cumulative message_delta usage, and sends it when asked', () => {
    const { t, answer } = run(
      [
        start({
          input_tokens: 10,
          cache_read_input_tokens: 90,
          cache_creation_input_tokens: 5,
          output_tokens: 1,
        }),
        messageDelta('end_turn', { output_tokens: 30, output_tokens_details: { thinking_tokens: 12 } }),
        STOP,
      ],
      true,
    );
    assert.deepEqual(t.usage, {
      inputTokens: 105,
      outputTokens: 30,
      cachedInputTokens: 90,
      reasoningTokens: 12,
      cacheWriteTokens: 5,
    });
    assert.deepEqual(answer.usage, {
      prompt_tokens: 105,
      completion_tokens: 30,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 90 },
      completion_tokens_details: { reasoning_tokens: 12 },
    });
  });

  it('skips thinking blocks and unknown events', () => {
    const { answer } = run([
      start(),
      block(0, { type: 'thinking', thinking: '' }),
      delta(0, { type: 'thinking_delta', thinking: 'secret' }),
      delta(0, { type: 'signature_delta', signature: 'sig' }),
      stopBlock(0),
      ev({ type: 'brand_new_event', foo: 1 }),
      block(1, { type: 'text', text: '' }),
      delta(1, { type: 'text_delta', text: 'visible' }),
      messageDelta('end_turn'),
      STOP,
    ]);
    assert.equal(answer.choices[0]?.content, 'visible');
  });

  it('turns an error event into an in-band OpenAI error and stops', () => {
    const t = new AnthropicToOpenAiStream({ created: 1 });
    const frames = parseFrames([
      ...t.push({
        event: 'error',
        data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
      }),
      ...t.push({ event: 'message_stop', data: '{"type":"message_stop"}' }),
      ...t.end(),
    ]);
    assert.deepEqual(frames, [
      {
        event: 'error',
        data: { error: { message: 'Overloaded', type: 'api_error', param: null, code: 'upstream_error' } },
      },
    ]);
    assert.deepEqual([t.completed, t.error], [false, 'Overloaded']);
  });

  it('end() without a finish reason writes an in-band error; with one, [DONE]', () => {
    const cut = new AnthropicToOpenAiStream({ created: 1 });
    cut.push({ data: '{"type":"message_start","message":{"id":"m"}}' });
    assert.match(cut.end().join(''), /upstream_stream_error/);
    const noStop = new AnthropicToOpenAiStream({ created: 1 });
    noStop.push({
      data: '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}',
    });
    assert.deepEqual(noStop.end(), ['data: [DONE]\n\n']);
    assert.equal(noStop.completed, false, 'no message_stop arrived');
  });

  it('fail() writes one error frame; nothing after it', () => {
    const t = new AnthropicToOpenAiStream({ created: 1 });
    assert.equal(t.fail('reset by peer').length, 1);
    assert.deepEqual([t.fail('again'), t.end(), t.push({ data: '{"type":"message_stop"}' })], [[], [], []]);
  });

  it('counts malformed data and carries on', () => {
    const t = new AnthropicToOpenAiStream({ created: 1 });
    for (const data of ['{not json', '[]', '"str"', 'null', '']) assert.deepEqual(t.push({ data }), []);
    assert.equal(t.malformed, 5);
  });
});

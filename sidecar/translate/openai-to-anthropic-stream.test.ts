import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenAiToAnthropicStream } from './openai-to-anthropic-stream.ts';
import { assembleAnthropic } from './testing/assemble-anthropic.ts';
import { parseFrames, runThroughPipe, type InputEvent } from './testing/frames.ts';

const chunk = (delta: unknown, finish_reason: string | null = null, index = 0): InputEvent => ({
  data: { id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index, delta, finish_reason }] },
});
const usage = (u: unknown): InputEvent => ({
  data: { id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [], usage: u },
});
const DONE: InputEvent = { data: '[DONE]' };
const tool = (index: number, fn: Record<string, unknown>, id?: string) => ({
  tool_calls: [{ index, ...(id && { id, type: 'function' }), function: fn }],
});

function run(events: InputEvent[]) {
  const t = new OpenAiToAnthropicStream({ requestedModel: 'claude-x' });
  const frames = parseFrames(runThroughPipe(t, events));
  return { t, frames, message: assembleAnthropic(frames) };
}

describe('OpenAiToAnthropicStream', () => {
  it('writes a complete, well-formed message for a text stream', () => {
    const { t, message } = run([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hi' }),
      chunk({ content: ' there' }),
      chunk({}, 'stop'),
      usage({ prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 4 } }),
      DONE,
    ]);
    assert.deepEqual(message, {
      started: true,
      id: 'msg_chatcmpl-1',
      model: 'claude-x',
      content: [{ type: 'text', text: 'Hi there' }],
      stopReason: 'end_turn',
      usage: {
        input_tokens: 6,
        output_tokens: 2,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 4,
      },
      stopped: true,
      error: undefined,
    });
    assert.deepEqual([t.completed, t.finishReason], [true, 'stop']);
  });

  it('closes the text block before a tool_use block, and one tool block before the next', () => {
    const { message } = run([
      chunk({ content: 'Let me look.' }),
      chunk(tool(0, { name: 'f', arguments: '' }, 'call_a')),
      chunk(tool(0, { arguments: '{"q":' })),
      chunk(tool(0, { arguments: '"x"}' })),
      chunk(tool(1, { name: 'g', arguments: '{}' }, 'call_b')),
      chunk({}, 'tool_calls'),
      DONE,
    ]);
    assert.deepEqual(message.content, [
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'call_a', name: 'f', input: { q: 'x' } },
      { type: 'tool_use', id: 'call_b', name: 'g', input: {} },
    ]);
    assert.equal(message.stopReason, 'tool_use');
  });

  it('keeps every argument fragment of interleaved parallel calls: whole blocks in index order', () => {
    const { t, frames, message } = run([
      chunk(tool(0, { name: 'f', arguments: '' }, 'a')),
      chunk(tool(1, { name: 'g', arguments: '{"y":' }, 'b')),
      chunk(tool(0, { arguments: '{"x":' })),
      chunk(tool(1, { arguments: '2}' })),
      chunk(tool(0, { arguments: '1}' })),
      chunk({}, 'tool_calls'),
      DONE,
    ]);
    assert.equal(t.malformed, 0);
    assert.deepEqual(message.content, [
      { type: 'tool_use', id: 'a', name: 'f', input: { x: 1 } },
      { type: 'tool_use', id: 'b', name: 'g', input: { y: 2 } },
    ]);
    assert.equal(message.stopReason, 'tool_use');
    const starts = frames.filter((f) => f.event === 'content_block_start').map((f) => f.data);
    assert.deepEqual(
      starts.map((d) => (d as { index: number }).index),
      [0, 1],
    );
  });

  it('streams text live while tool calls wait for the finish', () => {
    const t = new OpenAiToAnthropicStream({ requestedModel: 'claude-x' });
    const push = (e: InputEvent) => t.push({ data: JSON.stringify(e.data) }).join('');
    assert.match(push(chunk({ content: 'Checking.' })), /text_delta/);
    assert.equal(push(chunk(tool(0, { name: 'f', arguments: '{}' }, 'a'))), '');
    assert.equal(t.started, true, 'a pending tool call has begun the answer');
    assert.match(push(chunk({}, 'tool_calls')), /content_block_stop[\s\S]*"tool_use"/);
  });

  it('a refusal stops with refusal, as the JSON translator says', () => {
    const { message } = run([
      chunk({ role: 'assistant', content: null, refusal: '' }),
      chunk({ refusal: "I can't help with that." }),
      chunk({}, 'stop'),
      DONE,
    ]);
    assert.deepEqual(message.content, [{ type: 'text', text: "I can't help with that." }]);
    assert.equal(message.stopReason, 'refusal');
    const plain = run([
      chunk({ role: 'assistant', content: '', refusal: null }),
      chunk({ content: 'hi' }, 'stop'),
      DONE,
    ]);
    assert.equal(plain.message.stopReason, 'end_turn');
  });

  it('ignores other choices of an n > 1 stream', () => {
    const { message } = run([
      chunk({ content: 'one' }),
      chunk({ content: 'two' }, null, 1),
      chunk({}, 'stop'),
      DONE,
    ]);
    assert.deepEqual(message.content, [{ type: 'text', text: 'one' }]);
  });

  it('maps an in-band error to an Anthropic error event and stops', () => {
    const { t, message } = run([
      chunk({ content: 'a' }),
      { data: { error: { message: 'rate limited', code: 'rate_limit_exceeded' } } },
      DONE,
    ]);
    assert.deepEqual(message.error, { type: 'rate_limit_error', message: 'rate limited' });
    assert.equal(message.stopped, false);
    assert.equal(t.completed, false);
  });

  it('a cut stream ends with an error event; a stream with only [DONE] is still a valid message', () => {
    assert.deepEqual(run([chunk({ content: 'a' })]).message.error, {
      type: 'api_error',
      message: 'upstream stream ended before the answer was complete',
    });
    const empty = run([DONE]).message;
    assert.deepEqual([empty.started, empty.stopped, empty.content], [true, true, []]);
  });
});

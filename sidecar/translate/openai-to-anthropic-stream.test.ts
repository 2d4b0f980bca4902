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

  it('counts a fragment for an already closed tool call as malformed', () => {
    const { t, message } = run([
      chunk(tool(0, { name: 'f', arguments: '{}' }, 'a')),
      chunk(tool(1, { name: 'g', arguments: '{}' }, 'b')),
      chunk(tool(0, { arguments: 'late' })),
      chunk({}, 'tool_calls'),
      DONE,
    ]);
    assert.equal(t.malformed, 1);
    assert.equal(message.content.length, 2);
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

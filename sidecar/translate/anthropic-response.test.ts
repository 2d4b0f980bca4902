import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAiResponseFromAnthropic } from './anthropic-response.ts';

const message = (
  content: unknown[],
  stop_reason: string,
  usage: unknown = { input_tokens: 5, output_tokens: 2 },
) => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content,
  stop_reason,
  stop_sequence: null,
  usage,
});

describe('openAiResponseFromAnthropic', () => {
  it('concatenates text blocks and reports id, model and created', () => {
    const out = openAiResponseFromAnthropic(
      message(
        [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
        'end_turn',
      ),
      {
        created: 42,
      },
    );
    assert.deepEqual(
      [out.id, out.model, out.created, out.choices[0]?.message.content],
      ['msg_1', 'claude-sonnet-4-5', 42, 'ab'],
    );
    const renamed = openAiResponseFromAnthropic(message([], 'end_turn'), {
      created: 1,
      id: 'chatcmpl-x',
      model: 'smart',
    });
    assert.deepEqual([renamed.id, renamed.model], ['chatcmpl-x', 'smart']);
  });

  it('maps every stop reason', () => {
    const cases = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['pause_turn', 'stop'],
      ['max_tokens', 'length'],
      ['model_context_window_exceeded', 'length'],
      ['refusal', 'content_filter'],
      ['something_new', 'stop'],
    ];
    for (const [reason, finish] of cases) {
      const out = openAiResponseFromAnthropic(message([{ type: 'text', text: 'x' }], reason ?? ''), {
        created: 0,
      });
      assert.equal(out.choices[0]?.finish_reason, finish, reason);
    }
  });

  it('turns tool_use into tool_calls with arguments as a JSON string', () => {
    const out = openAiResponseFromAnthropic(
      message([{ type: 'tool_use', id: 'toolu_1', name: 'f', input: { q: 'x', n: [1, 2] } }], 'tool_use'),
      { created: 0 },
    );
    assert.deepEqual(out.choices[0], {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{"q":"x","n":[1,2]}' } },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
  });

  it('counts cache reads and writes as prompt tokens, cache reads as cached', () => {
    const usage = {
      input_tokens: 10,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 1000,
      output_tokens: 7,
    };
    const out = openAiResponseFromAnthropic(message([], 'end_turn', usage), { created: 0 });
    assert.deepEqual(out.usage, {
      prompt_tokens: 1110,
      completion_tokens: 7,
      total_tokens: 1117,
      prompt_tokens_details: { cached_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('never throws on garbage and omits usage it cannot read', () => {
    for (const junk of [
      null,
      42,
      'x',
      [],
      { content: 'nope', usage: 'none' },
      { content: [null, 1, { type: 'tool_use' }] },
    ]) {
      const out = openAiResponseFromAnthropic(junk, { created: 0 });
      assert.equal(out.object, 'chat.completion');
      assert.equal(out.choices.length, 1);
    }
    assert.equal(openAiResponseFromAnthropic({}, { created: 0 }).usage, undefined);
  });
});

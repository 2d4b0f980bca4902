import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anthropicResponseFromOpenAi } from './openai-response.ts';

const completion = (message: Record<string, unknown>, finish_reason: string, usage?: unknown) => ({
  id: 'chatcmpl-9',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o',
  choices: [
    { index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason },
  ],
  ...(usage !== undefined && { usage }),
});

describe('anthropicResponseFromOpenAi', () => {
  it('reports the requested model and an msg_ id', () => {
    const out = anthropicResponseFromOpenAi(completion({ content: 'hi' }, 'stop'), {
      requestedModel: 'claude-x',
    });
    assert.deepEqual(
      [out.id, out.model, out.type, out.role],
      ['msg_chatcmpl-9', 'claude-x', 'message', 'assistant'],
    );
    assert.deepEqual(out.content, [{ type: 'text', text: 'hi' }]);
  });

  it('maps finish reasons to stop reasons', () => {
    const cases = [
      ['stop', 'end_turn'],
      ['length', 'max_tokens'],
      ['tool_calls', 'tool_use'],
      ['function_call', 'tool_use'],
      ['content_filter', 'refusal'],
    ];
    for (const [finish, stop] of cases) {
      assert.equal(
        anthropicResponseFromOpenAi(completion({ content: 'x' }, finish ?? ''), { requestedModel: 'm' })
          .stop_reason,
        stop,
      );
    }
  });

  it('parses tool arguments into input; unparseable arguments become {}', () => {
    const tool_calls = [
      { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":[1]}' } },
      { id: 'call_2', type: 'function', function: { name: 'g', arguments: '{"trunc' } },
    ];
    const out = anthropicResponseFromOpenAi(completion({ content: 'Sure.', tool_calls }, 'tool_calls'), {
      requestedModel: 'm',
    });
    assert.deepEqual(out.content, [
      { type: 'text', text: 'Sure.' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: { a: [1] } },
      { type: 'tool_use', id: 'call_2', name: 'g', input: {} },
    ]);
  });

  it('splits cached tokens out of input_tokens', () => {
    const usage = {
      prompt_tokens: 1000,
      completion_tokens: 20,
      prompt_tokens_details: { cached_tokens: 900 },
    };
    assert.deepEqual(
      anthropicResponseFromOpenAi(completion({ content: 'x' }, 'stop', usage), { requestedModel: 'm' }).usage,
      {
        input_tokens: 100,
        output_tokens: 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 900,
      },
    );
  });

  it('never throws on garbage', () => {
    for (const junk of [
      null,
      1,
      'x',
      { choices: [null] },
      { choices: [{ message: { tool_calls: [1, null] } }] },
    ]) {
      assert.equal(anthropicResponseFromOpenAi(junk, { requestedModel: 'm' }).type, 'message');
    }
  });
});

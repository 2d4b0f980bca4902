import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAiRequestFromAnthropic } from './anthropic-inbound-request.ts';
import { InvalidRequest, UnsupportedParameter } from './errors.ts';

const base = { model: 'claude-sonnet-4-5', max_tokens: 256 };
const translate = (body: Record<string, unknown>) =>
  openAiRequestFromAnthropic(
    { ...base, messages: [{ role: 'user', content: 'hi' }], ...body },
    { model: 'gpt-4o' },
  );

describe('openAiRequestFromAnthropic', () => {
  it('maps the basics: model, system string, max_tokens, sampling, stop, user', () => {
    assert.deepEqual(
      translate({
        system: 'Be terse.',
        temperature: 0.5,
        top_p: 0.9,
        top_k: 5,
        stop_sequences: ['X'],
        metadata: { user_id: 'u' },
      }),
      {
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'hi' },
        ],
        max_completion_tokens: 256,
        temperature: 0.5,
        top_p: 0.9,
        stop: ['X'],
        user: 'u',
      },
    );
  });

  it('keeps the caller model when no routed model is given', () => {
    const body = openAiRequestFromAnthropic({ ...base, messages: [] });
    assert.equal(body.model, 'claude-sonnet-4-5');
  });

  it('asks for usage on streams, so message_delta can report it', () => {
    const body = translate({ stream: true });
    assert.deepEqual([body.stream, body.stream_options], [true, { include_usage: true }]);
  });

  it('puts tool results before the rest of the user turn and marks errors', () => {
    const messages = [
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'and?' },
          { type: 'tool_result', tool_use_id: 't1', content: 'boom', is_error: true },
        ],
      },
    ];
    assert.deepEqual(translate({ messages }).messages, [
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: 'Error: boom' },
      { role: 'user', content: 'and?' },
    ]);
  });

  it('moves images returned by a tool into the following user message', () => {
    const image = { type: 'image', source: { type: 'url', url: 'https://x/y.png' } };
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'shot' }, image] },
        ],
      },
    ];
    assert.deepEqual(translate({ messages }).messages, [
      { role: 'tool', tool_call_id: 't1', content: 'shot' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
    ]);
  });

  it('drops thinking blocks and keeps several text blocks as parts', () => {
    const messages = [
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'redacted_thinking', data: 'x' },
          { type: 'text', text: 'A' },
          { type: 'text', text: 'B' },
        ],
      },
    ];
    assert.deepEqual(translate({ messages }).messages, [
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'A' },
          { type: 'text', text: 'B' },
        ],
      },
    ]);
  });

  it('maps tool_choice forms and disable_parallel_tool_use', () => {
    const tools = [{ name: 'f', input_schema: { type: 'object', properties: {} } }];
    const cases: [unknown, unknown][] = [
      [{ type: 'auto' }, 'auto'],
      [{ type: 'any' }, 'required'],
      [{ type: 'none' }, 'none'],
      [
        { type: 'tool', name: 'f' },
        { type: 'function', function: { name: 'f' } },
      ],
    ];
    for (const [choice, expected] of cases)
      assert.deepEqual(translate({ tools, tool_choice: choice }).tool_choice, expected);
    const parallel = translate({ tools, tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    assert.equal(parallel.parallel_tool_calls, false);
    assert.equal(
      translate({ tool_choice: { type: 'any' } }).tool_choice,
      undefined,
      'no tool_choice without tools',
    );
  });

  it('maps output_config.format and the beta output_format alike to response_format json_schema', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false };
    const expected = { type: 'json_schema', json_schema: { name: 'response', schema, strict: true } };
    const format = { type: 'json_schema', schema };
    assert.deepEqual(translate({ output_config: { format } }).response_format, expected);
    assert.deepEqual(translate({ output_format: format }).response_format, expected);
    assert.deepEqual(
      translate({ output_config: { effort: 'low' }, output_format: format }).response_format,
      expected,
    );
    assert.throws(
      () => translate({ output_format: { type: 'json_object' } }),
      (e: unknown) => e instanceof InvalidRequest && e.param === 'output_format',
    );
    assert.throws(
      () => translate({ output_format: format, output_config: { format } }),
      (e: unknown) => e instanceof InvalidRequest && e.param === 'output_format',
    );
  });

  it('refuses server tools, hosted features and malformed input', () => {
    assert.throws(
      () => translate({ tools: [{ type: 'bash_20250124', name: 'bash' }] }),
      UnsupportedParameter,
    );
    assert.throws(
      () => translate({ container: 'c1' }),
      (e: unknown) => e instanceof UnsupportedParameter && e.param === 'container',
    );
    assert.throws(() => translate({ messages: [{ role: 'system', content: 'x' }] }), InvalidRequest);
    assert.throws(
      () => translate({ messages: [{ role: 'user', content: [{ type: 'server_tool_use' }] }] }),
      UnsupportedParameter,
    );
    assert.throws(() => openAiRequestFromAnthropic('nope'), InvalidRequest);
  });

  it('refuses wrongly typed values with InvalidRequest naming them, never a crash or a silent drop', () => {
    const tools = [{ name: 'f', input_schema: { type: 'object', properties: {} } }];
    const refused = (body: Record<string, unknown>, param: string) =>
      assert.throws(
        () => translate(body),
        (e: unknown) => e instanceof InvalidRequest && e.param === param && e.status === 400,
        param,
      );
    refused({ tools, tool_choice: { type: { toString: 1 } } }, 'tool_choice.type');
    refused({ tools, tool_choice: { type: 'constructor' } }, 'tool_choice.type');
    refused({ tools, tool_choice: { type: 'tool' } }, 'tool_choice.name');
    const image = (source: unknown) => ({
      messages: [{ role: 'user', content: [{ type: 'image', source }] }],
    });
    refused(image({ type: { toString: 1 } }), 'messages[0].content[0].source.type');
    refused(image('https://x/y.png'), 'messages[0].content[0].source');
  });

  it('says truthfully where a refused parameter was routed: any provider not speaking Anthropic', () => {
    const where = 'is not supported when routed to a provider that does not speak Anthropic Messages: ';
    const image = { type: 'image', source: { type: 'file', file_id: 'f1' } };
    for (const [body, param] of [
      [{ container: 'c1' }, 'container'],
      [{ tools: [{ type: 'bash_20250124', name: 'bash' }] }, 'tools[0].type'],
      [{ messages: [{ role: 'user', content: [image] }] }, 'messages[0].content[0].source'],
    ] as const)
      assert.throws(
        () => translate(body),
        (e: unknown) =>
          e instanceof UnsupportedParameter && e.message.startsWith(`parameter '${param}' ${where}`),
      );
  });
});

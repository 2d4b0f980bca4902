import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anthropicRequestFromOpenAi } from './anthropic-request.ts';
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { JSON_ANSWER_TOOL } from './json-answer-tool.ts';

const user = (content: unknown) => ({ role: 'user', content });
const translate = (body: Record<string, unknown>, maxTokensDefault?: number) =>
  anthropicRequestFromOpenAi(
    { model: 'smart', messages: [user('hi')], ...body },
    { model: 'claude', maxTokensDefault },
  );

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe('anthropicRequestFromOpenAi: parameters', () => {
  it('requires max_tokens: caller value, then the model default, then 4096', () => {
    assert.equal(translate({ max_completion_tokens: 10, max_tokens: 20 }).max_tokens, 10);
    assert.equal(translate({ max_tokens: 20 }).max_tokens, 20);
    assert.equal(translate({}, 16384).max_tokens, 16384);
    assert.equal(translate({}).max_tokens, 4096);
  });

  it('clamps temperature to [0, 1] and sends top_p only without temperature', () => {
    assert.deepEqual(
      [translate({ temperature: 1.7, top_p: 0.5 }).temperature, translate({ temperature: 1.7 }).top_p],
      [1, undefined],
    );
    assert.equal(translate({ top_p: 0.5 }).top_p, 0.5);
  });

  it('maps stop, stream and user; drops stream_options and sampling-only parameters', () => {
    const body = translate({
      stop: 'END',
      stream: true,
      stream_options: { include_usage: true },
      user: 'u-1',
      seed: 1,
      presence_penalty: 1,
      frequency_penalty: 1,
      logit_bias: { '1': 2 },
      logprobs: true,
      n: 1,
    });
    assert.deepEqual(body, {
      model: 'claude',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      stop_sequences: ['END'],
      stream: true,
      metadata: { user_id: 'u-1' },
    });
  });

  it('refuses n > 1 with UnsupportedParameter naming n', () => {
    assert.throws(
      () => translate({ n: 2 }),
      (e: unknown) => e instanceof UnsupportedParameter && e.param === 'n' && e.status === 400,
    );
  });

  it('refuses wrongly typed scalars instead of silently ignoring them', () => {
    for (const [key, value] of [
      ['temperature', '0.2'],
      ['max_tokens', 0],
      ['stop', [1]],
      ['user', 5],
    ] as const) {
      assert.throws(
        () => translate({ [key]: value }),
        (e: unknown) => e instanceof InvalidRequest && e.param === key,
      );
    }
  });
});

describe('anthropicRequestFromOpenAi: tools and JSON mode', () => {
  it('maps tools and every tool_choice form', () => {
    const choices: [unknown, unknown][] = [
      ['auto', { type: 'auto' }],
      ['none', { type: 'none' }],
      ['required', { type: 'any' }],
      [
        { type: 'function', function: { name: 'get_weather' } },
        { type: 'tool', name: 'get_weather' },
      ],
    ];
    for (const [choice, expected] of choices) {
      const body = translate({ tools: [weatherTool], tool_choice: choice });
      assert.deepEqual(body.tool_choice, expected);
    }
    assert.deepEqual(translate({ tools: [weatherTool] }).tools, [
      {
        name: 'get_weather',
        description: 'Weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ]);
  });

  it('gives parameterless tools an empty object schema and omits tool_choice without tools', () => {
    const body = translate({ tools: [{ type: 'function', function: { name: 'now' } }] });
    assert.deepEqual(body.tools, [{ name: 'now', input_schema: { type: 'object', properties: {} } }]);
    assert.equal(translate({ tool_choice: 'required' }).tool_choice, undefined);
  });

  it('turns parallel_tool_calls: false into disable_parallel_tool_use', () => {
    assert.deepEqual(translate({ tools: [weatherTool], parallel_tool_calls: false }).tool_choice, {
      type: 'auto',
      disable_parallel_tool_use: true,
    });
  });

  it('carries json_schema as the forced answer tool', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const body = translate({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } });
    const tools = body.tools as { name: string; input_schema: unknown }[];
    assert.equal(tools[0]?.name, JSON_ANSWER_TOOL);
    assert.deepEqual(tools[0]?.input_schema, schema);
    assert.deepEqual(body.tool_choice, { type: 'tool', name: JSON_ANSWER_TOOL });
  });

  it('carries json_object as an answer tool taking any object', () => {
    const body = translate({ response_format: { type: 'json_object' } });
    assert.deepEqual((body.tools as { input_schema: unknown }[])[0]?.input_schema, { type: 'object' });
  });

  it('with caller tools, JSON mode makes the model call some tool (any) or the named one', () => {
    const json = { type: 'json_object' };
    assert.deepEqual(translate({ tools: [weatherTool], response_format: json }).tool_choice, { type: 'any' });
    const named = { type: 'function', function: { name: 'get_weather' } };
    assert.deepEqual(
      translate({ tools: [weatherTool], tool_choice: named, response_format: json }).tool_choice,
      {
        type: 'tool',
        name: 'get_weather',
      },
    );
    const none = translate({ tools: [weatherTool], tool_choice: 'none', response_format: json });
    assert.deepEqual(
      (none.tools as { name: string }[]).map((t) => t.name),
      [JSON_ANSWER_TOOL],
    );
  });

  it('refuses the reserved tool name, non-function tools and non-object JSON schemas', () => {
    const reserved = { type: 'function', function: { name: JSON_ANSWER_TOOL } };
    assert.throws(() => translate({ tools: [reserved] }), InvalidRequest);
    assert.throws(
      () => translate({ tools: [{ type: 'custom', custom: { name: 'x' } }] }),
      UnsupportedParameter,
    );
    const array = { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'array' } } };
    assert.throws(() => translate({ response_format: array }), InvalidRequest);
  });
});

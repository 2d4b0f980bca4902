import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { FOREIGN_THOUGHT_SIGNATURE } from './gemini-contents.ts';
import { geminiRequestFromOpenAi } from './gemini-request.ts';

const user = (content: unknown) => ({ role: 'user', content });
const translate = (body: Record<string, unknown>, model = 'gemini-2.5-flash') =>
  geminiRequestFromOpenAi({ model: 'smart', messages: [user('hi')], ...body }, { model });

describe('geminiRequestFromOpenAi', () => {
  it('picks the generate or the SSE stream path', () => {
    assert.equal(translate({}).path, 'models/gemini-2.5-flash:generateContent');
    assert.equal(translate({ stream: true }).path, 'models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    assert.equal(translate({}, 'models/gemini-2.5-pro').path, 'models/gemini-2.5-pro:generateContent');
  });

  it('uses roles user/model, systemInstruction, inlineData and fileData', () => {
    const { body } = translate({
      messages: [
        { role: 'system', content: 'S' },
        user([
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBO' } },
          { type: 'image_url', image_url: { url: 'https://x.test/cat.webp?size=2' } },
        ]),
        { role: 'assistant', content: 'a cat' },
      ],
    });
    assert.deepEqual(body, {
      systemInstruction: { parts: [{ text: 'S' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'look' },
            { inlineData: { mimeType: 'image/png', data: 'iVBO' } },
            { fileData: { mimeType: 'image/webp', fileUri: 'https://x.test/cat.webp?size=2' } },
          ],
        },
        { role: 'model', parts: [{ text: 'a cat' }] },
      ],
    });
  });

  it('maps tool calls to functionCall and results to functionResponse, named and ordered by call id', () => {
    const { body } = translate({
      messages: [
        user('q'),
        {
          role: 'assistant',
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
            { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'b', content: 'plain text' },
        { role: 'tool', tool_call_id: 'a', content: '{"ok":true}' },
      ],
    });
    assert.deepEqual(body.contents, [
      { role: 'user', parts: [{ text: 'q' }] },
      {
        role: 'model',
        parts: [
          {
            functionCall: { id: 'a', name: 'f', args: { x: 1 } },
            thoughtSignature: FOREIGN_THOUGHT_SIGNATURE,
          },
          { functionCall: { id: 'b', name: 'g', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { id: 'a', name: 'f', response: { ok: true } } },
          { functionResponse: { id: 'b', name: 'g', response: { result: 'plain text' } } },
        ],
      },
    ]);
  });

  it('gives two calls of one function their own results when they are answered out of order', () => {
    const call = (id: string, city: string) => ({
      id,
      type: 'function',
      function: { name: 'weather', arguments: JSON.stringify({ city }) },
    });
    const { body } = translate({
      messages: [
        user('Paris and Oslo?'),
        { role: 'assistant', tool_calls: [call('c1', 'Paris'), call('c2', 'Oslo')] },
        { role: 'tool', tool_call_id: 'c2', content: '{"city":"Oslo","t":-3}' },
        { role: 'tool', tool_call_id: 'c1', content: '{"city":"Paris","t":14}' },
        user('thanks'),
      ],
    });
    const contents = body.contents as { role: string; parts: Record<string, unknown>[] }[];
    assert.deepEqual(contents[2], {
      role: 'user',
      parts: [
        { functionResponse: { id: 'c1', name: 'weather', response: { city: 'Paris', t: 14 } } },
        { functionResponse: { id: 'c2', name: 'weather', response: { city: 'Oslo', t: -3 } } },
        { text: 'thanks' },
      ],
    });
  });

  it('carries images a tool returned into the user turn, after the function responses', () => {
    const { body } = translate({
      messages: [
        user('screenshot please'),
        {
          role: 'assistant',
          tool_calls: [{ id: 's', type: 'function', function: { name: 'shot', arguments: '{}' } }],
        },
        {
          role: 'tool',
          tool_call_id: 's',
          content: [
            { type: 'text', text: 'here' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBO' } },
            { type: 'image_url', image_url: { url: 'https://x.test/b.gif' } },
          ],
        },
      ],
    });
    const contents = body.contents as { role: string; parts: Record<string, unknown>[] }[];
    assert.deepEqual(contents[2], {
      role: 'user',
      parts: [
        { functionResponse: { id: 's', name: 'shot', response: { result: 'here' } } },
        { inlineData: { mimeType: 'image/png', data: 'iVBO' } },
        { fileData: { mimeType: 'image/gif', fileUri: 'https://x.test/b.gif' } },
      ],
    });
  });

  it('refuses a tool result whose id matches no earlier call', () => {
    const messages = [user('q'), { role: 'tool', tool_call_id: 'ghost', content: 'x' }];
    assert.throws(
      () => translate({ messages }),
      (e: unknown) => e instanceof InvalidRequest && e.param === 'messages[1].tool_call_id',
    );
  });

  it('maps tools, tool_choice and omits empty parameter schemas', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'f',
          description: 'F',
          parameters: { type: 'object', properties: { a: { type: 'string' } } },
        },
      },
      { type: 'function', function: { name: 'g', parameters: { type: 'object', properties: {} } } },
    ];
    const { body } = translate({ tools, tool_choice: { type: 'function', function: { name: 'f' } } });
    assert.deepEqual(body.tools, [
      {
        functionDeclarations: [
          {
            name: 'f',
            description: 'F',
            parameters: { type: 'object', properties: { a: { type: 'string' } } },
          },
          { name: 'g' },
        ],
      },
    ]);
    assert.deepEqual(body.toolConfig, {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] },
    });
    for (const [choice, mode] of [
      ['auto', 'AUTO'],
      ['none', 'NONE'],
      ['required', 'ANY'],
    ] as const) {
      assert.deepEqual(translate({ tools, tool_choice: choice }).body.toolConfig, {
        functionCallingConfig: { mode },
      });
    }
  });

  it('maps generation parameters, n included', () => {
    const { body } = translate({
      max_tokens: 50,
      temperature: 1.4,
      top_p: 0.8,
      stop: ['a', 'b'],
      n: 3,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      seed: 9,
      logprobs: true,
      user: 'dropped',
    });
    assert.deepEqual(body.generationConfig, {
      maxOutputTokens: 50,
      temperature: 1.4,
      topP: 0.8,
      stopSequences: ['a', 'b'],
      candidateCount: 3,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      seed: 9,
    });
  });

  it('JSON modes: responseMimeType, plus a reduced responseSchema for json_schema', () => {
    assert.deepEqual(translate({ response_format: { type: 'json_object' } }).body.generationConfig, {
      responseMimeType: 'application/json',
    });
    const schema = {
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: false,
      $schema: 'x',
    };
    const config = translate({ response_format: { type: 'json_schema', json_schema: { name: 'n', schema } } })
      .body.generationConfig;
    assert.deepEqual(config, {
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { a: { type: 'string' } } },
    });
  });

  it('tools with a JSON response: sent together to Gemini 3, refused for earlier models', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    for (const response_format of [
      { type: 'json_object' },
      { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object' } } },
    ]) {
      for (const model of ['gemini-2.5-flash', 'models/gemini-2.0-flash', 'gemini-flash-latest']) {
        assert.throws(
          () => translate({ tools, response_format }, model),
          (e: unknown) => e instanceof UnsupportedParameter && e.param === 'response_format',
          model,
        );
      }
      for (const model of ['gemini-3-pro-preview', 'gemini-3.1-flash']) {
        const { body } = translate({ tools, response_format }, model);
        assert.ok(body.tools, model);
        assert.equal(
          (body.generationConfig as { responseMimeType?: unknown }).responseMimeType,
          'application/json',
        );
      }
    }
    assert.doesNotThrow(() => translate({ tools: [], response_format: { type: 'json_object' } }));
  });

  it('refuses a request whose $ref inlining would blow up, across all its schemas', () => {
    // 5 levels of 10 shared properties each: 10^5 nodes once inlined, from a few hundred bytes.
    const $defs: Record<string, unknown> = { L5: { type: 'string' } };
    for (let level = 4; level >= 0; level--) {
      const properties = Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`p${i}`, { $ref: `#/$defs/L${level + 1}` }]),
      );
      $defs[`L${level}`] = { type: 'object', properties };
    }
    const tool = (name: string, parameters: unknown) => ({
      type: 'function',
      function: { name, parameters },
    });
    assert.throws(
      () => translate({ tools: [tool('dag', { $ref: '#/$defs/L0', $defs })] }),
      (e: unknown) => e instanceof UnsupportedParameter && e.param === 'tools[0].function.parameters',
    );
    // 3 levels (1,110 nodes) pass alone, but 10 such tools share one budget per request.
    const small = { ...$defs, L3: { type: 'string' } };
    const fine = tool('ok', { $ref: '#/$defs/L0', $defs: small });
    assert.doesNotThrow(() => translate({ tools: [fine] }));
    assert.throws(
      () => translate({ tools: Array.from({ length: 10 }, () => fine) }),
      (e: unknown) => e instanceof UnsupportedParameter && e.param === 'tools[9].function.parameters',
    );
  });

  it('refuses audio output and legacy functions', () => {
    assert.throws(() => translate({ audio: { voice: 'alloy', format: 'wav' } }), UnsupportedParameter);
    assert.throws(() => translate({ functions: [{ name: 'f' }] }), UnsupportedParameter);
  });
});

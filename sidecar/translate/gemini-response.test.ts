import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedAnswer } from './errors.ts';
import { openAiResponseFromGemini } from './gemini-response.ts';

const options = { model: 'gemini-2.5-flash', id: 'chatcmpl-1', created: 7 };
const candidate = (parts: unknown[], finishReason = 'STOP', index = 0) => ({
  content: { role: 'model', parts },
  finishReason,
  index,
});

describe('openAiResponseFromGemini', () => {
  it('one choice per candidate, thought summaries left out', () => {
    const out = openAiResponseFromGemini(
      {
        candidates: [
          candidate([{ text: 'plan', thought: true }, { text: 'A' }]),
          candidate([{ text: 'B' }], 'STOP', 1),
        ],
      },
      options,
    );
    assert.deepEqual(
      out.choices.map((c) => [c.index, c.message.content, c.finish_reason]),
      [
        [0, 'A', 'stop'],
        [1, 'B', 'stop'],
      ],
    );
  });

  it('maps finish reasons, a functionCall making STOP into tool_calls', () => {
    const cases: [unknown[], string, string][] = [
      [[{ text: 'x' }], 'MAX_TOKENS', 'length'],
      [[{ text: 'x' }], 'RECITATION', 'content_filter'],
      [[{ text: 'x' }], 'BLOCKLIST', 'content_filter'],
      [[{ text: 'x' }], 'PROHIBITED_CONTENT', 'content_filter'],
      [[{ text: 'x' }], 'SPII', 'content_filter'],
      [[{ text: 'x' }], 'IMAGE_PROHIBITED_CONTENT', 'content_filter'],
      [[{ text: 'x' }], 'FINISH_REASON_UNSPECIFIED', 'stop'],
      [[{ text: 'x' }], 'A_REASON_ADDED_LATER', 'stop'],
      [[{ functionCall: { name: 'f', args: {} } }], 'STOP', 'tool_calls'],
    ];
    for (const [parts, reason, finish] of cases) {
      assert.equal(
        openAiResponseFromGemini({ candidates: [candidate(parts, reason)] }, options).choices[0]
          ?.finish_reason,
        finish,
        reason,
      );
    }
  });

  it('a failed candidate (malformed or unexpected tool call, OTHER, …) is a FailedAnswer, not a stop', () => {
    for (const reason of [
      'MALFORMED_FUNCTION_CALL',
      'UNEXPECTED_TOOL_CALL',
      'TOO_MANY_TOOL_CALLS',
      'OTHER',
      'LANGUAGE',
    ]) {
      assert.throws(
        () => openAiResponseFromGemini({ candidates: [candidate([], reason)] }, options),
        (e: unknown) => e instanceof FailedAnswer && e.message.startsWith(`Gemini stopped with ${reason}:`),
        reason,
      );
    }
    const second = {
      candidates: [candidate([{ text: 'ok' }]), { ...candidate([]), index: 1, finishReason: 'OTHER' }],
    };
    assert.throws(() => openAiResponseFromGemini(second, options), FailedAnswer, 'any candidate');
  });

  it('uses the functionCall id when Gemini sends one and the generator otherwise', () => {
    const parts = [
      { functionCall: { id: 'fc-9', name: 'f', args: { a: 1 } } },
      { functionCall: { name: 'g' } },
    ];
    const out = openAiResponseFromGemini(
      { candidates: [candidate(parts)] },
      { ...options, toolCallId: (n) => `gen-${n}` },
    );
    assert.deepEqual(out.choices[0]?.message.tool_calls, [
      { id: 'fc-9', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
      { id: 'gen-0', type: 'function', function: { name: 'g', arguments: '{}' } },
    ]);
  });

  it('bills thoughts as output and reports cached input', () => {
    const usageMetadata = {
      promptTokenCount: 100,
      candidatesTokenCount: 10,
      thoughtsTokenCount: 40,
      cachedContentTokenCount: 60,
    };
    assert.deepEqual(
      openAiResponseFromGemini({ candidates: [candidate([{ text: 'x' }])], usageMetadata }, options).usage,
      {
        prompt_tokens: 100,
        completion_tokens: 50,
        total_tokens: 150,
        prompt_tokens_details: { cached_tokens: 60 },
        completion_tokens_details: { reasoning_tokens: 40 },
      },
    );
  });

  it('never throws on garbage', () => {
    for (const junk of [
      null,
      'x',
      { candidates: 'no' },
      { candidates: [null, { content: { parts: [7] } }] },
    ]) {
      assert.equal(openAiResponseFromGemini(junk, options).object, 'chat.completion');
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GeminiToOpenAiStream } from './gemini-to-openai-stream.ts';
import { assembleOpenAi } from './testing/assemble-openai.ts';
import { parseFrames, runThroughPipe, type InputEvent } from './testing/frames.ts';

const options = { id: 'chatcmpl-g', created: 3, model: 'gemini-2.5-flash' };
const chunk = (parts: unknown[], extra: Record<string, unknown> = {}, index = 0): InputEvent => ({
  data: {
    candidates: [{ content: { role: 'model', parts }, index, ...extra }],
    modelVersion: 'gemini-2.5-flash',
  },
});

function run(
  events: InputEvent[],
  more: Partial<ConstructorParameters<typeof GeminiToOpenAiStream>[0]> = {},
) {
  const t = new GeminiToOpenAiStream({ ...options, ...more });
  const frames = parseFrames(runThroughPipe(t, events));
  return { t, frames, answer: assembleOpenAi(frames) };
}

describe('GeminiToOpenAiStream', () => {
  it('streams text; the finish chunk completes it and end() writes [DONE]', () => {
    const { t, answer } = run([chunk([{ text: 'Hel' }]), chunk([{ text: 'lo' }], { finishReason: 'STOP' })]);
    assert.deepEqual(answer.choices, [{ content: 'Hello', toolCalls: [], finishReason: 'stop' }]);
    assert.deepEqual([answer.done, t.completed, t.finishReason], [true, true, 'stop']);
  });

  it('emits a whole functionCall as one tool call delta with generated ids', () => {
    const { answer } = run(
      [
        chunk([{ functionCall: { name: 'f', args: { a: 1 } } }, { functionCall: { name: 'g', args: {} } }], {
          finishReason: 'STOP',
        }),
      ],
      { toolCallId: (n) => `id${n}` },
    );
    assert.deepEqual(answer.choices[0], {
      content: '',
      toolCalls: [
        { id: 'id0', name: 'f', arguments: '{"a":1}' },
        { id: 'id1', name: 'g', arguments: '{}' },
      ],
      finishReason: 'tool_calls',
    });
  });

  it('takes usage from the last chunk that has it, after the finish too', () => {
    const { t, answer } = run(
      [
        chunk([{ text: 'x' }], { finishReason: 'STOP' }),
        { data: { usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, thoughtsTokenCount: 3 } } },
      ],
      { includeUsage: true },
    );
    assert.deepEqual(t.usage, { inputTokens: 4, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 3 });
    assert.deepEqual((answer.usage as { completion_tokens: number }).completion_tokens, 5);
  });

  it('keeps candidates apart and completes when every candidate finished', () => {
    const t = new GeminiToOpenAiStream(options);
    const push = (data: unknown) => t.push({ data: JSON.stringify(data) });
    push(chunk([{ text: 'a' }], {}, 0).data);
    push(chunk([{ text: 'b' }], { finishReason: 'STOP' }, 1).data);
    assert.equal(t.completed, false);
    push(chunk([{ text: '!' }], { finishReason: 'MAX_TOKENS' }, 0).data);
    const answer = assembleOpenAi(parseFrames([...t.end()]));
    assert.equal(t.completed, true);
    assert.equal(t.finishReason, 'length', 'the finish reason reported is the first choice’s');
    assert.equal(answer.done, true);
  });

  it('a failed candidate (MALFORMED_FUNCTION_CALL, OTHER, …) ends with an in-band error, not a stop', () => {
    for (const reason of ['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'OTHER']) {
      const { t, answer } = run([chunk([{ text: 'Let me call' }]), chunk([], { finishReason: reason })]);
      assert.equal(t.finishReason, undefined, reason);
      assert.equal(t.completed, false, reason);
      assert.match(t.error ?? '', new RegExp(`^Gemini stopped with ${reason}: `));
      assert.deepEqual(answer.error, {
        message: t.error,
        type: 'api_error',
        param: null,
        code: 'upstream_error',
      });
      assert.equal(answer.done, false, 'no [DONE] after the error');
    }
  });

  it('safety-like reasons finish with content_filter', () => {
    for (const reason of ['SAFETY', 'RECITATION', 'SPII', 'IMAGE_SAFETY']) {
      const { t } = run([chunk([{ text: 'x' }], { finishReason: reason })]);
      assert.equal(t.finishReason, 'content_filter', reason);
    }
  });

  it('a blocked prompt finishes with content_filter', () => {
    const { answer } = run([{ data: { promptFeedback: { blockReason: 'OTHER' } } }]);
    assert.equal(answer.choices[0]?.finishReason, 'content_filter');
  });

  it('an error chunk becomes an in-band error; a cut stream too', () => {
    const failed = run([
      chunk([{ text: 'a' }]),
      { data: { error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' } } },
    ]);
    assert.deepEqual(failed.answer.error, {
      message: 'slow down',
      type: 'rate_limit_error',
      param: null,
      code: 'rate_limit_exceeded',
    });
    const cut = run([chunk([{ text: 'a' }])]);
    assert.equal((cut.answer.error as { code: string }).code, 'upstream_stream_error');
    assert.equal(cut.t.completed, false);
  });
});

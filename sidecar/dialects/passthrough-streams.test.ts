import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sseTranslatorPipe } from '../translate/index.ts';
import { OpenAiPassthroughStream } from './passthrough-streams.ts';

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usageChunk = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5 } })}\n\n`;
const full =
  chunk({ role: 'assistant' }) +
  chunk({ content: 'hi' }) +
  chunk({}, 'stop') +
  usageChunk +
  'data: [DONE]\n\n';

describe('OpenAiPassthroughStream', () => {
  it('forwards events unchanged under any chunk split and sees finish, usage and [DONE]', () => {
    const bytes = Buffer.from(full);
    for (const cut of [1, 7, 50, bytes.length - 3]) {
      const t = new OpenAiPassthroughStream({ callerWantsUsage: true });
      const pipe = sseTranslatorPipe(t);
      const out = [
        ...pipe.feed(bytes.subarray(0, cut)),
        ...pipe.feed(bytes.subarray(cut)),
        ...pipe.end(),
      ].join('');
      assert.equal(out, full);
      assert.equal(t.completed, true);
      assert.equal(t.finishReason, 'stop');
      assert.equal(t.usage?.outputTokens, 5);
    }
  });

  it('drops the usage chunk Turnout asked for when the caller did not', () => {
    const t = new OpenAiPassthroughStream({ callerWantsUsage: false });
    const out = [...sseTranslatorPipe(t).feed(full)].join('');
    assert.doesNotMatch(out, /"usage"/);
    assert.equal(t.usage?.inputTokens, 3, 'still counted for billing');
  });

  it('skips a malformed event instead of passing it to the caller', () => {
    const t = new OpenAiPassthroughStream({ callerWantsUsage: true });
    const out = sseTranslatorPipe(t)
      .feed(chunk({ content: 'a' }) + 'data: {"choices": [ broken\n\n' + chunk({ content: 'b' }))
      .join('');
    assert.equal(t.malformed, 1);
    assert.doesNotMatch(out, /broken/);
    assert.match(out, /"b"/);
  });

  it('completes a stream that finished without [DONE], and reports one cut short', () => {
    const finished = new OpenAiPassthroughStream({ callerWantsUsage: true });
    const p1 = sseTranslatorPipe(finished);
    p1.feed(chunk({ content: 'a' }) + chunk({}, 'stop'));
    assert.deepEqual(p1.end(), ['data: [DONE]\n\n']);
    assert.equal(finished.error, undefined);
    const cut = new OpenAiPassthroughStream({ callerWantsUsage: true });
    const p2 = sseTranslatorPipe(cut);
    p2.feed(chunk({ content: 'a' }));
    assert.match(p2.end().join(''), /upstream_stream_error/);
    assert.match(cut.error ?? '', /ended before the answer was complete/);
  });
});

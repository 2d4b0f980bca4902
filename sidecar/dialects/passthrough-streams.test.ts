import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WireDialect } from '../providers/types.ts';
import { sseTranslatorPipe } from '../translate/index.ts';
import { AnthropicPassthroughStream, OpenAiPassthroughStream } from './passthrough-streams.ts';
import { shaperFor, type CallerDialect } from './shaper.ts';

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

describe('AnthropicPassthroughStream', () => {
  const ev = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const finished =
    ev('message_start', { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 5 } } }) +
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text' } }) +
    ev('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'a' },
    }) +
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }) +
    ev('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: 4 },
    });

  it('closes a finished stream that lost its message_stop with one, not an error', () => {
    const t = new AnthropicPassthroughStream();
    const pipe = sseTranslatorPipe(t);
    assert.equal(pipe.feed(finished).join(''), finished);
    assert.deepEqual(pipe.end(), ['event: message_stop\ndata: {"type":"message_stop"}\n\n']);
    assert.equal(t.error, undefined);
    assert.equal(t.finishReason, 'stop');
    assert.deepEqual(pipe.end(), [], 'ends once');
  });

  it('reports a stream cut before its finish as an error, in-band and to the sidecar', () => {
    const t = new AnthropicPassthroughStream();
    const pipe = sseTranslatorPipe(t);
    pipe.feed(finished.slice(0, finished.indexOf('event: content_block_stop')));
    assert.match(pipe.end().join(''), /^event: error\n.*"api_error".*ended before the answer was complete/);
    assert.match(t.error ?? '', /ended before the answer was complete/);
  });
});

describe('started: the answer has begun, not just the stream', () => {
  const ev = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const chunk = (delta: object) => `data: ${JSON.stringify({ id: 'c', choices: [{ index: 0, delta }] })}\n\n`;
  const upstream: Record<WireDialect | 'responses', { opening: string; content: string }> = {
    openai: {
      opening: chunk({ role: 'assistant', content: '', refusal: null }),
      content: chunk({ content: 'Hi' }),
    },
    anthropic: {
      opening:
        ev('message_start', { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 5 } } }) +
        ev('content_block_start', {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'text', text: '' },
        }) +
        ev('ping', { type: 'ping' }),
      content: ev('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: 'Hi' },
      }),
    },
    gemini: {
      opening: `data: ${JSON.stringify({ usageMetadata: { promptTokenCount: 5 } })}\n\n`,
      content: `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Hi' }] }, index: 0 }] })}\n\n`,
    },
    responses: {
      opening:
        ev('response.created', { type: 'response.created', response: {} }) +
        ev('response.in_progress', { type: 'response.in_progress', response: {} }) +
        // unnamed, as some proxies forward them: the type is read from the data
        `data: ${JSON.stringify({ type: 'response.output_item.added', item: { type: 'message' } })}\n\n` +
        ev('response.content_part.added', { type: 'response.content_part.added', part: {} }),
      content: ev('response.output_text.delta', { type: 'response.output_text.delta', delta: 'Hi' }),
    },
  };
  const ctx = { model: 'm', requestedModel: 'm', callerWantsUsage: false };
  const pairs: [WireDialect | 'responses', CallerDialect][] = [
    ['openai', 'openai'],
    ['openai', 'anthropic'],
    ['anthropic', 'openai'],
    ['anthropic', 'anthropic'],
    ['gemini', 'openai'],
    ['gemini', 'anthropic'],
    ['responses', 'openai'],
  ];
  for (const [wire, caller] of pairs) {
    it(`${wire} upstream, ${caller} caller: opening events do not start it, content does`, () => {
      const responses = wire === 'responses';
      const shaper = shaperFor(responses ? 'openai' : wire, caller, {
        ...ctx,
        ...(responses && { operation: 'responses' as const }),
      });
      const t = shaper.stream();
      const pipe = sseTranslatorPipe(t);
      const { opening, content } = upstream[wire];
      const held = pipe.feed(opening);
      assert.equal(t.started, false, 'after the opening events');
      const answer = pipe.feed(content);
      assert.equal(t.started, true, 'after the first content');
      assert.match([...held, ...answer].join(''), /Hi/);
    });
  }

  it('an event named error is an error whatever its data holds (its frames are then scrubbed of keys)', () => {
    const named = ev('error', { type: 'x', message: 'key k revoked' });
    for (const [wire, caller] of pairs.filter(([w]) => w !== 'gemini')) {
      const responses = wire === 'responses';
      const t = shaperFor(responses ? 'openai' : wire, caller, {
        ...ctx,
        ...(responses && { operation: 'responses' as const }),
      }).stream();
      const pipe = sseTranslatorPipe(t);
      pipe.feed(upstream[wire].opening + upstream[wire].content);
      assert.equal(t.error, undefined);
      pipe.feed(named);
      assert.notEqual(t.error, undefined, `${wire} upstream, ${caller} caller`);
    }
    const nullData = new OpenAiPassthroughStream({ callerWantsUsage: false });
    assert.deepEqual(sseTranslatorPipe(nullData).feed('data: null\n\n'), []);
    assert.equal(nullData.malformed, 1);
  });

  it("fail() blames the upstream unless told otherwise, in each caller's dialect", () => {
    const shutdown = {
      code: 'shutting_down',
      type: 'service_unavailable',
      anthropicType: 'overloaded_error',
    };
    for (const [wire, caller] of pairs) {
      for (const failure of [undefined, shutdown]) {
        const responses = wire === 'responses';
        const t = shaperFor(responses ? 'openai' : wire, caller, {
          ...ctx,
          ...(responses && { operation: 'responses' as const }),
        }).stream();
        const pipe = sseTranslatorPipe(t);
        pipe.feed(upstream[wire].opening + upstream[wire].content);
        const frames = pipe.fail('cut', failure);
        const label = `${wire} upstream, ${caller} caller, ${failure?.code ?? 'default'}`;
        assert.equal(frames.length, 1, label);
        const data = JSON.parse(/^event: error\ndata: (.*)\n\n$/.exec(frames[0] ?? '')?.[1] ?? 'null') as {
          code?: string;
          error?: { code?: string; type?: string };
        };
        if (responses) assert.equal(data.code, failure?.code ?? 'upstream_stream_error', label);
        else if (caller === 'openai') {
          assert.equal(data.error?.code, failure?.code ?? 'upstream_stream_error', label);
          assert.equal(data.error?.type, failure?.type ?? 'api_error', label);
        } else assert.equal(data.error?.type, failure?.anthropicType ?? 'api_error', label);
        assert.equal(t.error, 'cut', label);
      }
    }
  });

  it('a tool call, a finish, or an error starts it too', () => {
    const tool = new OpenAiPassthroughStream({ callerWantsUsage: false });
    sseTranslatorPipe(tool).feed(
      chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f' } }] }),
    );
    assert.equal(tool.started, true);
    const finish = new OpenAiPassthroughStream({ callerWantsUsage: false });
    sseTranslatorPipe(finish).feed(
      `data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }] })}\n\n`,
    );
    assert.equal(finish.started, true);
    const overloaded = shaperFor('anthropic', 'openai', ctx).stream();
    const pipe = sseTranslatorPipe(overloaded);
    pipe.feed(upstream.anthropic.opening);
    pipe.feed(ev('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    assert.deepEqual([overloaded.started, overloaded.error], [true, 'Overloaded']);
    const anthropicTool = shaperFor('anthropic', 'anthropic', ctx).stream();
    sseTranslatorPipe(anthropicTool).feed(
      ev('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
      }),
    );
    assert.equal(anthropicTool.started, true);
  });
});

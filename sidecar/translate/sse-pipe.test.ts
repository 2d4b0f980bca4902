import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnthropicToOpenAiStream } from './anthropic-to-openai-stream.ts';
import { sseTranslatorPipe } from './sse-pipe.ts';

const SSE =
  'event: message_start\r\ndata: {"type":"message_start","message":{"id":"m","model":"c"}}\r\n\r\n' +
  ': a comment line\n\n' +
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,\ndata: "delta":{"type":"text_delta","text":"h€llo"}}\n\n' +
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}\n\n' +
  'event: message_stop\ndata: {"type":"message_stop"}\n\n';

describe('sseTranslatorPipe', () => {
  it('gives the same frames however the bytes are split (CRLF, comments, multi-line data, split UTF-8)', () => {
    const bytes = new TextEncoder().encode(SSE);
    const whole = sseTranslatorPipe(new AnthropicToOpenAiStream({ created: 1 }));
    const expected = [...whole.feed(bytes), ...whole.end()];
    assert.equal(expected.length, 4);
    assert.match(expected[1] ?? '', /h€llo/);
    const byByte = sseTranslatorPipe(new AnthropicToOpenAiStream({ created: 1 }));
    const frames = [...bytes].flatMap((b) => byByte.feed(Uint8Array.of(b)));
    assert.deepEqual([...frames, ...byByte.end()], expected);
  });

  it('discards an incomplete trailing event and lets the translator end the stream', () => {
    const pipe = sseTranslatorPipe(new AnthropicToOpenAiStream({ created: 1 }));
    pipe.feed(
      'event: message_start\ndata: {"type":"message_start","message":{}}\n\nevent: message_stop\ndata: {"type":"message_st',
    );
    const tail = pipe.end();
    assert.equal(tail.length, 1);
    assert.match(tail[0] ?? '', /^event: error\n/);
  });

  it('fail() flushes and writes an in-band error', () => {
    const pipe = sseTranslatorPipe(new AnthropicToOpenAiStream({ created: 1 }));
    assert.match(pipe.fail('socket hang up').join(''), /socket hang up/);
  });
});

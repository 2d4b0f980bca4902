import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { openAiChatBody, withUsageOption } from './adapter.ts';
import type { ChatCall } from '../types.ts';

const chatCall = (callerBody: Record<string, unknown>, raw = Buffer.from(JSON.stringify(callerBody))) =>
  ({ caller: 'openai', callerBody, body: callerBody, raw, stream: true }) as unknown as ChatCall;

describe('withUsageOption', () => {
  it('adds include_usage as the last member, whatever whitespace the body ends with', () => {
    for (const text of ['{"model":"m","stream":true}', '{ "model": "m" }\n', '{"model":"m"}\r\n\t ']) {
      const out = withUsageOption(Buffer.from(text));
      assert.ok(out);
      assert.deepEqual(JSON.parse(out.toString()), {
        ...(JSON.parse(text) as object),
        stream_options: { include_usage: true },
      });
    }
  });

  it('leaves what is not a non-empty JSON object alone', () => {
    for (const text of ['{}', '{ }', '[1]', '"x"', '', '{"a":1'])
      assert.equal(withUsageOption(Buffer.from(text)), undefined, text);
  });

  it('on any JSON object with members, gives that object plus include_usage', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => k !== 'stream_options' && k !== '__proto__'),
          fc.jsonValue(),
          {
            minKeys: 1,
          },
        ),
        fc.constantFrom('', ' ', '\n'),
        (obj, trailing) => {
          const text = JSON.stringify(obj, null, trailing ? 1 : 0);
          const out = withUsageOption(Buffer.from(text + trailing));
          assert.ok(out);
          // Compared with what the caller's bytes say (jsonValue can hold -0, which JSON writes as 0).
          const sent = JSON.parse(text) as Record<string, unknown>;
          assert.deepEqual(JSON.parse(out.toString()), { ...sent, stream_options: { include_usage: true } });
        },
      ),
    );
  });
});

describe('openAiChatBody for a stream', () => {
  it("splices include_usage into the caller's bytes when it set no stream_options", () => {
    const raw = Buffer.from(
      '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"stream_options"}]}',
    );
    const out = openAiChatBody(
      chatCall(JSON.parse(raw.toString()) as Record<string, unknown>, raw),
      'gpt-4o',
      true,
    );
    assert.ok(Buffer.isBuffer(out));
    assert.equal(out.subarray(0, raw.length - 1).equals(raw.subarray(0, raw.length - 1)), true);
    assert.deepEqual((JSON.parse(out.toString()) as { stream_options: unknown }).stream_options, {
      include_usage: true,
    });
  });

  it("keeps the caller's own stream_options members, turning usage on", () => {
    const body = { model: 'gpt-4o', stream: true, stream_options: { include_obfuscation: false } };
    const out = openAiChatBody(chatCall(body), 'gpt-4o', true);
    assert.deepEqual((JSON.parse(out.toString()) as { stream_options: unknown }).stream_options, {
      include_obfuscation: false,
      include_usage: true,
    });
  });
});

// The stream translators must tell the caller what the JSON translators tell them for the same answer:
// same content, same stop/finish reason. Each case runs one upstream answer both ways.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAiResponseFromAnthropic } from './anthropic-response.ts';
import { AnthropicToOpenAiStream } from './anthropic-to-openai-stream.ts';
import { JSON_ANSWER_TOOL } from './json-answer-tool.ts';
import { anthropicResponseFromOpenAi } from './openai-response.ts';
import { OpenAiToAnthropicStream } from './openai-to-anthropic-stream.ts';
import { assembleAnthropic } from './testing/assemble-anthropic.ts';
import { assembleOpenAi } from './testing/assemble-openai.ts';
import { parseFrames, runThroughPipe, type InputEvent } from './testing/frames.ts';
import { asksForJson } from './tool-options.ts';

const ev = (data: Record<string, unknown>): InputEvent => ({ event: String(data.type), data });
const usage = { input_tokens: 5, output_tokens: 9 };

/** One Anthropic answer as SSE events, block by block (text blocks and tool_use blocks). */
function anthropicEvents(content: Record<string, unknown>[], stopReason: string): InputEvent[] {
  const events = [ev({ type: 'message_start', message: { id: 'msg_1', model: 'claude-x', usage } })];
  content.forEach((block, index) => {
    const isText = block.type === 'text';
    const opening = isText ? { type: 'text', text: '' } : { ...block, input: {} };
    events.push(ev({ type: 'content_block_start', index, content_block: opening }));
    const delta = isText
      ? { type: 'text_delta', text: block.text }
      : { type: 'input_json_delta', partial_json: JSON.stringify(block.input) };
    events.push(ev({ type: 'content_block_delta', index, delta }));
    events.push(ev({ type: 'content_block_stop', index }));
  });
  events.push(ev({ type: 'message_delta', delta: { stop_reason: stopReason }, usage }));
  events.push(ev({ type: 'message_stop' }));
  return events;
}

function bothWays(content: Record<string, unknown>[], stopReason: string, jsonMode: boolean) {
  const json = openAiResponseFromAnthropic({ content, stop_reason: stopReason, usage }, { created: 1 });
  const stream = new AnthropicToOpenAiStream({ created: 1, jsonMode });
  const streamed = assembleOpenAi(parseFrames(runThroughPipe(stream, anthropicEvents(content, stopReason))));
  const choice = json.choices[0];
  return {
    json: { content: choice?.message.content ?? '', finish: choice?.finish_reason },
    stream: { content: streamed.choices[0]?.content, finish: streamed.choices[0]?.finishReason },
  };
}

describe('stream and JSON translations agree', () => {
  it('JSON mode: text before the answer tool is dropped by both, so the content is the JSON', () => {
    const answer = { type: 'tool_use', id: 't', name: JSON_ANSWER_TOOL, input: { a: 1 } };
    const { json, stream } = bothWays(
      [{ type: 'text', text: 'Sure, here it is: ' }, answer],
      'tool_use',
      true,
    );
    assert.deepEqual(json, { content: '{"a":1}', finish: 'stop' });
    assert.deepEqual(stream, json);
  });

  it('JSON mode: text is sent when a caller tool, not the answer, follows it, or nothing does', () => {
    const call = { type: 'tool_use', id: 'c', name: 'lookup', input: { q: 'x' } };
    const withTool = bothWays([{ type: 'text', text: 'Looking up.' }, call], 'tool_use', true);
    assert.deepEqual(withTool.stream, withTool.json);
    assert.equal(withTool.stream.content, 'Looking up.');
    const plain = bothWays([{ type: 'text', text: 'no JSON today' }], 'end_turn', true);
    assert.deepEqual(plain.stream, { content: 'no JSON today', finish: 'stop' });
    assert.deepEqual(plain.stream, plain.json);
  });

  it('asksForJson says which requests were sent in JSON mode', () => {
    assert.equal(asksForJson({ response_format: { type: 'json_object' } }), true);
    assert.equal(
      asksForJson({ response_format: { type: 'json_schema', json_schema: { schema: {} } } }),
      true,
    );
    assert.equal(asksForJson({ response_format: { type: 'text' } }), false);
    assert.equal(asksForJson({ response_format: { type: 'bogus' } }), false);
    assert.equal(asksForJson(null), false);
  });

  it('an OpenAI refusal is stop_reason refusal both ways', () => {
    const refusal = "I can't help with that.";
    const json = anthropicResponseFromOpenAi(
      { choices: [{ message: { content: null, refusal }, finish_reason: 'stop' }] },
      { requestedModel: 'm' },
    );
    const chunk = (delta: unknown, finish_reason: string | null = null): InputEvent => ({
      data: { id: 'x', choices: [{ index: 0, delta, finish_reason }] },
    });
    const stream = new OpenAiToAnthropicStream({ requestedModel: 'm' });
    const events = [
      chunk({ role: 'assistant', content: null, refusal: '' }),
      chunk({ refusal }),
      chunk({}, 'stop'),
      { data: '[DONE]' },
    ];
    const message = assembleAnthropic(parseFrames(runThroughPipe(stream, events)));
    assert.equal(json.stop_reason, 'refusal');
    assert.equal(message.stopReason, json.stop_reason);
    assert.deepEqual(message.content, json.content);
  });
});

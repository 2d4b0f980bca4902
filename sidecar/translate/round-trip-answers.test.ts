// Round-trip properties of answers: responses and streams sent through another dialect and back keep
// their text, tool calls, finish reason and usage.
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAiResponseFromAnthropic } from './anthropic-response.ts';
import { AnthropicToOpenAiStream } from './anthropic-to-openai-stream.ts';
import { GeminiToOpenAiStream } from './gemini-to-openai-stream.ts';
import { anthropicResponseFromOpenAi } from './openai-response.ts';
import { OpenAiToAnthropicStream } from './openai-to-anthropic-stream.ts';
import { answer, pieces, type Answer } from './testing/arbitraries.ts';
import { assembleAnthropic } from './testing/assemble-anthropic.ts';
import { assembleOpenAi } from './testing/assemble-openai.ts';
import { parseFrames, runThroughPipe, type InputEvent } from './testing/frames.ts';
import { openAiEvents, geminiEvents, type Split } from './testing/streams.ts';

const withSplits = answer.chain((a) =>
  fc
    .tuple(fc.constant(a), pieces(a.text), fc.tuple(...a.calls.map((c) => pieces(JSON.stringify(c.args)))))
    .map(([x, text, args]): [Answer, Split] => [x, { text: x.text === '' ? [] : text, args }]),
);

function assertSameAnswer(
  got: { content: string; calls: [string, string, unknown][]; finish: unknown },
  a: Answer,
): void {
  assert.equal(got.content, a.text);
  assert.deepEqual(
    got.calls,
    a.calls.map((c) => [c.id, c.name, c.args]),
  );
  assert.equal(got.finish, a.finish);
}

describe('answer round trips', () => {
  it('chat.completion → Anthropic message → chat.completion keeps the answer and usage', () => {
    fc.assert(
      fc.property(answer, (a) => {
        const completion = {
          id: 'chatcmpl-1',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: a.text,
                tool_calls: a.calls.map((c) => ({
                  id: c.id,
                  type: 'function',
                  function: { name: c.name, arguments: JSON.stringify(c.args) },
                })),
              },
              finish_reason: a.finish,
            },
          ],
          usage: {
            prompt_tokens: a.usage.prompt,
            completion_tokens: a.usage.completion,
            prompt_tokens_details: { cached_tokens: a.usage.cached },
          },
        };
        const back = openAiResponseFromAnthropic(
          anthropicResponseFromOpenAi(completion, { requestedModel: 'c' }),
          { created: 0 },
        );
        const choice = back.choices[0];
        const calls = (choice?.message.tool_calls ?? []).map((c): [string, string, unknown] => [
          c.id,
          c.function.name,
          JSON.parse(c.function.arguments),
        ]);
        assertSameAnswer({ content: choice?.message.content ?? '', calls, finish: choice?.finish_reason }, a);
        assert.deepEqual(
          [
            back.usage?.prompt_tokens,
            back.usage?.completion_tokens,
            back.usage?.prompt_tokens_details.cached_tokens,
          ],
          [a.usage.prompt, a.usage.completion, a.usage.cached],
        );
      }),
      { numRuns: 300 },
    );
  });

  it('OpenAI stream → Anthropic stream → OpenAI stream keeps the answer and usage', () => {
    fc.assert(
      fc.property(withSplits, ([a, split]) => {
        const toAnthropic = new OpenAiToAnthropicStream({ requestedModel: 'c' });
        const anthropicFrames = parseFrames(runThroughPipe(toAnthropic, openAiEvents(a, split)));
        const events: InputEvent[] = anthropicFrames.map((f) => ({ event: f.event ?? '', data: f.data }));
        const back = new AnthropicToOpenAiStream({ created: 1, includeUsage: true });
        const got = assembleOpenAi(parseFrames(runThroughPipe(back, events)));
        const choice = got.choices[0];
        const calls = (choice?.toolCalls ?? []).map((c): [string, string, unknown] => [
          c.id,
          c.name,
          JSON.parse(c.arguments),
        ]);
        assertSameAnswer({ content: choice?.content ?? '', calls, finish: choice?.finishReason }, a);
        assert.deepEqual(back.usage, {
          inputTokens: a.usage.prompt,
          outputTokens: a.usage.completion,
          cachedInputTokens: a.usage.cached,
          reasoningTokens: 0,
        });
        assert.equal(got.done, true);
      }),
      { numRuns: 200 },
    );
  });

  it('Gemini stream → OpenAI stream → Anthropic stream (an Anthropic caller served by Gemini)', () => {
    fc.assert(
      fc.property(withSplits, ([a, split]) => {
        const gemini = new GeminiToOpenAiStream({ id: 'c', created: 1, model: 'g', includeUsage: true });
        const openAiFrames = parseFrames(runThroughPipe(gemini, geminiEvents(a, split)));
        const anthropic = new OpenAiToAnthropicStream({ requestedModel: 'claude' });
        const message = assembleAnthropic(
          parseFrames(
            runThroughPipe(
              anthropic,
              openAiFrames.map((f) => ({ data: f.data })),
            ),
          ),
        );
        const text = message.content
          .filter((b) => b.type === 'text')
          .map((b) => String(b.text))
          .join('');
        const calls = message.content
          .filter((b) => b.type === 'tool_use')
          .map((b): [string, string, unknown] => [String(b.id), String(b.name), b.input]);
        const finish = {
          end_turn: 'stop',
          max_tokens: 'length',
          tool_use: 'tool_calls',
          refusal: 'content_filter',
        }[String(message.stopReason)];
        assertSameAnswer({ content: text, calls, finish }, a);
        assert.equal(message.stopped, true);
        assert.deepEqual(anthropic.usage, {
          inputTokens: a.usage.prompt,
          outputTokens: a.usage.completion,
          cachedInputTokens: a.usage.cached,
          reasoningTokens: 0,
        });
      }),
      { numRuns: 200 },
    );
  });
});

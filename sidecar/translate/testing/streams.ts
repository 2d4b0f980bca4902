// Test support: upstream event streams for a generated answer, in each dialect, the way each
// provider sends them (text in pieces, OpenAI/Anthropic tool arguments in pieces, Gemini calls whole).
import type { Answer } from './arbitraries.ts';
import type { InputEvent } from './frames.ts';

export interface Split {
  text: string[];
  args: string[][];
}

const openAiChunk = (choices: unknown[], usage: unknown = null): InputEvent => ({
  data: { id: 'chatcmpl-rt', object: 'chat.completion.chunk', created: 1, model: 'gpt-x', choices, usage },
});
const delta = (d: unknown, finish: string | null = null) =>
  openAiChunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);

export function openAiEvents(a: Answer, split: Split): InputEvent[] {
  const events = [delta({ role: 'assistant', content: '' }), ...split.text.map((t) => delta({ content: t }))];
  a.calls.forEach((c, index) => {
    events.push(
      delta({
        tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }],
      }),
    );
    for (const piece of split.args[index] ?? [])
      events.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  const usage = {
    prompt_tokens: a.usage.prompt,
    completion_tokens: a.usage.completion,
    prompt_tokens_details: { cached_tokens: a.usage.cached },
  };
  return [...events, delta({}, a.finish), openAiChunk([], usage), { data: '[DONE]' }];
}

const STOP_REASONS = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
} as const;
const named = (data: Record<string, unknown>): InputEvent => ({ event: String(data.type), data });

export function anthropicEvents(a: Answer, split: Split): InputEvent[] {
  const usage = {
    input_tokens: a.usage.prompt - a.usage.cached,
    cache_read_input_tokens: a.usage.cached,
    output_tokens: 1,
  };
  const events = [
    named({ type: 'message_start', message: { id: 'msg_rt', model: 'claude-x', content: [], usage } }),
  ];
  let index = 0;
  if (split.text.length > 0) {
    events.push(named({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
    for (const text of split.text)
      events.push(named({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }));
    events.push(named({ type: 'content_block_stop', index: index++ }));
  }
  a.calls.forEach((c, i) => {
    events.push(
      named({
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} },
      }),
    );
    for (const partial_json of split.args[i] ?? []) {
      events.push(
        named({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }),
      );
    }
    events.push(named({ type: 'content_block_stop', index: index++ }));
  });
  const stop = { stop_reason: STOP_REASONS[a.finish], stop_sequence: null };
  events.push(named({ type: 'message_delta', delta: stop, usage: { output_tokens: a.usage.completion } }));
  return [...events, named({ type: 'message_stop' })];
}

const GEMINI_REASONS = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  tool_calls: 'STOP',
  content_filter: 'SAFETY',
} as const;

export function geminiEvents(a: Answer, split: Split): InputEvent[] {
  const chunk = (parts: unknown[], extra: Record<string, unknown> = {}): InputEvent => ({
    data: {
      candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }],
      modelVersion: 'gemini-x',
    },
  });
  const events = split.text.map((text) => chunk([{ text }]));
  const calls = a.calls.map((c) => ({ functionCall: { id: c.id, name: c.name, args: c.args } }));
  const usageMetadata = {
    promptTokenCount: a.usage.prompt,
    candidatesTokenCount: a.usage.completion,
    cachedContentTokenCount: a.usage.cached,
  };
  events.push(chunk(calls.length > 0 ? calls : [{ text: '' }], { finishReason: GEMINI_REASONS[a.finish] }));
  events.push({ data: { usageMetadata } });
  return events;
}

// Anthropic Messages response → canonical OpenAI chat.completion.
import { assistantChoice } from './choice.ts';
import { finishFromAnthropic } from './finish-reasons.ts';
import { JSON_ANSWER_TOOL } from './json-answer-tool.ts';
import { asArray, isRecord, record, str } from './json.ts';
import type { ChatCompletion, OpenAiToolCall } from './types.ts';
import { openAiUsageJson, usageFromAnthropic } from './usage.ts';

export interface FromAnthropicOptions {
  /** The chat.completion id; defaults to the Anthropic message id. */
  id?: string | undefined;
  created: number;
  /** The model name to report; defaults to the one Anthropic reports. */
  model?: string | undefined;
}

function inputJson(input: unknown): string {
  return JSON.stringify(isRecord(input) ? input : {});
}

export function openAiResponseFromAnthropic(json: unknown, options: FromAnthropicOptions): ChatCompletion {
  const message = record(json);
  const texts: string[] = [];
  const calls: OpenAiToolCall[] = [];
  let answer: string | undefined;
  for (const block of asArray(message.content)) {
    if (!isRecord(block)) continue;
    if (block.type === 'text') texts.push(str(block.text) ?? '');
    if (block.type !== 'tool_use') continue; // thinking and server-tool blocks have no OpenAI form
    const name = str(block.name) ?? '';
    // The forced JSON-mode tool is the answer itself; any preamble text would break JSON.parse.
    if (name === JSON_ANSWER_TOOL) answer = inputJson(block.input);
    else
      calls.push({
        id: str(block.id) ?? '',
        type: 'function',
        function: { name, arguments: inputJson(block.input) },
      });
  }
  const text = answer ?? texts.join('');
  let finish = finishFromAnthropic(message.stop_reason);
  if (finish === 'tool_calls' && calls.length === 0) finish = 'stop';
  const usage = usageFromAnthropic(message.usage);
  return {
    id: options.id ?? str(message.id) ?? '',
    object: 'chat.completion',
    created: options.created,
    model: options.model ?? str(message.model) ?? '',
    choices: [assistantChoice(0, text, calls, finish)],
    ...(usage && { usage: openAiUsageJson(usage) }),
  };
}

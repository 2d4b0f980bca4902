import type { ChatCompletion, OpenAiFinishReason, OpenAiToolCall } from './types.ts';

type Choice = ChatCompletion['choices'][number];

/**
 * One OpenAI `choices[]` entry. Content is null, as OpenAI sends it, when the answer is only tool calls
 * or was withheld by a content filter.
 */
export function assistantChoice(
  index: number,
  text: string,
  calls: OpenAiToolCall[],
  finish: OpenAiFinishReason,
): Choice {
  return {
    index,
    message: {
      role: 'assistant',
      content: text === '' && (calls.length > 0 || finish === 'content_filter') ? null : text,
      refusal: null,
      ...(calls.length > 0 && { tool_calls: calls }),
    },
    logprobs: null,
    finish_reason: finish,
  };
}

// Canonical OpenAI chat.completion → Anthropic Messages response, for Anthropic-dialect callers served
// by an OpenAI or Gemini model. Only the first choice is carried (Anthropic has one answer).
import { stopReasonFromOpenAi } from './finish-reasons.ts';
import { asArray, isRecord, parseJson, record, str } from './json.ts';
import type { AnthropicMessage, AnthropicResponseBlock } from './types.ts';
import { anthropicUsageJson, ZERO_USAGE } from './usage.ts';
import { usageFromOpenAi } from '../accounting/usage.ts';

/** Tool arguments as an object; arguments that are not a JSON object (a truncated call) become {}. */
export function argumentsObject(args: unknown): Record<string, unknown> {
  const parsed = typeof args === 'string' ? parseJson(args) : { ok: false as const };
  return parsed.ok && isRecord(parsed.value) ? parsed.value : {};
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .map((p) => (isRecord(p) ? (str(p.text) ?? '') : ''))
    .join('');
}

export function anthropicResponseFromOpenAi(
  completion: unknown,
  options: { requestedModel: string },
): AnthropicMessage {
  const body = record(completion);
  const choice = record(asArray(body.choices)[0]);
  const message = record(choice.message);
  const refusal = str(message.refusal) || undefined; // an empty refusal refuses nothing
  const content: AnthropicResponseBlock[] = [];
  const text = textOf(message.content) || (refusal ?? '');
  if (text !== '') content.push({ type: 'text', text });
  for (const call of asArray(message.tool_calls)) {
    if (!isRecord(call)) continue;
    const fn = record(call.function);
    content.push({
      type: 'tool_use',
      id: str(call.id) ?? '',
      name: str(fn.name) ?? '',
      input: argumentsObject(fn.arguments),
    });
  }
  const id = str(body.id) ?? '';
  return {
    id: id.startsWith('msg_') ? id : `msg_${id}`,
    type: 'message',
    role: 'assistant',
    model: options.requestedModel,
    content,
    stop_reason: refusal !== undefined ? 'refusal' : stopReasonFromOpenAi(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsageJson(usageFromOpenAi(body.usage) ?? ZERO_USAGE),
  };
}

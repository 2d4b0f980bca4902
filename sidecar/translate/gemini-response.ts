// Gemini generateContent response → canonical OpenAI chat.completion. One choice per candidate; a
// prompt blocked before generation (promptFeedback.blockReason, no candidates) is one content_filter
// choice with no content. Thought-summary parts (thought: true) are not part of the answer. A candidate
// Gemini reports as failed (MALFORMED_FUNCTION_CALL, OTHER, …) makes the whole answer a FailedAnswer.
import { assistantChoice } from './choice.ts';
import { FailedAnswer } from './errors.ts';
import { finishFromGemini, geminiFailure } from './finish-reasons.ts';
import { asArray, isRecord, num, record, str, type JsonObject } from './json.ts';
import type { ChatCompletion, OpenAiToolCall } from './types.ts';
import { openAiUsageJson, usageFromGemini } from './usage.ts';

export interface FromGeminiOptions {
  model: string;
  id: string;
  created: number;
  /** Ids for function calls, which Gemini may not give; defaults to `call_<n>_<id>`. */
  toolCallId?: ((n: number) => string) | undefined;
}

export const defaultToolCallId =
  (id: string) =>
  (n: number): string =>
    `call_${n}_${id}`;

export function geminiParts(candidate: JsonObject): JsonObject[] {
  return asArray(record(candidate.content).parts).filter(isRecord);
}

/** The answer text of parts, without thought summaries. */
export function partText(part: JsonObject): string {
  return part.thought === true ? '' : (str(part.text) ?? '');
}

export function toolCallOf(part: JsonObject, fallbackId: () => string): OpenAiToolCall | undefined {
  if (!isRecord(part.functionCall)) return undefined;
  const call = part.functionCall;
  const args = JSON.stringify(isRecord(call.args) ? call.args : {});
  return {
    id: str(call.id) ?? fallbackId(),
    type: 'function',
    function: { name: str(call.name) ?? '', arguments: args },
  };
}

type Choice = ChatCompletion['choices'][number];

function choiceOf(candidate: JsonObject, position: number, nextId: () => string): Choice {
  const parts = geminiParts(candidate);
  const calls = parts.flatMap((p) => toolCallOf(p, nextId) ?? []);
  const text = parts.map(partText).join('');
  const finish = finishFromGemini(candidate.finishReason, calls.length > 0);
  return assistantChoice(num(candidate.index) ?? position, text, calls, finish);
}

const BLOCKED: Choice = {
  index: 0,
  message: { role: 'assistant', content: null, refusal: null },
  logprobs: null,
  finish_reason: 'content_filter',
};

/** Throws FailedAnswer when a candidate stopped on a failure reason (finish-reasons.ts geminiFailure). */
export function openAiResponseFromGemini(json: unknown, options: FromGeminiOptions): ChatCompletion {
  const response = record(json);
  for (const c of asArray(response.candidates)) {
    const failure = geminiFailure(record(c).finishReason);
    if (failure !== undefined) throw new FailedAnswer(failure);
  }
  const toolCallId = options.toolCallId ?? defaultToolCallId(options.id);
  let n = 0;
  const nextId = (): string => toolCallId(n++);
  const candidates = asArray(response.candidates).filter(isRecord);
  const choices = candidates.map((c, i) => choiceOf(c, i, nextId));
  const usage = usageFromGemini(response.usageMetadata);
  return {
    id: options.id,
    object: 'chat.completion',
    created: options.created,
    model: options.model,
    choices: choices.length > 0 ? choices : [structuredClone(BLOCKED)],
    ...(usage && { usage: openAiUsageJson(usage) }),
  };
}

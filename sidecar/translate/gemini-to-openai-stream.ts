// Gemini streamGenerateContent (alt=sse) → OpenAI chat.completion.chunk SSE. Each Gemini chunk is a
// whole GenerateContentResponse: text parts become content deltas, a functionCall part (always sent
// whole) becomes one tool_calls delta with its full arguments, finishReason becomes the finish chunk,
// and usageMetadata (complete on the last chunk) the usage. Gemini has no end marker besides the
// finish reason, so [DONE] is written by end(), after any trailing usage-only chunk. A failure reason
// (MALFORMED_FUNCTION_CALL, OTHER, …: finish-reasons.ts) ends the stream with an in-band error instead.
import { errorFromGemini } from './error-classify.ts';
import { finishFromGemini, geminiFailure } from './finish-reasons.ts';
import { defaultToolCallId, geminiParts, partText, toolCallOf } from './gemini-response.ts';
import { asArray, isRecord, num, record, str, type JsonObject } from './json.ts';
import { ToOpenAiStream } from './to-openai-stream.ts';
import { usageFromGemini } from './usage.ts';

export interface GeminiToOpenAiOptions {
  id: string;
  created: number;
  model: string;
  includeUsage?: boolean | undefined;
  /** Ids for function calls Gemini sends without one; defaults to `call_<n>_<id>`. */
  toolCallId?: ((n: number) => string) | undefined;
}

interface CandidateState {
  tools: number;
  finished: boolean;
}

export class GeminiToOpenAiStream extends ToOpenAiStream {
  readonly #candidates = new Map<number, CandidateState>();
  readonly #toolCallId: (n: number) => string;
  #calls = 0;

  constructor(options: GeminiToOpenAiOptions) {
    super({ id: options.id, created: options.created, model: options.model }, options.includeUsage === true);
    this.#toolCallId = options.toolCallId ?? defaultToolCallId(options.id);
  }

  protected onEvent(_name: string | undefined, data: JsonObject): string[] {
    if (isRecord(data.error)) return this.errorFrames(errorFromGemini(num(data.error.code) ?? 0, data));
    this.state.usage = usageFromGemini(data.usageMetadata) ?? this.state.usage;
    const candidates = asArray(data.candidates).filter(isRecord);
    const blocked = str(record(data.promptFeedback).blockReason);
    if (candidates.length === 0 && blocked !== undefined) {
      return this.#candidate({ index: 0, finishReason: 'SAFETY' }, 0);
    }
    return candidates.flatMap((c, i) => this.#candidate(c, i));
  }

  #candidate(candidate: JsonObject, position: number): string[] {
    // A choice index is a small non-negative integer in every OpenAI client; anything else is noise.
    const given = num(candidate.index);
    const index =
      given !== undefined && Number.isInteger(given) && given >= 0 && given < 64 ? given : position;
    let state = this.#candidates.get(index);
    const frames: string[] = [];
    if (state === undefined) {
      state = { tools: 0, finished: false };
      this.#candidates.set(index, state);
      frames.push(this.writer.role(index));
    }
    if (state.finished) return frames;
    for (const part of geminiParts(candidate)) frames.push(...this.#part(index, state, part));
    if (typeof candidate.finishReason === 'string') {
      const failure = geminiFailure(candidate.finishReason);
      if (failure !== undefined)
        return [...frames, ...this.errorFrames({ message: failure, kind: 'server' })];
      state.finished = true;
      const reason = finishFromGemini(candidate.finishReason, state.tools > 0);
      if (index === 0 || this.state.finishReason === undefined) this.state.finishReason = reason;
      this.state.completed = [...this.#candidates.values()].every((s) => s.finished);
      frames.push(this.writer.finish(index, reason));
    }
    return frames;
  }

  #part(index: number, state: CandidateState, part: JsonObject): string[] {
    const text = partText(part);
    if (text !== '') return [this.writer.content(index, text)];
    const call = toolCallOf(part, () => this.#toolCallId(this.#calls++));
    if (call === undefined) return [];
    const delta = {
      index: state.tools++,
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    };
    return [this.writer.toolCall(index, delta)];
  }
}

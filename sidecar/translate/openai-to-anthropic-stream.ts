// OpenAI chat.completion.chunk SSE → Anthropic Messages SSE, for Anthropic-dialect callers served by
// OpenAI or Gemini models (the latter after GeminiToOpenAiStream).
//   first chunk            → message_start
//   content deltas         → a text block (content_block_start / text_delta / content_block_stop)
//   tool_calls deltas      → buffered per call index; at the finish, one whole tool_use block per call
//                            in index order (fragments of parallel calls may interleave: anthropic-blocks.ts)
//   refusal deltas         → text, and stop_reason refusal (as the JSON translator does)
//   [DONE]                 → message_delta (stop_reason, usage) and message_stop
//   {"error": …}           → Anthropic error event
import { usageFromOpenAi } from '../accounting/usage.ts';
import { errorFromOpenAi } from './error-classify.ts';
import { anthropicErrorType } from './error-render.ts';
import { canonicalFinish, stopReasonFromOpenAi } from './finish-reasons.ts';
import { asArray, isRecord, num, parseJson, record, str, type JsonObject } from './json.ts';
import { anthropicStreamErrorFrame, eventFrame, UPSTREAM_STREAM_FAILURE } from './sse-frames.ts';
import { TRUNCATED_MESSAGE } from './to-openai-stream.ts';
import { StreamStateView } from './stream-state.ts';
import type { SseEvent, StreamFailure, StreamTranslator } from './types.ts';
import { anthropicUsageJson, ZERO_USAGE } from './usage.ts';
import { AnthropicBlocks } from './anthropic-blocks.ts';

export interface OpenAiToAnthropicOptions {
  /** The model the caller asked for, reported in message_start. */
  requestedModel: string;
  /** The message id; defaults to msg_<chunk id>. */
  id?: string | undefined;
}

export class OpenAiToAnthropicStream extends StreamStateView implements StreamTranslator {
  readonly #options: OpenAiToAnthropicOptions;
  readonly #blocks = new AnthropicBlocks();
  #started = false;
  #terminated = false;
  #refused = false;

  constructor(options: OpenAiToAnthropicOptions) {
    super();
    this.#options = options;
  }

  get started(): boolean {
    const s = this.state;
    return this.#blocks.started || s.finishReason !== undefined || s.completed || s.error !== undefined;
  }

  push(event: SseEvent): string[] {
    if (this.#terminated) return [];
    if (event.data.trim() === '[DONE]') {
      this.state.completed = true;
      return this.#close();
    }
    const parsed = parseJson(event.data);
    if (!parsed.ok || !isRecord(parsed.value)) {
      this.state.malformed++;
      return [];
    }
    const chunk = parsed.value;
    if (chunk.error !== undefined || event.event === 'error') {
      const error = errorFromOpenAi(0, chunk);
      return this.#error(error.message, anthropicErrorType(error));
    }
    this.state.usage = usageFromOpenAi(chunk.usage) ?? this.state.usage;
    return [...this.#start(str(chunk.id)), ...this.#choice(firstChoice(chunk.choices))];
  }

  #choice(choice: JsonObject): string[] {
    const delta = record(choice.delta);
    const frames: string[] = [];
    const refusal = str(delta.refusal) ?? '';
    if (refusal !== '') this.#refused = true;
    const text = (str(delta.content) ?? '') + refusal;
    if (text !== '') frames.push(...this.#blocks.text(text));
    for (const call of asArray(delta.tool_calls)) this.#blocks.toolCall(record(call));
    const finish = canonicalFinish(choice.finish_reason);
    if (finish !== undefined) {
      this.state.finishReason = finish;
      frames.push(...this.#blocks.flush());
    }
    return frames;
  }

  #start(chunkId: string | undefined): string[] {
    if (this.#started) return [];
    this.#started = true;
    const message = {
      id: this.#options.id ?? `msg_${chunkId ?? ''}`,
      type: 'message',
      role: 'assistant',
      model: this.#options.requestedModel,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 }, // known only at the end; message_delta carries it
    };
    return [eventFrame('message_start', { type: 'message_start', message })];
  }

  #close(): string[] {
    this.#terminated = true;
    // As anthropicResponseFromOpenAi: an answer that carries a refusal is a refusal.
    const stopReason = this.#refused ? 'refusal' : stopReasonFromOpenAi(this.state.finishReason);
    const delta = { stop_reason: stopReason, stop_sequence: null };
    const usage = anthropicUsageJson(this.state.usage ?? ZERO_USAGE);
    return [
      ...this.#start(undefined),
      ...this.#blocks.flush(),
      eventFrame('message_delta', { type: 'message_delta', delta, usage }),
      eventFrame('message_stop', { type: 'message_stop' }),
    ];
  }

  #error(message: string, type: string): string[] {
    this.#terminated = true;
    this.state.error = message;
    return [anthropicStreamErrorFrame(message, type)];
  }

  end(): string[] {
    if (this.#terminated) return [];
    return this.state.finishReason !== undefined
      ? this.#close()
      : this.#error(TRUNCATED_MESSAGE, UPSTREAM_STREAM_FAILURE.anthropicType);
  }

  fail(message: string, failure: StreamFailure = UPSTREAM_STREAM_FAILURE): string[] {
    return this.#terminated ? [] : this.#error(message, failure.anthropicType);
  }
}

/** The choice with index 0 (Anthropic carries one answer); other choices of an n > 1 stream are ignored. */
function firstChoice(choices: unknown): JsonObject {
  const all = asArray(choices).filter(isRecord);
  return all.find((c) => (num(c.index) ?? 0) === 0) ?? {};
}

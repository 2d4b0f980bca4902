// OpenAI chat.completion.chunk SSE → Anthropic Messages SSE, for Anthropic-dialect callers served by
// OpenAI or Gemini models (the latter after GeminiToOpenAiStream).
//   first chunk            → message_start
//   content deltas         → a text block (content_block_start / text_delta / content_block_stop)
//   tool_calls deltas      → a tool_use block per call; argument fragments → input_json_delta
//   [DONE]                 → message_delta (stop_reason, usage) and message_stop
//   {"error": …}           → Anthropic error event
// OpenAI streams one tool call after another; a fragment for a call whose block is already closed
// cannot be placed (Anthropic blocks are sequential) and is counted as malformed.
import { usageFromOpenAi } from '../accounting/usage.ts';
import { errorFromOpenAi } from './error-classify.ts';
import { anthropicErrorType } from './error-render.ts';
import { canonicalFinish, stopReasonFromOpenAi } from './finish-reasons.ts';
import { asArray, isRecord, num, parseJson, record, str, type JsonObject } from './json.ts';
import { anthropicStreamErrorFrame, eventFrame } from './sse-frames.ts';
import { TRUNCATED_MESSAGE } from './to-openai-stream.ts';
import { StreamStateView } from './stream-state.ts';
import type { SseEvent, StreamTranslator } from './types.ts';
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

  constructor(options: OpenAiToAnthropicOptions) {
    super();
    this.#options = options;
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
    const text = (str(delta.content) ?? '') + (str(delta.refusal) ?? '');
    if (text !== '') frames.push(...this.#blocks.text(text));
    for (const call of asArray(delta.tool_calls)) {
      const placed = this.#blocks.toolCall(record(call));
      if (placed === undefined) this.state.malformed++;
      else frames.push(...placed);
    }
    const finish = canonicalFinish(choice.finish_reason);
    if (finish !== undefined) {
      this.state.finishReason = finish;
      frames.push(...this.#blocks.closeOpen());
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
    const delta = { stop_reason: stopReasonFromOpenAi(this.state.finishReason), stop_sequence: null };
    const usage = anthropicUsageJson(this.state.usage ?? ZERO_USAGE);
    return [
      ...this.#start(undefined),
      ...this.#blocks.closeOpen(),
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
      : this.#error(TRUNCATED_MESSAGE, 'api_error');
  }

  fail(message: string): string[] {
    return this.#terminated ? [] : this.#error(message, 'api_error');
  }
}

/** The choice with index 0 (Anthropic carries one answer); other choices of an n > 1 stream are ignored. */
function firstChoice(choices: unknown): JsonObject {
  const all = asArray(choices).filter(isRecord);
  return all.find((c) => (num(c.index) ?? 0) === 0) ?? {};
}

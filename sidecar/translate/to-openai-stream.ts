// What every translator producing an OpenAI-dialect stream shares: JSON parsing with a malformed
// counter, the terminal state (after [DONE] or an error frame nothing more is written), and how a
// stream is closed — [DONE] after a finish reason, an in-band error without one.
import type { NeutralError } from './error-classify.ts';
import { OPENAI_ERROR_CODES, openAiErrorType } from './error-render.ts';
import { isRecord, parseJson, type JsonObject } from './json.ts';
import { OpenAiChunkWriter, type ChunkMeta } from './openai-chunks.ts';
import { DONE_FRAME, openAiStreamErrorFrame, UPSTREAM_STREAM_FAILURE } from './sse-frames.ts';
import { StreamStateView } from './stream-state.ts';
import type { SseEvent, StreamFailure, StreamTranslator } from './types.ts';

export const TRUNCATED_MESSAGE = 'upstream stream ended before the answer was complete';

export abstract class ToOpenAiStream extends StreamStateView implements StreamTranslator {
  protected readonly writer: OpenAiChunkWriter;
  readonly #includeUsage: boolean;
  #terminated = false;

  constructor(meta: ChunkMeta, includeUsage: boolean) {
    super();
    this.writer = new OpenAiChunkWriter(meta);
    this.#includeUsage = includeUsage;
  }

  push(event: SseEvent): string[] {
    if (this.#terminated) return [];
    const parsed = parseJson(event.data);
    if (!parsed.ok || !isRecord(parsed.value)) {
      this.state.malformed++;
      return [];
    }
    return this.onEvent(event.event, parsed.value);
  }

  get started(): boolean {
    return this.writer.answerStarted || this.state.completed || this.state.error !== undefined;
  }

  protected abstract onEvent(name: string | undefined, data: JsonObject): string[];

  /** The usage chunk (when the caller asked for one) and [DONE]. */
  protected close(): string[] {
    this.#terminated = true;
    const usage = this.#includeUsage && this.state.usage ? [this.writer.usage(this.state.usage)] : [];
    return [...usage, DONE_FRAME];
  }

  /** The upstream's own in-band error, labelled in OpenAI's terms. */
  protected errorFrames(error: Pick<NeutralError, 'message' | 'kind'>): string[] {
    return this.#failed(error.message, OPENAI_ERROR_CODES[error.kind], openAiErrorType(error.kind));
  }

  #failed(message: string, code: string, type: string): string[] {
    this.#terminated = true;
    this.state.error = message;
    return [openAiStreamErrorFrame(message, code, type)];
  }

  end(): string[] {
    if (this.#terminated) return [];
    if (this.state.finishReason !== undefined) return this.close();
    return this.fail(TRUNCATED_MESSAGE);
  }

  fail(message: string, failure: StreamFailure = UPSTREAM_STREAM_FAILURE): string[] {
    if (this.#terminated) return [];
    return this.#failed(message, failure.code, failure.type);
  }
}

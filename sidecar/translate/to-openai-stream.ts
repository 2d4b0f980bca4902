// What every translator producing an OpenAI-dialect stream shares: JSON parsing with a malformed
// counter, the terminal state (after [DONE] or an error frame nothing more is written), and how a
// stream is closed — [DONE] after a finish reason, an in-band error without one.
import type { NeutralError } from './error-classify.ts';
import { OPENAI_ERROR_CODES, openAiErrorType } from './error-render.ts';
import { isRecord, parseJson, type JsonObject } from './json.ts';
import { OpenAiChunkWriter, type ChunkMeta } from './openai-chunks.ts';
import { DONE_FRAME, openAiStreamErrorFrame } from './sse-frames.ts';
import { StreamStateView } from './stream-state.ts';
import type { SseEvent, StreamTranslator } from './types.ts';

export const TRUNCATED_MESSAGE = 'upstream stream ended before the answer was complete';
export const STREAM_ERROR_CODE = 'upstream_stream_error';

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

  protected errorFrames(
    error: Pick<NeutralError, 'message' | 'kind'>,
    code = OPENAI_ERROR_CODES[error.kind],
  ): string[] {
    this.#terminated = true;
    this.state.error = error.message;
    return [openAiStreamErrorFrame(error.message, code, openAiErrorType(error.kind))];
  }

  end(): string[] {
    if (this.#terminated) return [];
    if (this.state.finishReason !== undefined) return this.close();
    return this.errorFrames({ message: TRUNCATED_MESSAGE, kind: 'server' }, STREAM_ERROR_CODE);
  }

  fail(message: string): string[] {
    if (this.#terminated) return [];
    return this.errorFrames({ message, kind: 'server' }, STREAM_ERROR_CODE);
  }
}

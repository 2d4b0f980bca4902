// Stream "translators" for when caller and upstream speak the same dialect: events are forwarded as
// they came (re-framed, not re-serialised), while what failover and billing need is observed on the way:
// completion, finish reason, usage. Malformed events are dropped rather than passed to the caller's SDK.
import { usageFromOpenAi, type Usage } from '../accounting/usage.ts';
import {
  AnthropicToOpenAiStream,
  anthropicStreamErrorFrame,
  DONE_FRAME,
  openAiStreamErrorFrame,
  sseTranslatorPipe,
  type SsePipe,
} from '../translate/index.ts';
import type { OpenAiFinishReason, SseEvent, StreamTranslator } from '../translate/index.ts';

/** OpenAI → OpenAI. Drops the usage-only chunk when Turnout, not the caller, asked for usage. */
export class OpenAiPassthroughStream implements StreamTranslator {
  completed = false;
  finishReason: OpenAiFinishReason | undefined;
  usage: Usage | undefined;
  malformed = 0;
  error: string | undefined;
  readonly #dropUsageChunk: boolean;

  constructor(opts: { callerWantsUsage: boolean }) {
    this.#dropUsageChunk = !opts.callerWantsUsage;
  }

  push(e: SseEvent): string[] {
    const data = e.data;
    if (data === '[DONE]') {
      this.completed = true;
      return [DONE_FRAME];
    }
    // Parse only events that carry what we track, or that do not look like a JSON object at all.
    const interesting =
      data.includes('"finish_reason":"') || data.includes('"usage":{') || data.includes('"error"');
    if (interesting || data.charCodeAt(0) !== 0x7b || data.charCodeAt(data.length - 1) !== 0x7d) {
      let event: { choices?: { finish_reason?: unknown }[]; usage?: unknown; error?: { message?: unknown } };
      try {
        event = JSON.parse(data) as typeof event;
      } catch {
        this.malformed++;
        return [];
      }
      if (event.error)
        this.error = typeof event.error.message === 'string' ? event.error.message : 'upstream error';
      const reason = event.choices?.[0]?.finish_reason;
      if (typeof reason === 'string') this.finishReason = reason as OpenAiFinishReason;
      const usage = usageFromOpenAi(event.usage);
      if (usage) {
        this.usage = usage;
        if (this.#dropUsageChunk && event.choices?.length === 0) return [];
      }
    }
    return [e.event ? `event: ${e.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`];
  }

  end(): string[] {
    if (this.completed) return [];
    if (this.finishReason !== undefined) {
      this.completed = true;
      return [DONE_FRAME];
    }
    return this.fail('upstream stream ended before the answer was complete');
  }

  fail(message: string): string[] {
    if (this.completed) return [];
    this.error = message;
    this.completed = true;
    return [openAiStreamErrorFrame(message, 'upstream_stream_error')];
  }
}

/** Anthropic → Anthropic: frames forwarded as sent; an Anthropic→OpenAI translator observes them. */
export class AnthropicPassthroughStream implements StreamTranslator {
  readonly #observer = new AnthropicToOpenAiStream({ created: 0 });
  #ended = false;

  get completed() {
    return this.#observer.completed;
  }
  get finishReason() {
    return this.#observer.finishReason;
  }
  get usage() {
    return this.#observer.usage;
  }
  get malformed() {
    return this.#observer.malformed;
  }
  get error() {
    return this.#observer.error;
  }

  push(e: SseEvent): string[] {
    const before = this.#observer.malformed;
    this.#observer.push(e);
    if (this.#observer.malformed > before) return [];
    return [e.event ? `event: ${e.event}\ndata: ${e.data}\n\n` : `data: ${e.data}\n\n`];
  }

  end(): string[] {
    if (this.completed || this.#ended) return [];
    return this.fail('upstream stream ended before the answer was complete');
  }

  fail(message: string): string[] {
    if (this.#ended) return [];
    this.#ended = true;
    return [anthropicStreamErrorFrame(message, 'api_error')];
  }
}

/** Two translators in series (Gemini → OpenAI → Anthropic); upstream facts come from the first. */
export class ChainedStream implements StreamTranslator {
  readonly #first: StreamTranslator;
  readonly #second: StreamTranslator;
  readonly #pipe: SsePipe;

  constructor(first: StreamTranslator, second: StreamTranslator) {
    this.#first = first;
    this.#second = second;
    this.#pipe = sseTranslatorPipe(second);
  }

  get completed() {
    return this.#first.completed;
  }
  get finishReason() {
    return this.#first.finishReason;
  }
  get usage() {
    return this.#first.usage;
  }
  get malformed() {
    return this.#first.malformed;
  }
  get error() {
    return this.#first.error ?? this.#second.error;
  }

  push(e: SseEvent): string[] {
    return this.#first.push(e).flatMap((frame) => this.#pipe.feed(frame));
  }
  end(): string[] {
    return [...this.#first.end().flatMap((frame) => this.#pipe.feed(frame)), ...this.#pipe.end()];
  }
  fail(message: string): string[] {
    return [
      ...this.#first.fail(message).flatMap((frame) => this.#pipe.feed(frame)),
      ...this.#pipe.fail(message),
    ];
  }
}

// Stream "translators" for when caller and upstream speak the same dialect: events are forwarded as
// they came (re-framed, not re-serialised), while what failover and billing need is observed on the way:
// completion, finish reason, usage, and when the answer starts. Malformed events are dropped rather than
// passed to the caller's SDK. An upstream's in-band error event is the last thing the caller gets: the
// SDKs raise it and stop reading, and anything after it (an end marker, a synthetic "truncated" error)
// would either claim the answer complete or report the failure twice.
import { usageFromOpenAi, type Usage } from '../accounting/usage.ts';
import {
  AnthropicToOpenAiStream,
  anthropicStreamErrorFrame,
  DONE_FRAME,
  openAiStreamErrorFrame,
  sseTranslatorPipe,
  UPSTREAM_STREAM_FAILURE,
  type SsePipe,
} from '../translate/index.ts';
import type { OpenAiFinishReason, SseEvent, StreamFailure, StreamTranslator } from '../translate/index.ts';

const TRUNCATED = 'upstream stream ended before the answer was complete';

interface OpenAiChunkJson {
  choices?: { finish_reason?: unknown; delta?: Record<string, unknown> }[];
  usage?: unknown;
  error?: { message?: unknown };
}

/** OpenAI → OpenAI. Drops the usage-only chunk when Turnout, not the caller, asked for usage. */
export class OpenAiPassthroughStream implements StreamTranslator {
  completed = false;
  started = false;
  finishReason: OpenAiFinishReason | undefined;
  usage: Usage | undefined;
  malformed = 0;
  error: string | undefined;
  readonly #dropUsageChunk: boolean;
  /** The caller's stream is over: the upstream's error event was forwarded, or end()/fail() closed it. */
  #ended = false;

  constructor(opts: { callerWantsUsage: boolean }) {
    this.#dropUsageChunk = !opts.callerWantsUsage;
  }

  push(e: SseEvent): string[] {
    if (this.#ended) return [];
    const data = e.data;
    if (data === '[DONE]') {
      this.completed = true;
      this.started = true;
      return [DONE_FRAME];
    }
    // Parse only events that carry what we track, or that do not look like a JSON object at all; until
    // the answer starts (a few events at most), every event, to tell an opening chunk from content.
    const named = e.event === 'error';
    const interesting =
      !this.started ||
      named ||
      data.includes('"finish_reason":"') ||
      data.includes('"usage":{') ||
      data.includes('"error"');
    if (interesting || data.charCodeAt(0) !== 0x7b || data.charCodeAt(data.length - 1) !== 0x7d) {
      let event: OpenAiChunkJson | null;
      try {
        event = JSON.parse(data) as OpenAiChunkJson | null;
      } catch {
        event = null;
      }
      if (typeof event !== 'object' || event === null) {
        this.malformed++;
        return [];
      }
      // An error chunk, or an `event: error` (both of which the OpenAI SDKs raise as errors).
      if (event.error || named) {
        this.error = typeof event.error?.message === 'string' ? event.error.message : 'upstream error';
        this.#ended = true;
      }
      const reason = event.choices?.[0]?.finish_reason;
      if (typeof reason === 'string') this.finishReason = reason as OpenAiFinishReason;
      if (!this.started)
        this.started = this.error !== undefined || this.finishReason !== undefined || hasContent(event);
      const usage = usageFromOpenAi(event.usage);
      if (usage) {
        this.usage = usage;
        // Never an error chunk that also reports usage: the caller must still hear the error.
        if (this.#dropUsageChunk && event.choices?.length === 0 && this.error === undefined) return [];
      }
    }
    return [e.event ? `event: ${e.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`];
  }

  end(): string[] {
    if (this.completed || this.#ended) return [];
    if (this.finishReason !== undefined) {
      this.completed = true;
      return [DONE_FRAME];
    }
    return this.fail(TRUNCATED);
  }

  fail(message: string, failure: StreamFailure = UPSTREAM_STREAM_FAILURE): string[] {
    if (this.completed || this.#ended) return [];
    this.error = message;
    this.#ended = true;
    this.started = true;
    return [openAiStreamErrorFrame(message, failure.code, failure.type)];
  }
}

/** A chunk with something of the answer in it: text, a refusal, or a tool call (a role chunk has none). */
function hasContent(event: OpenAiChunkJson): boolean {
  for (const choice of event.choices ?? []) {
    const delta = choice.delta;
    if (delta === undefined || delta === null) continue;
    const { content, refusal, tool_calls: toolCalls, function_call: functionCall } = delta;
    if (typeof content === 'string' && content !== '') return true;
    if (typeof refusal === 'string' && refusal !== '') return true;
    if (Array.isArray(toolCalls) && toolCalls.length > 0) return true;
    if (functionCall !== undefined && functionCall !== null) return true;
  }
  return false;
}

const MESSAGE_STOP = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';

/** Anthropic → Anthropic: frames forwarded as sent; an Anthropic→OpenAI translator observes them. */
export class AnthropicPassthroughStream implements StreamTranslator {
  readonly #observer = new AnthropicToOpenAiStream({ created: 0 });
  /** The caller's stream is over: the upstream's error event was forwarded, or end()/fail() closed it. */
  #ended = false;
  #failure: string | undefined;

  get completed() {
    return this.#observer.completed;
  }
  get started() {
    return this.#observer.started || this.#failure !== undefined;
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
    return this.#observer.error ?? this.#failure;
  }

  push(e: SseEvent): string[] {
    if (this.#ended) return [];
    const before = this.#observer.malformed;
    this.#observer.push(e);
    if (this.#observer.malformed > before) return [];
    if (this.#observer.error !== undefined) this.#ended = true; // the upstream's error event, forwarded last
    return [e.event ? `event: ${e.event}\ndata: ${e.data}\n\n` : `data: ${e.data}\n\n`];
  }

  /** A stream that finished (message_delta with stop_reason) but lost its message_stop is completed here. */
  end(): string[] {
    if (this.completed || this.#ended) return [];
    if (this.finishReason !== undefined) {
      this.#ended = true;
      return [MESSAGE_STOP];
    }
    return this.fail(TRUNCATED);
  }

  fail(message: string, failure: StreamFailure = UPSTREAM_STREAM_FAILURE): string[] {
    if (this.completed || this.#ended) return [];
    this.#ended = true;
    this.#failure = message;
    return [anthropicStreamErrorFrame(message, failure.anthropicType)];
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
  get started() {
    return this.#first.started || this.#second.error !== undefined;
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
  /**
   * The first translator records the failure; the second writes its own error frame, so the label
   * (e.g. Anthropic's overloaded_error for a shutdown) is not lost in translating the first's frame.
   */
  fail(message: string, failure?: StreamFailure): string[] {
    this.#first.fail(message, failure);
    return this.#pipe.fail(message, failure);
  }
}

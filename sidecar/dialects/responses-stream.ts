// OpenAI Responses API streams, passed through event by event. The stream is complete when a terminal
// response event arrives (response.completed / .incomplete / .failed); its usage is read from there.
// The answer starts with the first event that is not one of the opening ones (created, in_progress, an
// output item or content part announced but still empty). An upstream `error` event is forwarded as the
// last event: the SDK raises it and stops reading, so nothing after it (a synthetic second error) is sent.
import { usageFromResponses, type Usage } from '../accounting/usage.ts';
import { eventFrame, UPSTREAM_STREAM_FAILURE } from '../translate/index.ts';
import type { OpenAiFinishReason, SseEvent, StreamFailure, StreamTranslator } from '../translate/index.ts';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const OPENING = new Set([
  'response.created',
  'response.queued',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
]);
// The event type of an unnamed event: OpenAI writes `type` as the first key of every Responses event.
const LEADING_TYPE = /^\{\s*"type"\s*:\s*"([^"]*)"/;

export class ResponsesPassthroughStream implements StreamTranslator {
  completed = false;
  started = false;
  finishReason: OpenAiFinishReason | undefined;
  usage: Usage | undefined;
  malformed = 0;
  error: string | undefined;
  /** The caller's stream is over: the upstream's error event was forwarded, or end()/fail() closed it. */
  #ended = false;

  push(e: SseEvent): string[] {
    if (this.#ended) return [];
    const data = e.data;
    if (data.charCodeAt(0) !== 0x7b || data.charCodeAt(data.length - 1) !== 0x7d) {
      this.malformed++;
      return [];
    }
    const type = e.event ?? '';
    if (!this.started) this.started = !OPENING.has(type || (LEADING_TYPE.exec(data)?.[1] ?? ''));
    if (
      TERMINAL.has(type) ||
      type === 'error' ||
      (type === '' && /"type":"(response\.(completed|incomplete|failed)|error)"/.test(data))
    ) {
      let event: {
        type?: string;
        message?: unknown;
        response?: { usage?: unknown; error?: { message?: unknown } | null };
      };
      try {
        event = JSON.parse(data) as typeof event;
      } catch {
        this.malformed++;
        return [];
      }
      const kind = type === 'error' ? type : (event.type ?? type); // an event named error is one
      if (kind === 'error') {
        this.error = textOr(event.message, 'upstream error');
        this.#ended = true;
      }
      if (TERMINAL.has(kind)) {
        this.completed = true;
        this.usage = usageFromResponses(event.response?.usage);
        this.finishReason = kind === 'response.incomplete' ? 'length' : 'stop';
        if (kind === 'response.failed')
          this.error = textOr(event.response?.error?.message, 'response failed');
      }
    }
    return [e.event ? `event: ${e.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`];
  }

  end(): string[] {
    if (this.completed || this.#ended) return [];
    return this.fail('upstream stream ended before the response was complete');
  }

  fail(message: string, failure: StreamFailure = UPSTREAM_STREAM_FAILURE): string[] {
    if (this.completed || this.#ended) return [];
    this.#ended = true;
    this.started = true;
    this.error = message;
    return [eventFrame('error', { type: 'error', code: failure.code, message, param: null })];
  }
}

/** An upstream's message when it is text (a hostile one may send anything), else the fallback. */
function textOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

// OpenAI Responses API streams, passed through event by event. The stream is complete when a terminal
// response event arrives (response.completed / .incomplete / .failed); its usage is read from there.
import { usageFromResponses, type Usage } from '../accounting/usage.ts';
import type { OpenAiFinishReason, SseEvent, StreamTranslator } from '../translate/index.ts';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

export class ResponsesPassthroughStream implements StreamTranslator {
  completed = false;
  finishReason: OpenAiFinishReason | undefined;
  usage: Usage | undefined;
  malformed = 0;
  error: string | undefined;

  push(e: SseEvent): string[] {
    const data = e.data;
    if (data.charCodeAt(0) !== 0x7b || data.charCodeAt(data.length - 1) !== 0x7d) {
      this.malformed++;
      return [];
    }
    const type = e.event ?? '';
    if (
      TERMINAL.has(type) ||
      type === 'error' ||
      (type === '' && /"type":"(response\.(completed|incomplete|failed)|error)"/.test(data))
    ) {
      let event: {
        type?: string;
        message?: string;
        response?: { usage?: unknown; error?: { message?: string } | null };
      };
      try {
        event = JSON.parse(data) as typeof event;
      } catch {
        this.malformed++;
        return [];
      }
      const kind = event.type ?? type;
      if (kind === 'error') this.error = event.message ?? 'upstream error';
      if (TERMINAL.has(kind)) {
        this.completed = true;
        this.usage = usageFromResponses(event.response?.usage);
        this.finishReason = kind === 'response.incomplete' ? 'length' : 'stop';
        if (kind === 'response.failed') this.error = event.response?.error?.message ?? 'response failed';
      }
    }
    return [e.event ? `event: ${e.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`];
  }

  end(): string[] {
    return this.completed ? [] : this.fail('upstream stream ended before the response was complete');
  }

  fail(message: string): string[] {
    if (this.completed) return [];
    this.completed = true;
    this.error = message;
    return [
      `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'upstream_stream_error', message, param: null })}\n\n`,
    ];
  }
}

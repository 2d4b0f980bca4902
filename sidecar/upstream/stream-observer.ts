// Watches an OpenAI-dialect SSE stream as it passes through, without changing a byte: whether it ended
// properly ([DONE]), whether the model finished (finish_reason), and the usage it reported.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { usageFromOpenAi, type Usage } from '../accounting/usage.ts';

export class StreamObserver {
  done = false;
  finishReason: string | undefined;
  usage: Usage | undefined;
  malformed = 0;
  readonly #decoder = new TextDecoder();
  readonly #parser: EventSourceParser;

  constructor() {
    this.#parser = createParser({ onEvent: (e) => this.#onData(e.data) });
  }

  feed(chunk: Uint8Array): void {
    this.#parser.feed(this.#decoder.decode(chunk, { stream: true }));
  }

  #onData(data: string): void {
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    // Only the few events that carry what we track are parsed; content deltas pass unparsed.
    if (!data.includes('"finish_reason":"') && !data.includes('"usage":{')) return;
    let event: { choices?: { finish_reason?: unknown }[]; usage?: unknown };
    try {
      event = JSON.parse(data) as typeof event;
    } catch {
      this.malformed++;
      return;
    }
    const reason = event.choices?.[0]?.finish_reason;
    if (typeof reason === 'string') this.finishReason = reason;
    this.usage = usageFromOpenAi(event.usage) ?? this.usage;
  }
}

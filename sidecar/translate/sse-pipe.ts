// Upstream bytes → a stream translator → frames to write. SSE framing is eventsource-parser's job
// (chunk boundaries anywhere, CRLF, comments, multi-line data); the translators only see whole events.
import { createParser } from 'eventsource-parser';
import type { StreamFailure, StreamTranslator } from './types.ts';

export interface SsePipe {
  /** Upstream bytes (any split); returns the frames now ready for the caller. */
  feed(chunk: Uint8Array | string): string[];
  /** The upstream body ended. An incomplete trailing event is discarded, as SSE specifies. */
  end(): string[];
  fail(message: string, failure?: StreamFailure): string[];
}

export function sseTranslatorPipe(translator: StreamTranslator): SsePipe {
  const decoder = new TextDecoder();
  let ready: string[] = [];
  const parser = createParser({
    onEvent: (e) => {
      ready.push(...translator.push({ event: e.event, data: e.data }));
    },
  });
  const drain = (): string[] => {
    const out = ready;
    ready = [];
    return out;
  };
  return {
    feed(chunk) {
      parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      return drain();
    },
    end() {
      parser.feed(decoder.decode());
      return [...drain(), ...translator.end()];
    },
    fail(message, failure) {
      return [...drain(), ...translator.fail(message, failure)];
    },
  };
}

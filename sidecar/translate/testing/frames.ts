// Test support: parse the frames a translator wrote, check they form a valid stream of the target
// dialect, and reassemble the answer, so tests compare answers instead of frame-by-frame layouts.
import { createParser } from 'eventsource-parser';
import type { SseEvent, StreamTranslator } from '../types.ts';
import { sseTranslatorPipe } from '../sse-pipe.ts';

export interface ParsedFrame {
  event?: string;
  /** Parsed JSON, or the string "[DONE]". */
  data: unknown;
}

/** Throws unless every frame is exactly one SSE event whose data is a JSON object or [DONE]. */
export function parseFrames(frames: readonly string[]): ParsedFrame[] {
  return frames.map((frame) => {
    if (!frame.endsWith('\n\n'))
      throw new Error(`frame does not end with a blank line: ${JSON.stringify(frame)}`);
    const events: SseEvent[] = [];
    const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
    parser.feed(frame);
    const [event] = events;
    if (events.length !== 1 || event === undefined) throw new Error(`frame holds ${events.length} events`);
    if (event.data === '[DONE]') return { data: '[DONE]' };
    const data: unknown = JSON.parse(event.data);
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new Error('data is not an object');
    return event.event === undefined ? { data } : { event: event.event, data };
  });
}

export interface InputEvent {
  event?: string;
  /** A JSON value to serialise, or a raw string sent as is (for malformed data). */
  data: unknown;
}

export function sseText(events: readonly InputEvent[]): string {
  return events
    .map((e) => {
      const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
      return `${e.event === undefined ? '' : `event: ${e.event}\n`}data: ${data}\n\n`;
    })
    .join('');
}

/** Feeds the SSE text of `events` through the byte pipe, cut at `cuts` (offsets), then ends it. */
export function runThroughPipe(
  translator: StreamTranslator,
  events: readonly InputEvent[],
  cuts: number[] = [],
): string[] {
  const bytes = new TextEncoder().encode(sseText(events));
  const pipe = sseTranslatorPipe(translator);
  const frames: string[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    frames.push(...pipe.feed(bytes.subarray(from, cut)));
    from = Math.max(from, cut);
  }
  frames.push(...pipe.feed(bytes.subarray(from)), ...pipe.end());
  return frames;
}

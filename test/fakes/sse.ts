import type { Frame } from './dialects/dialect.ts';

/** An unnamed SSE event (OpenAI chat, Gemini). */
export function dataFrame(kind: Frame['kind'], payload: unknown): Frame {
  return { kind, data: `data: ${JSON.stringify(payload)}\n\n` };
}

/** A named SSE event (Anthropic, OpenAI Responses). */
export function eventFrame(kind: Frame['kind'], event: string, payload: unknown): Frame {
  return { kind, data: `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n` };
}

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

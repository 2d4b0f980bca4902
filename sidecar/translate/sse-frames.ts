// SSE frames as written to the caller. Anthropic clients ignore events without an `event:` line, so
// every Anthropic frame is named; OpenAI chunks are unnamed, as OpenAI sends them.
import type { StreamFailure } from './types.ts';

export const DONE_FRAME = 'data: [DONE]\n\n';

export function dataFrame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export function eventFrame(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/**
 * An OpenAI-dialect in-band error: the openai SDKs raise it as an APIError (they check both the
 * `error` event name and an `error` key), so a broken stream never passes for a short answer.
 */
export function openAiStreamErrorFrame(message: string, code: string, type = 'api_error'): string {
  return eventFrame('error', { error: { message, type, param: null, code } });
}

/** Anthropic's own in-band error event, e.g. type overloaded_error. */
export function anthropicStreamErrorFrame(message: string, type: string): string {
  return eventFrame('error', { type: 'error', error: { type, message } });
}

/** A stream the upstream broke (cut, stalled, failed): what fail() writes unless told otherwise. */
export const UPSTREAM_STREAM_FAILURE: StreamFailure = {
  code: 'upstream_stream_error',
  type: 'api_error',
  anthropicType: 'api_error',
};

// One Chat Completions call through a gateway, recorded exactly as the caller saw it: status, body or
// SSE events, and how the response ended (cleanly, broken off, or still open at the caller's deadline).
// Judging happens later, on this record, so the same judges also read hand-made exchanges in tests.
import { createParser } from 'eventsource-parser';
import { request, type Dispatcher } from 'undici';

export interface ChatRequest {
  stream: boolean;
}

/** The data of one SSE event and its `event:` name, when it had one. */
export interface SseEvent {
  event?: string;
  data: string;
}

export interface Exchange {
  stream: boolean;
  /** Send → end of the response (or the deadline). */
  elapsedMs: number;
  /** Undefined when no response headers arrived. */
  status?: number;
  contentType?: string;
  /** The whole body as text (for a stream, the raw SSE). */
  body: string;
  /** SSE events of a text/event-stream response, in order. */
  events: SseEvent[];
  /** `end`: the body ended normally; `broken`: the connection failed; `deadline`: still open when the caller gave up. */
  ending: 'end' | 'broken' | 'deadline';
  /** What the client library reported when the connection failed. */
  failure?: string;
}

export const PROMPT = 'scorecard: answer in a few words';

export function chatBody(model: string, req: ChatRequest): string {
  return JSON.stringify({
    model,
    messages: [{ role: 'user', content: PROMPT }],
    stream: req.stream,
    ...(req.stream && { stream_options: { include_usage: true } }),
  });
}

class DeadlineError extends Error {}

/** Sends one call and records what came back, giving up `deadlineMs` after sending. */
export async function sendChat(
  target: { baseUrl: string; headers: Record<string, string> },
  model: string,
  req: ChatRequest,
  deadlineMs: number,
  dispatcher: Dispatcher,
): Promise<Exchange> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineError()), deadlineMs);
  const x: Exchange = { stream: req.stream, elapsedMs: 0, body: '', events: [], ending: 'end' };
  const parser = createParser({
    onEvent: (e) =>
      x.events.push(e.event === undefined ? { data: e.data } : { event: e.event, data: e.data }),
  });
  try {
    const res = await request(`${target.baseUrl}/chat/completions`, {
      method: 'POST',
      dispatcher,
      signal: controller.signal,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-caller', ...target.headers },
      body: chatBody(model, req),
    });
    x.status = res.statusCode;
    x.contentType = String(res.headers['content-type'] ?? '');
    const sse = x.contentType.includes('text/event-stream');
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      const text = decoder.decode(chunk, { stream: true });
      x.body += text;
      if (sse) parser.feed(text);
    }
  } catch (err) {
    if (controller.signal.reason instanceof DeadlineError) x.ending = 'deadline';
    else {
      x.ending = 'broken';
      x.failure = describe(err);
    }
  } finally {
    clearTimeout(timer);
    x.elapsedMs = performance.now() - started;
  }
  return x;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
}

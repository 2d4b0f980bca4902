// What an exchange means to the caller, in OpenAI Chat Completions terms, before any judgement: an
// answer the caller would take as finished, an error with a reason, an in-band stream error, or one of
// the ways a caller is left without either (broken off, garbled, still waiting at the deadline).
import type { Exchange } from './exchange.ts';

export interface Usage {
  prompt: number;
  completion: number;
  total: number;
}

export type Reading =
  /** A 2xx the caller's client takes as finished: a JSON completion, or a stream that ended cleanly. */
  | {
      kind: 'answer';
      /** A stream (judged also on its closing `data: [DONE]`), or a JSON completion. */
      stream: boolean;
      text: string;
      /** Every distinct `model` the body or chunks named. */
      models: string[];
      finishReason: string | undefined;
      usage: Usage | undefined;
      sawDone: boolean;
    }
  /** A non-2xx with an OpenAI error body (`{"error": {"message": …}}`). */
  | { kind: 'error'; status: number; message: string; code: string | undefined }
  /** A stream that carried an error event (`{"error": {"message": …}}`) after `text`. */
  | { kind: 'in-band-error'; text: string; message: string }
  /** The caller got no reason: the connection failed, or a non-2xx without an OpenAI error body. */
  | { kind: 'broken'; text: string; why: string }
  /** Something no OpenAI client can read as an answer: not JSON, not a completion, the wrong framing. */
  | { kind: 'garbled'; why: string }
  /** Still waiting (no response, or a stream not ended) when the caller gave up. */
  | { kind: 'hang'; text: string; afterMs: number };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const clip = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n)}…` : s);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `{"error": {"message": …}}` of the OpenAI dialect, or undefined when `v` is not one. */
export function openAiError(v: unknown): { message: string; code: string | undefined } | undefined {
  if (!isObject(v) || !isObject(v.error)) return undefined;
  const { message, code } = v.error;
  if (typeof message !== 'string' || message.trim() === '') return undefined;
  return {
    message,
    code: typeof code === 'string' ? code : typeof code === 'number' ? String(code) : undefined,
  };
}

function usageOf(v: unknown): Usage | undefined {
  if (!isObject(v)) return undefined;
  const { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total } = v;
  if (typeof prompt !== 'number' || typeof completion !== 'number') return undefined;
  return { prompt, completion, total: typeof total === 'number' ? total : prompt + completion };
}

export function read(x: Exchange): Reading {
  if (x.status === undefined) {
    return x.ending === 'deadline'
      ? { kind: 'hang', text: '', afterMs: x.elapsedMs }
      : { kind: 'broken', text: '', why: `no response: ${x.failure ?? 'connection closed'}` };
  }
  if (x.status < 200 || x.status >= 300) return readError(x, x.status);
  const sse = (x.contentType ?? '').includes('text/event-stream');
  if (x.stream && !sse)
    return { kind: 'garbled', why: `asked for a stream, got ${x.contentType || 'no content-type'}` };
  if (!x.stream && sse) return { kind: 'garbled', why: 'asked for JSON, got an event stream' };
  return x.stream ? readStream(x) : readJson(x);
}

function readError(x: Exchange, status: number): Reading {
  if (x.ending === 'deadline') return { kind: 'hang', text: '', afterMs: x.elapsedMs };
  const error = openAiError(parseJson(x.body));
  if (error && x.ending === 'end') return { kind: 'error', status, ...error };
  const body = x.body.trim() === '' ? 'an empty body' : `"${clip(x.body.trim())}"`;
  return { kind: 'broken', text: '', why: `${status} with no OpenAI error, ${body}` };
}

function readJson(x: Exchange): Reading {
  if (x.ending === 'deadline') return { kind: 'hang', text: '', afterMs: x.elapsedMs };
  if (x.ending === 'broken') return { kind: 'broken', text: '', why: `body cut off: ${x.failure ?? ''}` };
  const body = parseJson(x.body);
  const choice = isObject(body) && Array.isArray(body.choices) ? (body.choices[0] as unknown) : undefined;
  const message = isObject(choice) ? choice.message : undefined;
  if (!isObject(body) || !isObject(choice) || !isObject(message) || typeof message.content !== 'string')
    return { kind: 'garbled', why: `2xx body is not a chat completion: "${clip(x.body)}"` };
  return {
    kind: 'answer',
    stream: false,
    text: message.content,
    models: typeof body.model === 'string' ? [body.model] : [],
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined,
    usage: usageOf(body.usage),
    sawDone: false,
  };
}

function readStream(x: Exchange): Reading {
  let text = '';
  const models = new Set<string>();
  let finishReason: string | undefined;
  let usage: Usage | undefined;
  let sawDone = false;
  for (const e of x.events) {
    if (e.data === '[DONE]') {
      sawDone = true;
      break;
    }
    const chunk = parseJson(e.data);
    if (!isObject(chunk)) return { kind: 'garbled', why: `non-JSON stream event "${clip(e.data)}"` };
    const error = openAiError(chunk);
    if (error) return { kind: 'in-band-error', text, message: error.message };
    if (typeof chunk.model === 'string') models.add(chunk.model);
    usage = usageOf(chunk.usage) ?? usage;
    const choice: unknown = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isObject(choice)) continue;
    if (isObject(choice.delta) && typeof choice.delta.content === 'string') text += choice.delta.content;
    if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
  }
  if (x.ending === 'deadline') return { kind: 'hang', text, afterMs: x.elapsedMs };
  if (x.ending === 'broken' && !sawDone)
    return { kind: 'broken', text, why: `stream broke off with no error event: ${x.failure ?? ''}` };
  return { kind: 'answer', stream: true, text, models: [...models], finishReason, usage, sawDone };
}

// What routing needs to know about a request, read once from the parsed body. Token counts are an
// estimate (≈4 characters per token): good enough to pick a route by size, never used for billing.
import type { Capability } from '../../api/index.ts';
import { TurnoutError } from '../errors.ts';
import { parseTags } from './tags.ts';

export interface RequestFeatures {
  model: string;
  stream: boolean;
  promptTokens: number;
  requires: Capability[];
  tags: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
}

export type ChatBody = Record<string, unknown> & { model: string; messages: unknown[] };

/** Checks the few fields routing relies on; everything else is the upstream's to judge. */
export function asChatBody(value: unknown): ChatBody {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TurnoutError('invalid_request', 'the request body must be a JSON object');
  }
  const body = value as Record<string, unknown>;
  if (typeof body.model !== 'string' || body.model.length === 0) {
    throw new TurnoutError('invalid_request', 'model is required and must be a non-empty string', {
      param: 'model',
    });
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new TurnoutError('invalid_request', 'messages is required and must be a non-empty array', {
      param: 'messages',
    });
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw new TurnoutError('invalid_request', 'stream must be true or false', { param: 'stream' });
  }
  return body as ChatBody;
}

export function chatFeatures(body: ChatBody, headers: RequestFeatures['headers']): RequestFeatures {
  const requires: Capability[] = ['chat'];
  const stream = body.stream === true;
  if (stream) requires.push('streaming');
  if (Array.isArray(body.tools) && body.tools.length > 0) requires.push('tools');
  const format = (body.response_format as { type?: unknown } | undefined)?.type;
  if (format === 'json_object' || format === 'json_schema') requires.push('json');
  const { chars, vision } = chatInputChars(body);
  if (vision) requires.push('vision');
  const tagHeader = headers['x-turnout-tags'];
  return {
    model: body.model,
    stream,
    promptTokens: Math.ceil(chars / 4),
    requires,
    tags: parseTags(Array.isArray(tagHeader) ? tagHeader.join(',') : tagHeader),
    headers,
  };
}

/**
 * Characters of everything a chat request sends the model as input — what the provider bills as
 * prompt: message text, names, tool calls and their arguments, tool and function definitions, and a
 * response_format JSON schema. Images, audio and files are not text and are left out (their token
 * cost is the provider's own formula), and so are roles: framing worth a few tokens per message.
 */
function chatInputChars(body: ChatBody): { chars: number; vision: boolean } {
  let chars = 0;
  let vision = false;
  for (const message of body.messages) {
    if (message === null || typeof message !== 'object') continue;
    const m = message as { content?: unknown; name?: unknown; refusal?: unknown; tool_calls?: unknown };
    if (typeof m.content === 'string') chars += m.content.length;
    else if (Array.isArray(m.content)) {
      for (const part of m.content as ({ type?: unknown; text?: unknown } | null)[]) {
        if (typeof part?.text === 'string') chars += part.text.length;
        if (part?.type === 'image_url' || part?.type === 'input_image') vision = true;
      }
    }
    if (typeof m.name === 'string') chars += m.name.length;
    if (typeof m.refusal === 'string') chars += m.refusal.length;
    chars += jsonChars(m.tool_calls) + jsonChars((message as { function_call?: unknown }).function_call);
  }
  if (Array.isArray(body.tools))
    for (const tool of body.tools as ({ function?: unknown } | null)[])
      chars += jsonChars(tool?.function ?? tool);
  chars += jsonChars(body.functions);
  chars += jsonChars((body.response_format as { json_schema?: unknown } | undefined)?.json_schema);
  return { chars, vision };
}

/** Characters of a JSON value's keys and strings: a schema's or a tool call's share of the prompt. */
function jsonChars(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  if (Array.isArray(value)) for (const v of value) n += jsonChars(v);
  else for (const k in value) n += k.length + jsonChars((value as Record<string, unknown>)[k]);
  return n;
}

export type InferenceBody = Record<string, unknown> & { model: string };

function asModelBody(value: unknown): InferenceBody {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TurnoutError('invalid_request', 'the request body must be a JSON object');
  }
  const body = value as Record<string, unknown>;
  if (typeof body.model !== 'string' || body.model.length === 0) {
    throw new TurnoutError('invalid_request', 'model is required and must be a non-empty string', {
      param: 'model',
    });
  }
  return body as InferenceBody;
}

function textLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textLength(v), 0);
  if (value !== null && typeof value === 'object')
    return Object.values(value).reduce((n: number, v) => n + textLength(v), 0);
  return 0;
}

/** POST /v1/embeddings: `input` is a string, an array of strings, or token arrays. */
export function asEmbeddingsBody(value: unknown): InferenceBody {
  const body = asModelBody(value);
  const input = body.input;
  const ok = typeof input === 'string' ? input.length > 0 : Array.isArray(input) && input.length > 0;
  if (!ok)
    throw new TurnoutError('invalid_request', 'input is required: a non-empty string or array', {
      param: 'input',
    });
  return body;
}

/** POST /v1/responses: `input` is a string or an array of input items. */
export function asResponsesBody(value: unknown): InferenceBody {
  const body = asModelBody(value);
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) {
    throw new TurnoutError('invalid_request', 'input is required: a string or an array of input items', {
      param: 'input',
    });
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw new TurnoutError('invalid_request', 'stream must be true or false', { param: 'stream' });
  }
  return body;
}

export function operationFeatures(
  body: InferenceBody,
  headers: RequestFeatures['headers'],
  capability: 'embeddings' | 'responses',
): RequestFeatures {
  const stream = body.stream === true;
  const tagHeader = headers['x-turnout-tags'];
  // Tool definitions and a structured-output schema (text.format) are prompt too.
  const chars =
    textLength(body.input) +
    (typeof body.instructions === 'string' ? body.instructions.length : 0) +
    jsonChars(body.tools) +
    jsonChars((body.text as { format?: unknown } | undefined)?.format);
  return {
    model: body.model,
    stream,
    promptTokens: Math.ceil(chars / 4),
    requires: stream ? [capability, 'streaming'] : [capability],
    tags: parseTags(Array.isArray(tagHeader) ? tagHeader.join(',') : tagHeader),
    headers,
  };
}

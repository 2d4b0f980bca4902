// How an upstream's answer reaches the caller, per (upstream wire dialect, caller dialect) pair: a JSON
// body, a stream, or an error. Same dialect: bytes pass through and are only observed. Different
// dialects: the translate/ library converts, with OpenAI Chat as the pivot.
import { randomUUID } from 'node:crypto';
import { usageFromOpenAi, usageFromResponses, type Usage } from '../accounting/usage.ts';
import { ResponsesPassthroughStream } from './responses-stream.ts';
import type { WireDialect } from '../providers/types.ts';
import {
  AnthropicToOpenAiStream,
  anthropicErrorJson,
  anthropicResponseFromOpenAi,
  errorFromAnthropic,
  errorFromGemini,
  errorFromOpenAi,
  GeminiToOpenAiStream,
  OpenAiToAnthropicStream,
  openAiErrorJson,
  openAiResponseFromAnthropic,
  openAiResponseFromGemini,
  usageFromAnthropic,
  type ChatCompletion,
  type NeutralError,
  type StreamTranslator,
} from '../translate/index.ts';
import { isRecord, parseJson } from '../translate/json.ts';
import { AnthropicPassthroughStream, ChainedStream, OpenAiPassthroughStream } from './passthrough-streams.ts';

export type CallerDialect = 'openai' | 'anthropic';

export interface ShapeContext {
  /** The model that answered (the target's model id). */
  model: string;
  /** The model name the caller asked for. */
  requestedModel: string;
  /** OpenAI callers: whether they asked for stream_options.include_usage. */
  callerWantsUsage: boolean;
  /** chat (default), or an OpenAI-wire passthrough operation with its own usage shape. */
  operation?: 'chat' | 'embeddings' | 'responses';
  /** The request asked for JSON (Anthropic upstreams answer it through a tool; preamble text is dropped). */
  jsonMode?: boolean;
}

export interface ShapedJson {
  bytes: Buffer;
  usage: Usage | undefined;
  finishReason: string | undefined;
}

export interface Shaper {
  /** The caller's bytes for an upstream JSON answer; throws SyntaxError when the upstream JSON is broken. */
  json(upstream: Buffer): ShapedJson;
  stream(): StreamTranslator;
  /**
   * The upstream's error in the caller's dialect: the upstream's own bytes when it speaks the caller's
   * dialect and sent a JSON object; anything else (an HTML page from a proxy or WAF, an empty body) in
   * the caller's error JSON, with the upstream status and a short excerpt of the text.
   */
  error(status: number, body: Buffer): { neutral: NeutralError; bytes: Buffer };
}

const now = () => Math.floor(Date.now() / 1000);
const newId = () => `chatcmpl-${randomUUID()}`;

function toOpenAi(wire: WireDialect, parsed: unknown, ctx: ShapeContext): ChatCompletion | undefined {
  if (wire === 'anthropic') return openAiResponseFromAnthropic(parsed, { created: now(), model: ctx.model });
  if (wire === 'gemini')
    return openAiResponseFromGemini(parsed, { model: ctx.model, id: newId(), created: now() });
  return undefined;
}

function neutralError(wire: WireDialect, status: number, body: Buffer): NeutralError {
  if (wire === 'anthropic') return errorFromAnthropic(status, body);
  if (wire === 'gemini') return errorFromGemini(status, body);
  return errorFromOpenAi(status, body);
}

function isJsonObject(body: Buffer): boolean {
  const parsed = parseJson(body.toString('utf8'));
  return parsed.ok && isRecord(parsed.value);
}

export function shaperFor(wire: WireDialect, caller: CallerDialect, ctx: ShapeContext): Shaper {
  return {
    json(upstream) {
      const parsed: unknown = JSON.parse(upstream.toString('utf8'));
      if (ctx.operation === 'responses') {
        const usage = usageFromResponses((parsed as { usage?: unknown } | null)?.usage);
        return { bytes: upstream, usage, finishReason: undefined };
      }
      if (wire === caller) {
        const raw =
          (parsed as { usage?: unknown; choices?: { finish_reason?: unknown }[]; stop_reason?: unknown }) ??
          {};
        const usage = caller === 'openai' ? usageFromOpenAi(raw.usage) : usageFromAnthropic(raw.usage);
        const finish = caller === 'openai' ? raw.choices?.[0]?.finish_reason : raw.stop_reason;
        return { bytes: upstream, usage, finishReason: typeof finish === 'string' ? finish : undefined };
      }
      const completion = toOpenAi(wire, parsed, ctx) ?? (parsed as ChatCompletion);
      const usage = usageFromOpenAi(completion.usage);
      const finishReason = completion.choices[0]?.finish_reason;
      const out =
        caller === 'openai'
          ? completion
          : anthropicResponseFromOpenAi(completion, { requestedModel: ctx.model });
      return { bytes: Buffer.from(JSON.stringify(out)), usage, finishReason };
    },
    stream() {
      if (ctx.operation === 'responses') return new ResponsesPassthroughStream();
      if (wire === caller) {
        return caller === 'openai'
          ? new OpenAiPassthroughStream({ callerWantsUsage: ctx.callerWantsUsage })
          : new AnthropicPassthroughStream();
      }
      // Anthropic's message_delta always reports usage, so the OpenAI pivot must keep its usage chunk
      // for the second translator even though no OpenAI caller asked for it.
      const includeUsage = ctx.callerWantsUsage || caller === 'anthropic';
      const created = now();
      const toOpenAiStream: StreamTranslator =
        wire === 'anthropic'
          ? new AnthropicToOpenAiStream({ created, model: ctx.model, includeUsage, jsonMode: ctx.jsonMode })
          : wire === 'gemini'
            ? new GeminiToOpenAiStream({ id: newId(), created, model: ctx.model, includeUsage })
            : new OpenAiPassthroughStream({ callerWantsUsage: includeUsage });
      if (caller === 'openai') return toOpenAiStream;
      return new ChainedStream(toOpenAiStream, new OpenAiToAnthropicStream({ requestedModel: ctx.model }));
    },
    error(status, body) {
      const neutral = neutralError(wire, status, body);
      if (wire === caller && isJsonObject(body)) return { neutral, bytes: body };
      const rendered = caller === 'openai' ? openAiErrorJson(neutral) : anthropicErrorJson(neutral);
      return { neutral, bytes: Buffer.from(JSON.stringify(rendered)) };
    },
  };
}

import type { AdapterContext, ChatCall, PreparedRequest, ProviderAdapter } from '../types.ts';

const basePaths = new Map<string, string>();

/** Base path of the endpoint ("/v1" for https://api.openai.com/v1), without a trailing slash. */
export function basePath(endpoint: string | undefined): string {
  if (!endpoint) return '';
  // Remembered per endpoint: parsing a URL on every call cost ~5 µs of a proxied call's CPU.
  let path = basePaths.get(endpoint);
  if (path === undefined) {
    path = new URL(endpoint).pathname.replace(/\/+$/, '');
    if (basePaths.size >= 1024) basePaths.clear(); // endpoints come from snapshots: few, but never unbounded
    basePaths.set(endpoint, path);
  }
  return path;
}

/**
 * An OpenAI Chat Completions body for the target model. An OpenAI caller's bytes go out untouched when
 * nothing must change; streams ask for usage (stream_options.include_usage) when `askUsage`, so cost and
 * budgets see real token counts — the passthrough stream drops that chunk again if the caller did not ask.
 */
export function openAiChatBody(call: ChatCall, model: string, askUsage: boolean): string | Buffer {
  const source = call.caller === 'openai' ? call.callerBody : call.body;
  const injectUsage = call.stream && askUsage;
  if (call.caller === 'openai' && source.model === model) {
    if (!injectUsage) return call.raw;
    const spliced = source.stream_options === undefined ? withUsageOption(call.raw) : undefined;
    if (spliced) return spliced;
  }
  const options = (source.stream_options as Record<string, unknown> | undefined) ?? {};
  return JSON.stringify({
    ...source,
    model,
    ...(injectUsage && { stream_options: { ...options, include_usage: true } }),
  });
}

const USAGE_OPTION = Buffer.from(',"stream_options":{"include_usage":true}}');

/**
 * The caller's JSON object with `"stream_options":{"include_usage":true}` added as its last member, by
 * splicing bytes rather than re-serialising the whole body (whose cost grows with the prompt). Only for a
 * body without a top-level stream_options (the caller checks), so no key is duplicated; undefined when
 * the bytes do not end in the object's closing brace.
 */
export function withUsageOption(raw: Buffer): Buffer | undefined {
  const end = lastNonSpace(raw, raw.length - 1);
  // `{}` has no member to follow: a comma after its brace would not be JSON.
  if (end < 1 || raw[end] !== 0x7d || raw[lastNonSpace(raw, end - 1)] === 0x7b) return undefined;
  return Buffer.concat([raw.subarray(0, end), USAGE_OPTION]);
}

function lastNonSpace(raw: Buffer, from: number): number {
  let i = from;
  while (i >= 0 && (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09)) i--;
  return i;
}

export function openAiChatRequest(call: ChatCall, ctx: AdapterContext, askUsage: boolean): PreparedRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (ctx.apiKey !== undefined) headers.authorization = `Bearer ${ctx.apiKey}`;
  return {
    method: 'POST',
    path: `${basePath(ctx.provider.endpoint)}/chat/completions`,
    headers,
    body: openAiChatBody(call, ctx.model.name, askUsage),
  };
}

/** An OpenAI-wire request for `operation` (embeddings, responses): the caller's body, model swapped if needed. */
export function openAiPassthroughRequest(
  call: ChatCall,
  ctx: AdapterContext,
  path: string,
  headers: Record<string, string>,
): PreparedRequest {
  const model = ctx.model.name;
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: call.callerBody.model === model ? call.raw : JSON.stringify({ ...call.callerBody, model }),
  };
}

const bearer = (ctx: AdapterContext): Record<string, string> =>
  ctx.apiKey === undefined ? {} : { authorization: `Bearer ${ctx.apiKey}` };

export const openAiAdapter: ProviderAdapter = {
  wireDialect: 'openai',
  chat: (call, ctx) => openAiChatRequest(call, ctx, true),
  embeddings: (call, ctx) =>
    openAiPassthroughRequest(call, ctx, `${basePath(ctx.provider.endpoint)}/embeddings`, bearer(ctx)),
  responses: (call, ctx) =>
    openAiPassthroughRequest(call, ctx, `${basePath(ctx.provider.endpoint)}/responses`, bearer(ctx)),
};

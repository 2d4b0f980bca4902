import type { AdapterContext, ChatCall, PreparedRequest, ProviderAdapter } from '../types.ts';

/** Base path of the endpoint ("/v1" for https://api.openai.com/v1), without a trailing slash. */
export function basePath(endpoint: string | undefined): string {
  if (!endpoint) return '';
  return new URL(endpoint).pathname.replace(/\/+$/, '');
}

/**
 * An OpenAI Chat Completions body for the target model. An OpenAI caller's bytes go out untouched when
 * nothing must change; streams ask for usage (stream_options.include_usage) when `askUsage`, so cost and
 * budgets see real token counts — the passthrough stream drops that chunk again if the caller did not ask.
 */
export function openAiChatBody(call: ChatCall, model: string, askUsage: boolean): string | Buffer {
  const source = call.caller === 'openai' ? call.callerBody : call.body;
  const injectUsage = call.stream && askUsage;
  if (call.caller === 'openai' && source.model === model && !injectUsage) return call.raw;
  const options = (source.stream_options as Record<string, unknown> | undefined) ?? {};
  return JSON.stringify({
    ...source,
    model,
    ...(injectUsage && { stream_options: { ...options, include_usage: true } }),
  });
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

import type { AdapterContext, ChatCall, PreparedRequest, ProviderAdapter } from '../types.ts';

/** Base path of the endpoint ("/v1" for https://api.openai.com/v1), without a trailing slash. */
export function basePath(endpoint: string | undefined): string {
  if (!endpoint) return '';
  return new URL(endpoint).pathname.replace(/\/+$/, '');
}

/**
 * OpenAI Chat Completions, spoken natively: the body goes out as the caller sent it, byte for byte,
 * unless the routed model differs from the requested one — then only `model` is replaced.
 */
export function openAiChatRequest(
  call: ChatCall,
  ctx: AdapterContext,
  extraHeaders: Record<string, string> = {},
): PreparedRequest {
  const sameModel = call.body.model === ctx.model.name;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
  if (ctx.apiKey !== undefined) headers.authorization = `Bearer ${ctx.apiKey}`;
  return {
    method: 'POST',
    path: `${basePath(ctx.provider.endpoint)}/chat/completions`,
    headers,
    body: sameModel ? call.raw : JSON.stringify({ ...call.body, model: ctx.model.name }),
  };
}

export const openAiAdapter: ProviderAdapter = {
  wireDialect: 'openai',
  chat: (call, ctx) => openAiChatRequest(call, ctx),
};

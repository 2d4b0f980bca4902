// Azure OpenAI: the OpenAI wire format, addressed by deployment with an api-version query parameter
// and authenticated with an api-key header. The endpoint is the resource's /openai base URL.
import { basePath, openAiChatBody, openAiPassthroughRequest } from '../openai/adapter.ts';
import type { ProviderAdapter } from '../types.ts';

export const azureOpenAiAdapter: ProviderAdapter = {
  wireDialect: 'openai',
  chat(call, ctx) {
    const deployment = encodeURIComponent(ctx.model.deployment ?? ctx.model.name);
    const version = encodeURIComponent(ctx.provider.azure?.apiVersion ?? '');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (ctx.apiKey !== undefined) headers['api-key'] = ctx.apiKey;
    return {
      method: 'POST',
      path: `${basePath(ctx.provider.endpoint)}/deployments/${deployment}/chat/completions?api-version=${version}`,
      headers,
      body: openAiChatBody(call, ctx.model.name, true),
    };
  },
  embeddings(call, ctx) {
    const deployment = encodeURIComponent(ctx.model.deployment ?? ctx.model.name);
    const version = encodeURIComponent(ctx.provider.azure?.apiVersion ?? '');
    const path = `${basePath(ctx.provider.endpoint)}/deployments/${deployment}/embeddings?api-version=${version}`;
    return openAiPassthroughRequest(
      call,
      ctx,
      path,
      ctx.apiKey === undefined ? {} : { 'api-key': ctx.apiKey },
    );
  },
};

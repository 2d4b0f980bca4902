// Gemini generateContent / streamGenerateContent (SSE). The key travels in the x-goog-api-key header,
// never in the URL, so it cannot leak through access logs or error messages that echo URLs.
import { geminiRequestFromOpenAi } from '../../translate/index.ts';
import { basePath } from '../openai/adapter.ts';
import type { ProviderAdapter } from '../types.ts';

export const geminiAdapter: ProviderAdapter = {
  wireDialect: 'gemini',
  chat(call, ctx) {
    const { path, body } = geminiRequestFromOpenAi(call.body, { model: ctx.model.name });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (ctx.apiKey !== undefined) headers['x-goog-api-key'] = ctx.apiKey;
    return {
      method: 'POST',
      path: `${basePath(ctx.provider.endpoint)}/${path}`,
      headers,
      body: JSON.stringify(body),
    };
  },
};

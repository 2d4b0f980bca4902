// Anthropic Messages. An Anthropic caller's request goes out as sent (model swapped if needed); an
// OpenAI-dialect request is translated (system prompt, tools, images, JSON mode — see translate/).
import { anthropicRequestFromOpenAi } from '../../translate/index.ts';
import { basePath } from '../openai/adapter.ts';
import type { ProviderAdapter } from '../types.ts';

export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropicAdapter: ProviderAdapter = {
  wireDialect: 'anthropic',
  chat(call, ctx) {
    const model = ctx.model.name;
    let body: string | Buffer;
    if (call.caller === 'anthropic') {
      body = call.callerBody.model === model ? call.raw : JSON.stringify({ ...call.callerBody, model });
    } else {
      body = JSON.stringify(
        anthropicRequestFromOpenAi(call.body, {
          model,
          ...(ctx.model.maxOutputTokens !== undefined && { maxTokensDefault: ctx.model.maxOutputTokens }),
        }),
      );
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
    };
    if (ctx.apiKey !== undefined) headers['x-api-key'] = ctx.apiKey;
    // Beta features change what the request means (1M context, new tool types): the caller's choice.
    if (call.caller === 'anthropic' && call.anthropicBeta) headers['anthropic-beta'] = call.anthropicBeta;
    // The endpoint is the API origin (https://api.anthropic.com); tolerate one given with /v1.
    return {
      method: 'POST',
      path: `${basePath(ctx.provider.endpoint).replace(/\/v1$/, '')}/v1/messages`,
      headers,
      body,
    };
  },
};

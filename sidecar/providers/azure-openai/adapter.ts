// Azure OpenAI: the OpenAI wire format on a resource whose endpoint is its /openai base URL
// (https://<resource>.openai.azure.com/openai), authenticated with an api-key header. Chat and embeddings
// use the deployment-scoped paths with the provider's api-version; the Responses API is served only by
// the v1 API (see responses below and docs/providers.md).
import { basePath, openAiChatBody } from '../openai/adapter.ts';
import type { AdapterContext, ChatCall, PreparedRequest, ProviderAdapter } from '../types.ts';

/** The deployment serving the target model: Azure routes by deployment name, not model id. */
const deploymentOf = (ctx: AdapterContext): string => ctx.model.deployment ?? ctx.model.name;

function headersOf(ctx: AdapterContext): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (ctx.apiKey !== undefined) headers['api-key'] = ctx.apiKey;
  return headers;
}

/** `/openai/deployments/{deployment}/{operation}?api-version=…`, the form of the dated APIs. */
function deploymentPath(ctx: AdapterContext, operation: string): string {
  const deployment = encodeURIComponent(deploymentOf(ctx));
  const version = encodeURIComponent(ctx.provider.azure?.apiVersion ?? '');
  return `${basePath(ctx.provider.endpoint)}/deployments/${deployment}/${operation}?api-version=${version}`;
}

/** The caller's body with `model` set to `model`: its own bytes when it already names it. */
function bodyNaming(call: ChatCall, model: string): string | Buffer {
  return call.callerBody.model === model ? call.raw : JSON.stringify({ ...call.callerBody, model });
}

export const azureOpenAiAdapter: ProviderAdapter = {
  wireDialect: 'openai',
  chat(call, ctx) {
    return {
      method: 'POST',
      path: deploymentPath(ctx, 'chat/completions'),
      headers: headersOf(ctx),
      body: openAiChatBody(call, ctx.model.name, true),
    };
  },
  embeddings(call, ctx) {
    return {
      method: 'POST',
      path: deploymentPath(ctx, 'embeddings'),
      headers: headersOf(ctx),
      body: bodyNaming(call, ctx.model.name),
    };
  },
  /**
   * POST {endpoint}/v1/responses with no api-version: Azure serves Responses from its v1 API, where the
   * deployment goes in the body's `model` instead of the path. The provider's azure.apiVersion dates the
   * deployment-path APIs (e.g. 2024-10-21) and is not a version the Responses API accepts, so it is not
   * sent; the older /openai/responses?api-version=…-preview form needs a preview version and lacks the
   * newer features. Streams are the same SSE events as OpenAI's, passed through.
   */
  responses(call, ctx): PreparedRequest {
    return {
      method: 'POST',
      path: `${basePath(ctx.provider.endpoint)}/v1/responses`,
      headers: headersOf(ctx),
      body: bodyNaming(call, deploymentOf(ctx)),
    };
  },
};

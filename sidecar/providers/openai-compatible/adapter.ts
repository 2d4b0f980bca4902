// Mistral, DeepSeek, Qwen, Groq, Together, Fireworks, xAI, OpenRouter, vLLM, Ollama: the OpenAI wire
// format at another base URL. The key is optional (a local vLLM or Ollama usually takes none).
// stream_options is not added: some of these servers reject it. Streams that report usage anyway are
// billed by it; others settle budgets at the admission estimate.
import { basePath, openAiChatRequest, openAiPassthroughRequest } from '../openai/adapter.ts';
import type { ProviderAdapter } from '../types.ts';

export const openAiCompatibleAdapter: ProviderAdapter = {
  wireDialect: 'openai',
  chat: (call, ctx) => openAiChatRequest(call, ctx, false),
  embeddings: (call, ctx) =>
    openAiPassthroughRequest(
      call,
      ctx,
      `${basePath(ctx.provider.endpoint)}/embeddings`,
      ctx.apiKey === undefined ? {} : { authorization: `Bearer ${ctx.apiKey}` },
    ),
};

// Mistral, DeepSeek, Qwen, Groq, Together, Fireworks, xAI, OpenRouter, vLLM, Ollama: the OpenAI wire
// format at another base URL. The key is optional (a local vLLM or Ollama usually takes none).
import { openAiChatRequest } from '../openai/adapter.ts';
import type { ProviderAdapter } from '../types.ts';

export const openAiCompatibleAdapter: ProviderAdapter = {
  wireDialect: 'openai',
  chat: (call, ctx) => openAiChatRequest(call, ctx),
};

import type { ProviderType, SnapshotProvider } from '../../api/index.ts';
import { HttpTransport } from './http-transport.ts';
import { MockTransport } from './mock/transport.ts';
import { openAiCompatibleAdapter } from './openai-compatible/adapter.ts';
import { openAiAdapter } from './openai/adapter.ts';
import { anthropicAdapter } from './anthropic/adapter.ts';
import { azureOpenAiAdapter } from './azure-openai/adapter.ts';
import { geminiAdapter } from './gemini/adapter.ts';
import type { ProviderAdapter, Transport } from './types.ts';

interface ProviderKind {
  adapter: ProviderAdapter;
  transport: (provider: SnapshotProvider) => Transport;
}

const http = (p: SnapshotProvider) => new HttpTransport(p);

/** The simulated provider speaks OpenAI chat and embeddings; it does not imitate the Responses API. */
const mockAdapter: ProviderAdapter = {
  wireDialect: 'openai',
  chat: (call, ctx) => openAiAdapter.chat(call, ctx),
  embeddings: (call, ctx) =>
    openAiAdapter.embeddings?.(call, ctx) as ReturnType<NonNullable<ProviderAdapter['embeddings']>>,
};

/** Every provider type, by the adapter that phrases its requests and the transport that sends them. */
const KINDS: Record<ProviderType, ProviderKind> = {
  openai: { adapter: openAiAdapter, transport: http },
  'azure-openai': { adapter: azureOpenAiAdapter, transport: http },
  anthropic: { adapter: anthropicAdapter, transport: http },
  gemini: { adapter: geminiAdapter, transport: http },
  'openai-compatible': { adapter: openAiCompatibleAdapter, transport: http },
  mock: { adapter: mockAdapter, transport: (p) => new MockTransport(p) },
};

export function providerKind(type: ProviderType): ProviderKind | undefined {
  return KINDS[type];
}

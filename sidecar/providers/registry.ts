import type { ProviderType, SnapshotProvider } from '../../api/index.ts';
import { HttpTransport } from './http-transport.ts';
import { MockTransport } from './mock/transport.ts';
import { openAiCompatibleAdapter } from './openai-compatible/adapter.ts';
import { openAiAdapter } from './openai/adapter.ts';
import type { ProviderAdapter, Transport } from './types.ts';

interface ProviderKind {
  adapter: ProviderAdapter;
  transport: (provider: SnapshotProvider) => Transport;
}

const http = (p: SnapshotProvider) => new HttpTransport(p);

/** Provider types this sidecar can serve. A type missing here is skipped at routing time with a reason. */
const KINDS: Partial<Record<ProviderType, ProviderKind>> = {
  openai: { adapter: openAiAdapter, transport: http },
  'openai-compatible': { adapter: openAiCompatibleAdapter, transport: http },
  mock: { adapter: openAiAdapter, transport: (p) => new MockTransport(p) },
};

export function providerKind(type: ProviderType): ProviderKind | undefined {
  return KINDS[type];
}

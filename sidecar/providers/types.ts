// The seam between routing and a provider's wire format. Core code never branches on a provider's
// name: it asks the registry for an adapter (how to phrase the request) and a transport (how to send it).
import type { SnapshotModel, SnapshotProvider } from '../../api/index.ts';
import type { UpstreamBody } from './upstream-body.ts';

export type WireDialect = 'openai' | 'anthropic' | 'gemini';

export interface ChatCall {
  /** The request in canonical OpenAI Chat Completions form. */
  body: Record<string, unknown>;
  /** The dialect the caller spoke, its parsed body, and its original bytes: an upstream speaking the
   * same dialect gets those bytes untouched when no field must change. */
  caller: WireDialect;
  callerBody: Record<string, unknown>;
  raw: Buffer;
  stream: boolean;
  /** Anthropic callers: the beta features they opted into (anthropic-beta), for Anthropic upstreams. */
  anthropicBeta?: string;
}

export interface AdapterContext {
  provider: SnapshotProvider;
  model: SnapshotModel;
  apiKey: string | undefined;
}

export interface PreparedRequest {
  method: 'POST' | 'GET';
  /** Path and query, relative to the transport's origin. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface ProviderAdapter {
  readonly wireDialect: WireDialect;
  chat(call: ChatCall, ctx: AdapterContext): PreparedRequest;
  /** OpenAI-wire passthrough operations; absent when the provider type does not serve them. */
  embeddings?(call: ChatCall, ctx: AdapterContext): PreparedRequest;
  responses?(call: ChatCall, ctx: AdapterContext): PreparedRequest;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** undici's dispatch feeds it (http-transport.ts); the simulated provider hands over a Readable. */
  body: UpstreamBody;
}

export interface Transport {
  send(request: PreparedRequest, signal: AbortSignal): Promise<UpstreamResponse>;
  /** Waits for requests in flight, then releases connections. */
  close(): Promise<void>;
}

import { Pool } from 'undici';
import type { SnapshotProvider } from '../../api/index.ts';
import type { PreparedRequest, Transport, UpstreamResponse } from './types.ts';

/**
 * An undici keep-alive pool to one provider origin. Body and header timeouts are left to the
 * dispatcher (which knows whether a call streams); the pool only bounds connecting and idling.
 */
export class HttpTransport implements Transport {
  readonly #pool: Pool;

  constructor(provider: SnapshotProvider) {
    if (!provider.endpoint) throw new Error(`provider ${provider.name} has no endpoint`);
    this.#pool = new Pool(new URL(provider.endpoint).origin, {
      connect: { timeout: provider.timeouts.connectMs },
      connections: provider.limits.maxConcurrent ?? null,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: 0,
      bodyTimeout: provider.timeouts.idleMs,
    });
  }

  async send(request: PreparedRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    const res = await this.#pool.request({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body ?? null,
      signal,
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Transports are shared across snapshots while a provider's connection settings stay the same. */
export function transportKey(provider: SnapshotProvider): string {
  return JSON.stringify([
    provider.type,
    provider.endpoint,
    provider.timeouts,
    provider.limits.maxConcurrent,
    provider.mock,
  ]);
}

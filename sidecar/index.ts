import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SidecarMetrics } from './metrics.ts';
import { createSidecarServer, DEFAULT_MAX_BODY_BYTES } from './http/server.ts';
import { SnapshotStore } from './snapshot/store.ts';
import { createSidecarState, type SidecarState } from './runtime-state.ts';
import type { Decision } from './upstream/call.ts';

export { SnapshotStore } from './snapshot/store.ts';
export { DEFAULT_MAX_BODY_BYTES } from './http/server.ts';
export type { Decision, AttemptRecord, SkipRecord } from './upstream/call.ts';
export { TurnoutError } from './errors.ts';

export interface SidecarOptions {
  host?: string;
  port?: number;
  maxBodyBytes?: number;
  store?: SnapshotStore;
  onDecision?: (d: Decision) => void;
  onInternalError?: (e: unknown) => void;
  state?: SidecarState;
}

export interface RunningSidecar {
  url: string;
  server: Server;
  store: SnapshotStore;
  metrics: SidecarMetrics;
  /** Stops accepting, waits for calls in flight, then closes upstream connections. */
  close(): Promise<void>;
}

export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 15400 } as const;

export async function startSidecar(opts: SidecarOptions = {}): Promise<RunningSidecar> {
  const store = opts.store ?? new SnapshotStore();
  const metrics = new SidecarMetrics();
  const server = createSidecarServer({
    store,
    metrics,
    state: opts.state ?? createSidecarState(),
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ...(opts.onDecision && { onDecision: opts.onDecision }),
    ...(opts.onInternalError && { onInternalError: opts.onInternalError }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_LISTEN.port, opts.host ?? DEFAULT_LISTEN.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    server,
    store,
    metrics,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await store.close();
    },
  };
}

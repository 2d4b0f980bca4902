import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SidecarMetrics } from './metrics.ts';
import { createOpsServer, createSidecarServer, DEFAULT_MAX_BODY_BYTES } from './http/server.ts';
import { Drain, type DrainReport } from './health/drain.ts';
import { cachedRouteKeys } from './policy/cache.ts';
import { closeServer, shutdown } from './health/shutdown.ts';
import { SnapshotStore } from './snapshot/store.ts';
import { createSidecarState, type SidecarState } from './runtime-state.ts';
import type { Decision } from './upstream/call.ts';
import { Telemetry, type TelemetryOptions } from './telemetry/index.ts';
import { startTransparentListener, type TransparentOptions } from './transparent/index.ts';
import { AfterCallQueue } from './telemetry/after-call.ts';

export { SnapshotStore } from './snapshot/store.ts';
export { DEFAULT_MAX_BODY_BYTES } from './http/server.ts';
export type { Decision, AttemptRecord, SkipRecord } from './upstream/call.ts';
export { TurnoutError } from './errors.ts';
export { SidecarMetrics } from './metrics.ts';
export { Telemetry, type TelemetryOptions, type DecisionRecord } from './telemetry/index.ts';
export type { DrainReport } from './health/drain.ts';

export interface SidecarOptions {
  /** The routing port's address: loopback only (see {@link assertLoopback}). */
  host?: string;
  port?: number;
  /** Optional separate port for /healthz, /readyz and /metrics, which may bind any address. */
  metricsListen?: { host: string; port: number };
  /** Transparent egress: a loopback TLS listener (the pod's hostAliases point provider hosts at it). */
  transparent?: TransparentOptions;
  maxBodyBytes?: number;
  store?: SnapshotStore;
  onDecision?: (d: Decision) => void;
  onInternalError?: (e: unknown) => void;
  state?: SidecarState;
  /** Created beforehand when something else reports into it too (the sync client's events). */
  metrics?: SidecarMetrics;
  /** Tracing and redaction; by default configured from the OTEL_* environment. */
  telemetry?: Telemetry | TelemetryOptions;
  /** Refuse web pages' requests (Origin, foreign Host): on by default, off in a pod (http/server.ts). */
  refuseWebPages?: boolean;
}

export interface RunningSidecar {
  url: string;
  metricsUrl?: string;
  /** https://127.0.0.1:443 (or the port given) when transparent egress is on. */
  transparentUrl?: string;
  server: Server;
  store: SnapshotStore;
  metrics: SidecarMetrics;
  telemetry: Telemetry;
  /**
   * Graceful shutdown. At once: readiness fails, new calls get a retriable 503 `shutting_down`, idle
   * keep-alive connections close. Calls in flight may finish within `drainMs` (unbounded by default);
   * those still running then are cut (a stream ends with an in-band error event). Then the listeners
   * and upstream connections close. Calling it again returns the same shutdown.
   */
  close(options?: { drainMs?: number }): Promise<DrainReport>;
  /** Ends the drain window of a shutdown under way now (a second signal): calls in flight are cut. */
  endDrainWindow(): void;
  /**
   * Records now what answered calls still owe (metrics, spans, decisions), which otherwise lands within
   * 25 ms (AFTER_CALL_DELAY_MS). Scrapes and close() do this themselves.
   */
  settle(): void;
}

/** The drain window when none is configured: a pod's default 30 s grace period less a margin (docs). */
export const DEFAULT_DRAIN_MS = 25_000;

export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 15400 } as const;

/**
 * Anything that can reach the routing port spends this pod's provider credentials, so it only ever
 * binds loopback: the app in the same pod can reach it, nothing outside the pod can.
 */
export function assertLoopback(host: string): void {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h)) return;
  throw new Error(
    `the routing port must bind a loopback address (127.0.0.1, ::1 or localhost), not ${host}: anything that reaches it can spend this pod's provider credentials. Expose health and metrics with a separate metrics listen address instead.`,
  );
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${bound}`;
}

export async function startSidecar(opts: SidecarOptions = {}): Promise<RunningSidecar> {
  assertLoopback(opts.host ?? DEFAULT_LISTEN.host);
  const store = opts.store ?? new SnapshotStore();
  const state = opts.state ?? createSidecarState();
  const metrics = opts.metrics ?? new SidecarMetrics();
  metrics.track(store, state);
  // Caches of routes a reload removed or changed can never be hit again: without this they stay forever.
  store.onLoad((runtime) => state.caches.retain(cachedRouteKeys(runtime)));
  // Likewise the breakers of providers a reload removed (kept ones keep their state, see the registry).
  store.onLoad((runtime) =>
    state.breakers.retain(
      [...runtime.providers.values()].map(({ spec }) => ({
        provider: spec.name,
        endpoint: spec.endpoint,
      })),
    ),
  );
  // And the Retry-After cool-downs of targets it removed.
  store.onLoad((runtime) =>
    state.cooldowns.retain(
      [...runtime.providers.values()].map(({ spec, models }) => ({
        provider: spec.name,
        endpoint: spec.endpoint,
        models: models.keys(),
      })),
    ),
  );
  const telemetry =
    opts.telemetry instanceof Telemetry ? opts.telemetry : await Telemetry.create(opts.telemetry);
  telemetry.attach(store);
  const drain = new Drain();
  const afterCall = new AfterCallQueue(
    opts.onInternalError ?? ((e: unknown) => console.error('turnout: recording a call failed', e)),
  );
  metrics.settleBeforeRead(() => afterCall.flush());
  telemetry.settleBeforeFlush(() => afterCall.flush());
  const server = createSidecarServer({
    afterCall,
    store,
    metrics,
    telemetry,
    state,
    drain,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ...(opts.onDecision && { onDecision: opts.onDecision }),
    ...(opts.onInternalError && { onInternalError: opts.onInternalError }),
    ...(opts.refuseWebPages !== undefined && { refuseWebPages: opts.refuseWebPages }),
  });
  const url = await listen(server, opts.port ?? DEFAULT_LISTEN.port, opts.host ?? DEFAULT_LISTEN.host);
  const transparent = opts.transparent
    ? await startTransparentListener(server, opts.transparent, assertLoopback).catch((e: unknown) => {
        server.close();
        throw e;
      })
    : undefined;
  const opsServer = opts.metricsListen ? createOpsServer({ store, metrics, drain }) : undefined;
  const metricsUrl =
    opsServer && opts.metricsListen
      ? await listen(opsServer, opts.metricsListen.port, opts.metricsListen.host)
      : undefined;
  let closing: Promise<DrainReport> | undefined;
  return {
    url,
    ...(metricsUrl && { metricsUrl }),
    server,
    store,
    metrics,
    telemetry,
    ...(transparent && { transparentUrl: transparent.url }),
    close(options = {}) {
      closing ??= (async () => {
        const others = [
          { close: () => transparent?.close() },
          ...(opsServer ? [{ close: () => closeServer(opsServer) }] : []),
        ];
        const report = await shutdown({ drain, server, others }, options.drainMs ?? Number.POSITIVE_INFINITY);
        afterCall.flush();
        await store.close();
        await telemetry.shutdown();
        return report;
      })();
      return closing;
    },
    endDrainWindow: () => drain.endWindow(),
    settle: () => afterCall.flush(),
  };
}

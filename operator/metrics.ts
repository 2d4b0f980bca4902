// Operator metrics on a private registry (never prom-client's global one, so an embedding process, such
// as a test running several operators, cannot collide).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SyncReporter } from './contract.ts';

/** Sync states a sidecar is counted under by turnout_operator_sidecars. */
export const SIDECAR_SYNC_STATES = ['connected', 'disconnected', 'rejected'] as const;

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'turnout_operator_reconciles_total',
    help: 'Namespace reconciles by result (success, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'turnout_operator_reconcile_duration_seconds',
    help: 'Time to reconcile one namespace, status writes included',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly snapshotRevision = new Gauge({
    name: 'turnout_operator_snapshot_revision',
    help: 'Current snapshot revision per namespace',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'turnout_operator_watch_restarts_total',
    help: 'Watches that failed and were relisted, by resource and reason (error, gone, list-failed, injected)',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'turnout_operator_leader',
    help: '1 while this replica holds the leader Lease',
    registers: [this.registry],
  });
  readonly connectedSidecars: Gauge<'namespace'>;

  /** `connected` is read at scrape time: the push server's view, not a copy that could drift. */
  constructor(connected: () => ReadonlyMap<string, number> = () => new Map()) {
    this.connectedSidecars = new Gauge({
      name: 'turnout_operator_connected_sidecars',
      help: 'Sidecars connected to the push server, per namespace',
      labelNames: ['namespace'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [namespace, n] of connected()) this.set({ namespace }, n);
      },
    });
  }

  /**
   * Sidecars per namespace by sync state, read at scrape time from the push server's view: connected,
   * disconnected (still serving what they acknowledged), and rejected (they refused the snapshot last
   * sent and keep serving the previous one). Call once, with the namespaces the operator watches.
   */
  observeSync(namespaces: () => Iterable<string>, sync: Pick<SyncReporter, 'sidecars'>): void {
    if (this.registry.getSingleMetric('turnout_operator_sidecars')) return;
    new Gauge({
      name: 'turnout_operator_sidecars',
      help: 'Sidecars by namespace and sync state (connected, disconnected, rejected)',
      labelNames: ['namespace', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const namespace of namespaces()) {
          const counts = { connected: 0, disconnected: 0, rejected: 0 };
          for (const s of sync.sidecars(namespace)) {
            counts[s.connected ? 'connected' : 'disconnected']++;
            if (s.rejected) counts.rejected++;
          }
          for (const state of SIDECAR_SYNC_STATES) this.set({ namespace, state }, counts[state]);
        }
      },
    });
  }

  /** Serves /metrics on host:port (port 0 picks a free one); resolves once listening. */
  async serve(port: number, host = '0.0.0.0'): Promise<{ server: Server; port: number }> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    return { server, port: (server.address() as AddressInfo).port };
  }

  /** The current value of a counter or gauge series, for tests and logs. */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    const match = metric?.values.filter((v) =>
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
    );
    return (match ?? []).reduce((sum, v) => sum + v.value, 0);
  }
}

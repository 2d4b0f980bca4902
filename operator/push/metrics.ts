// Push server metrics on a private registry. No per-pod labels: cardinality must not grow with the
// cluster; per-pod detail is what the SyncReporter (and so RoutingPolicy status) is for.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class PushMetrics {
  readonly registry = new Registry();
  readonly connected = new Gauge({
    name: 'turnout_push_connected_sidecars',
    help: 'Sidecars with an open snapshot stream',
    registers: [this.registry],
  });
  readonly pushes = new Counter({
    name: 'turnout_push_snapshots_sent_total',
    help: 'Snapshots sent to sidecars',
    registers: [this.registry],
  });
  readonly ackLatency = new Histogram({
    name: 'turnout_push_ack_latency_seconds',
    help: 'Time from sending a snapshot to its ACK or NACK',
    labelNames: ['result'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly nacks = new Counter({
    name: 'turnout_push_nacks_total',
    help: 'Snapshots a sidecar refused (it keeps serving its last good one)',
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'turnout_push_requests_refused_total',
    help: 'Stream and ACK requests answered with an error, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly staleSkips = new Counter({
    name: 'turnout_push_stale_revision_skips_total',
    help: 'Pushes held back because the sidecar reported a newer revision than this server has',
    registers: [this.registry],
  });
}

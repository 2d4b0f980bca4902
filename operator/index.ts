// The operator's reconciling half: watch → compile → DesiredState (every replica) → status, Events
// (the leader only). Followers compute the same DesiredState from their own informers, read-only, so
// sidecars connected to any replica get the same snapshots; only the Lease holder writes to the apiserver.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { DesiredState, SyncReporter } from './contract.ts';
import { ClusterCache, type Resource } from './kube/cluster-cache.ts';
import { loadKubeConfig } from './kube/kubeconfig.ts';
import { jsonLogger, type Logger } from './kube/log.ts';
import { KubeWriter } from './kube/writer.ts';
import { LeaderElector } from './leader/lease-elector.ts';
import { LeaderPodLabel } from './leader/pod-label.ts';
import { OperatorMetrics } from './metrics.ts';
import { Controller } from './reconcile/controller.ts';
import { DesiredStateStore } from './reconcile/desired-state.ts';
import { NOOP_SYNC_REPORTER } from './reconcile/noop-sync-reporter.ts';
import { RevisionClock } from './reconcile/revision-clock.ts';
import { StatusSync } from './reconcile/status-sync.ts';

export interface OperatorOptions {
  /** Path of a kubeconfig; default $KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  /** Namespace of the leader Lease (default $POD_NAMESPACE, else turnout-system). */
  namespace?: string;
  leaseName?: string;
  /** This replica's name on the Lease (default hostname plus a random suffix). */
  identity?: string;
  syncReporter?: SyncReporter;
  /** Serve Prometheus /metrics on this port (0 = any free port); none when omitted. */
  metricsPort?: number;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /**
   * This replica's pod (default $POD_NAMESPACE/$POD_NAME): labelled turnout.dev/leader=true while it
   * leads, false otherwise, so a Service can route sidecars to the leader. No label when unknown.
   */
  pod?: { namespace: string; name: string };
  /** Hand the Lease over on stop() (default true); false behaves like a crash, for tests. */
  releaseLeaseOnStop?: boolean;
  log?: Logger;
}

export interface Operator {
  desiredState: DesiredState;
  isLeader(): boolean;
  onLeaderChange(listener: (leader: boolean) => void): () => void;
  /** Every watch has listed at least once (startOperator resolves only after that). */
  hasSynced(): boolean;
  metrics: OperatorMetrics;
  /** The port /metrics listens on, when metricsPort was given. */
  metricsPort: number | undefined;
  /** Resolves once no reconcile is queued or running. */
  idle(): Promise<void>;
  /** Breaks one watch as a dropped connection would: for tests of the recovery path. */
  injectWatchError(resource: Resource): void;
  stop(): Promise<void>;
}

export type { Resource };

/**
 * Starts watching and resolves once the caches have synced and every namespace's desired state is
 * computed, so a push server started afterwards never serves a cold, empty snapshot.
 */
export async function startOperator(opts: OperatorOptions = {}): Promise<Operator> {
  const { log, identity, cache, metrics, desired, elector, controller, podLabel } = wire(opts);
  // Sidecar sync states by namespace, read at scrape time from the push server's reporter.
  metrics.observeSync(() => cache.namespaces(), opts.syncReporter ?? NOOP_SYNC_REPORTER);
  // Metrics first: a port already in use should fail before anything else has started.
  let server: Server | undefined;
  let metricsPort: number | undefined;
  if (opts.metricsPort !== undefined) ({ server, port: metricsPort } = await metrics.serve(opts.metricsPort));
  await cache.start();
  await cache.waitForSync();
  await elector.observe();
  for (const ns of cache.namespaces()) controller.compute(ns);
  controller.start();
  // A restarted container may find its pod still labelled leader by its previous life: clear it first.
  void podLabel?.set(false);
  elector.onChange((leader) => {
    void podLabel?.set(leader);
    metrics.leader.set(leader ? 1 : 0);
    controller.leadershipChanged(leader);
  });
  elector.start();
  log.info('operator started', { identity });
  // Leadership goes first, so no status write can happen once stop() was called.
  const shutdown = async () => {
    await elector.stop();
    await podLabel?.stop();
    await controller.stop();
    await cache.stop();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  let stopping: Promise<void> | undefined;
  return {
    desiredState: desired,
    isLeader: () => elector.isLeader(),
    onLeaderChange: (listener) => elector.onChange(listener),
    hasSynced: () => cache.hasSynced(),
    metrics,
    metricsPort,
    idle: () => controller.idle(),
    injectWatchError: (resource) => cache.injectWatchError(resource),
    stop: () => (stopping ??= shutdown()),
  };
}

/** Builds the parts, started by nothing yet. */
function wire(opts: OperatorOptions) {
  const log = opts.log ?? jsonLogger('operator');
  const kubeConfig = loadKubeConfig(opts.kubeconfig);
  const identity = opts.identity ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
  const sync = opts.syncReporter ?? NOOP_SYNC_REPORTER;
  const clock = new RevisionClock();
  const metrics = new OperatorMetrics(() => connectedSidecars(cache.namespaces(), sync));
  const cache = new ClusterCache({
    kubeConfig,
    log,
    onRestart: (resource, reason) => metrics.watchRestarts.inc({ resource, reason }),
  });
  const desired = new DesiredStateStore(clock, cache.pod, (namespace, revision) =>
    metrics.snapshotRevision.set({ namespace }, revision),
  );
  const elector = new LeaderElector({
    kubeConfig,
    namespace: opts.namespace ?? process.env['POD_NAMESPACE'] ?? 'turnout-system',
    identity,
    revisions: clock,
    log,
    ...(opts.leaseName !== undefined && { name: opts.leaseName }),
    ...(opts.leaseDurationMs !== undefined && { leaseDurationMs: opts.leaseDurationMs }),
    ...(opts.renewDeadlineMs !== undefined && { renewDeadlineMs: opts.renewDeadlineMs }),
    ...(opts.retryPeriodMs !== undefined && { retryPeriodMs: opts.retryPeriodMs }),
    ...(opts.releaseLeaseOnStop !== undefined && { releaseOnStop: opts.releaseLeaseOnStop }),
  });
  const pod = opts.pod ?? podFromEnv();
  const podLabel =
    pod && new LeaderPodLabel({ kubeConfig, namespace: pod.namespace, podName: pod.name, log });
  const isLeader = () => elector.isLeader();
  const writer = new KubeWriter(kubeConfig, identity);
  const status = new StatusSync({
    writer,
    sync,
    pods: cache.pods,
    podsWithoutSidecar: cache.podsWithoutSidecar,
    isLeader,
    log,
  });
  const controller = new Controller({ cache, desired, status, sync, isLeader, metrics, log });
  return { log, identity, cache, metrics, desired, elector, controller, podLabel };
}

function podFromEnv(): { namespace: string; name: string } | undefined {
  const namespace = process.env['POD_NAMESPACE'];
  const name = process.env['POD_NAME'];
  return namespace && name ? { namespace, name } : undefined;
}

function connectedSidecars(namespaces: Iterable<string>, sync: SyncReporter): Map<string, number> {
  const out = new Map<string, number>();
  for (const ns of namespaces) out.set(ns, sync.sidecars(ns).filter((s) => s.connected).length);
  return out;
}

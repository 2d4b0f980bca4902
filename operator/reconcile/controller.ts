// The reconcile loop: every change (an object, a pod, a sidecar's ACK, a leadership change) only
// enqueues its namespace; the worker then reads the namespace's current objects from the caches and
// converges. Level-based, so a missed or duplicated event costs nothing but a redundant pass.
import type { Secret } from '../../api/index.ts';
import type { PodIdentity, SyncReporter } from '../contract.ts';
import type { ChangeKind } from '../kube/cluster-cache.ts';
import { withTimeout } from '../kube/backoff.ts';
import { errorText, type Logger } from '../kube/log.ts';
import type { CachedPolicy, CachedProvider } from '../kube/objects.ts';
import type { OperatorMetrics } from '../metrics.ts';
import type { DesiredStateStore } from './desired-state.ts';
import { LastAccepted } from './last-accepted.ts';
import { type NamespacePlan, planNamespace } from './plan.ts';
import type { StatusSync } from './status-sync.ts';
import { WorkQueue } from './queue.ts';

/** What the controller reads: the cluster cache, or a fake of it. */
export interface CacheReader {
  providers(namespace: string): CachedProvider[];
  policies(namespace: string): CachedPolicy[];
  secrets(namespace: string): Secret[];
  pods(namespace: string): PodIdentity[];
  namespaces(): Set<string>;
  onChange(listener: (namespace: string, kind: ChangeKind) => void): () => void;
}

export interface ControllerDeps {
  cache: CacheReader;
  desired: DesiredStateStore;
  status: StatusSync;
  sync: SyncReporter;
  isLeader(): boolean;
  metrics: OperatorMetrics;
  log: Logger;
  /** Reconcile every namespace this often even without events, as a safety net (default 5 min). */
  resyncMs?: number;
}

/** A reconcile stuck on a request this long is given up and requeued (the request may still finish). */
const RECONCILE_TIMEOUT_MS = 60_000;
/** How long sidecar reports gather before the status pass that counts them. */
const SYNC_STATUS_COALESCE_MS = 500;

export class Controller {
  readonly #d: ControllerDeps;
  readonly #queue: WorkQueue;
  readonly #lastAccepted = new LastAccepted();
  readonly #unsubscribe: (() => void)[] = [];
  /** Namespaces with a compilation, so one whose objects all vanished still gets a pass. */
  readonly #knownNamespaces = new Set<string>();
  /** Namespaces whose objects changed since the last compute, compiled together on the next turn. */
  readonly #toCompute = new Set<string>();
  /** Namespaces with sidecar reports waiting for their (coalesced) status pass. */
  readonly #syncTimers = new Map<string, NodeJS.Timeout>();
  #resync: NodeJS.Timeout | undefined;

  constructor(deps: ControllerDeps) {
    this.#d = deps;
    this.#queue = new WorkQueue((ns) => this.#timed(ns));
  }

  start(): void {
    this.#unsubscribe.push(
      this.#d.cache.onChange((ns, kind) => {
        // The push server wants pod changes at once, and config changes compiled at once: a status
        // pass of the same namespace (one patch per object) may hold its queue slot for a while,
        // and sidecars must not wait for it. The queued reconcile still plans again (level-based).
        if (kind === 'pods') this.#d.desired.notify(ns);
        else this.#computeSoon(ns);
        this.#queue.add(ns);
      }),
      this.#d.sync.onChange((ns) => this.#syncChanged(ns)),
    );
    this.#resync = setInterval(() => this.enqueueAll(), this.#d.resyncMs ?? 300_000);
    this.#resync.unref();
    this.enqueueAll();
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const t of this.#syncTimers.values()) clearTimeout(t);
    this.#syncTimers.clear();
    clearInterval(this.#resync);
    await this.#queue.stop();
  }

  enqueueAll(): void {
    for (const ns of this.#d.cache.namespaces()) this.#queue.add(ns);
    // Namespaces whose last objects were deleted still need one pass to publish "nothing".
    for (const ns of this.#knownNamespaces) this.#queue.add(ns);
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Computes a namespace's desired state without writing status: used to warm up before serving. */
  compute(namespace: string): void {
    this.#plan(namespace);
  }

  /**
   * Sidecar reports (connect, ACK, NACK) only change status counts. A push to 50 sidecars brings 50
   * ACKs within a few hundred ms: one status pass for the lot, not a pass (and a patch per policy,
   * and the watch events those cause) per ACK, which would take CPU from the sidecars still loading.
   */
  #syncChanged(namespace: string): void {
    if (this.#syncTimers.has(namespace)) return;
    const timer = setTimeout(() => {
      this.#syncTimers.delete(namespace);
      this.#queue.add(namespace);
    }, SYNC_STATUS_COALESCE_MS);
    timer.unref();
    this.#syncTimers.set(namespace, timer);
  }

  /** One compile per namespace for a burst of watch events (they arrive together, in one read). */
  #computeSoon(namespace: string): void {
    if (this.#toCompute.size === 0) setImmediate(() => this.#computePending());
    this.#toCompute.add(namespace);
  }

  #computePending(): void {
    const namespaces = [...this.#toCompute];
    this.#toCompute.clear();
    for (const ns of namespaces) {
      try {
        this.#plan(ns);
      } catch (err) {
        // The queued reconcile plans again and reports the failure through its own retries.
        this.#d.log.warn('compute failed', { namespace: ns, error: errorText(err) });
      }
    }
  }

  #plan(namespace: string): NamespacePlan {
    const c = this.#d.cache;
    const policies = c.policies(namespace);
    const plan = planNamespace(namespace, c.providers(namespace), policies, c.secrets(namespace), (p) =>
      this.#lastAccepted.recall(p),
    );
    for (const p of plan.policies) if (p.verdict.accepted) this.#lastAccepted.remember(p.cached);
    this.#lastAccepted.retain(namespace, new Set(policies.map((p) => p.ref.name)));
    this.#d.desired.set(namespace, plan.compiled);
    if (plan.compiled === undefined) this.#knownNamespaces.delete(namespace);
    else this.#knownNamespaces.add(namespace);
    // The stored compilation has the same content (same fingerprint) and a stable identity, which lets
    // status reuse what it computed from it last time.
    return { ...plan, compiled: this.#d.desired.compiled(namespace) };
  }

  async #reconcile(namespace: string): Promise<void> {
    const plan = this.#plan(namespace);
    if (this.#d.isLeader()) await this.#d.status.apply(plan);
  }

  async #timed(namespace: string): Promise<void> {
    const end = this.#d.metrics.reconcileDuration.startTimer();
    try {
      await withTimeout(this.#reconcile(namespace), RECONCILE_TIMEOUT_MS, `reconciling ${namespace}`);
      this.#d.metrics.reconciles.inc({ result: 'success' });
    } catch (err) {
      this.#d.metrics.reconciles.inc({ result: 'error' });
      const conflict = conflictOnly(err);
      const log = conflict ? this.#d.log.info : this.#d.log.warn;
      log(conflict ? 'object changed while reconciling; requeued' : 'reconcile failed; requeued', {
        namespace,
        error: errorText(err instanceof AggregateError ? err.errors[0] : err),
      });
      throw err;
    } finally {
      end();
    }
  }
}

/** Every failure was a 409: the object moved on under us, the normal price of optimistic locking. */
function conflictOnly(err: unknown): boolean {
  const errors = err instanceof AggregateError ? (err.errors as unknown[]) : [err];
  return errors.every((e) => (e as { code?: unknown }).code === 409);
}

// The reconcile loop: every change (an object, a pod, a sidecar's ACK, a leadership change) only
// enqueues its namespace; the worker then reads the namespace's current objects from the caches and
// converges. Level-based, so a missed or duplicated event costs nothing but a redundant pass. Config is
// compiled as soon as it changes; status is written at once for edited objects only, and for the rest
// of the namespace in one pass once sidecar reports (and our own status patches' echoes) have gathered.
import type { Secret } from '../../api/index.ts';
import type { PodIdentity, SyncReporter } from '../contract.ts';
import type { ChangeKind } from '../kube/cluster-cache.ts';
import { errorText, type Logger } from '../kube/log.ts';
import type { CachedPolicy, CachedProvider } from '../kube/objects.ts';
import type { CompiledNamespace } from '../compile/index.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { Debouncer } from '../push/debounce.ts';
import type { DesiredStateStore } from './desired-state.ts';
import { LastAccepted } from './last-accepted.ts';
import {
  type NamespacePlan,
  type PolicyPlan,
  type ProviderPlan,
  planInputs,
  planNamespace,
  sameInputs,
} from './plan.ts';
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
  /**
   * A Secret newly referenced in the namespace is still being read: it is not compiled (nor its status
   * written) until then, when a 'config' change follows. Without it, the namespace would compile as if
   * the Secret were missing, and push that to sidecars.
   */
  awaitingSecrets?(namespace: string): boolean;
}

export interface ControllerDeps {
  cache: CacheReader;
  desired: DesiredStateStore;
  status: Pick<StatusSync, 'apply'> & Partial<Pick<StatusSync, 'leadershipStarted'>>;
  sync: SyncReporter;
  isLeader(): boolean;
  metrics: OperatorMetrics;
  log: Logger;
  /** Reconcile every namespace this often even without events, as a safety net (default 5 min). */
  resyncMs?: number;
  /** A pass still running after this long is reported (default 60 s); it keeps its slot until it ends. */
  slowReconcileMs?: number;
  /** Status after a config change or sidecar report: this long after the last one (default 250 ms)… */
  statusDelayMs?: number;
  /** …but no later than this after the first (default 1 s). */
  statusMaxDelayMs?: number;
}

export class Controller {
  readonly #d: ControllerDeps;
  readonly #queue: WorkQueue;
  readonly #lastAccepted = new LastAccepted();
  readonly #unsubscribe: (() => void)[] = [];
  /** Namespaces with a compilation, so one whose objects all vanished still gets a pass. */
  readonly #knownNamespaces = new Set<string>();
  /** Namespaces whose objects changed since the last compute, compiled together on the next turn. */
  readonly #toCompute = new Set<string>();
  /** When a namespace's first config change not yet compiled was observed (performance.now()). */
  readonly #changedAt = new Map<string, number>();
  /** What each namespace's last plan was computed from, and that plan less its objects. */
  readonly #lastPlan = new Map<string, PlanMemo>();
  /** Per namespace, the coalescing of changes that only call for a status pass. */
  readonly #statusDebouncers = new Map<string, Debouncer>();
  /** Namespaces whose status pass is waiting in its debouncer, and who waits for them to be queued. */
  readonly #statusPending = new Set<string>();
  readonly #statusQueued = new Set<() => void>();
  /** Namespaces a full status pass was asked for, and those with only edited objects to write. */
  readonly #fullPass = new Set<string>();
  readonly #editedOnly = new Map<string, Set<string>>();
  #resync: NodeJS.Timeout | undefined;
  #reconnectGraceEnd: NodeJS.Timeout | undefined;

  constructor(deps: ControllerDeps) {
    this.#d = deps;
    this.#queue = new WorkQueue((ns) => this.#timed(ns));
  }

  start(): void {
    this.#unsubscribe.push(
      this.#d.cache.onChange((ns, kind) => {
        if (kind === 'pods') {
          // The push server wants pod changes at once; status counts them in a pass of its own.
          this.#d.desired.notify(ns);
          this.#enqueue(ns);
          return;
        }
        // Config is compiled at once, so sidecars never wait for a status pass (one patch per object).
        if (!this.#changedAt.has(ns)) this.#changedAt.set(ns, performance.now());
        this.#computeSoon(ns);
      }),
      this.#d.sync.onChange((ns) => this.#statusSoon(ns)),
    );
    this.#resync = setInterval(() => this.enqueueAll(), this.#d.resyncMs ?? 300_000);
    this.#resync.unref();
    this.enqueueAll();
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const d of this.#statusDebouncers.values()) d.cancel();
    this.#statusDebouncers.clear();
    this.#statusPending.clear();
    this.#wakeStatusWaiters();
    clearInterval(this.#resync);
    clearTimeout(this.#reconnectGraceEnd);
    await this.#queue.stop();
  }

  /**
   * A new leader owes every namespace a status pass: its predecessor may have left them stale. Sync
   * counts it cannot know yet are kept as they are until sidecars had time to reconnect (StatusSync's
   * leadershipStarted), and every namespace gets another pass when that grace ends.
   */
  leadershipChanged(leader: boolean): void {
    clearTimeout(this.#reconnectGraceEnd);
    if (!leader) return;
    const grace = this.#d.status.leadershipStarted?.();
    this.enqueueAll();
    if (grace === undefined) return;
    this.#reconnectGraceEnd = setTimeout(() => this.enqueueAll(), grace);
    this.#reconnectGraceEnd.unref();
  }

  enqueueAll(): void {
    for (const ns of this.#d.cache.namespaces()) this.#enqueue(ns);
    // Namespaces whose last objects were deleted still need one pass to publish "nothing".
    for (const ns of this.#knownNamespaces) this.#enqueue(ns);
  }

  /** Resolves once nothing is queued, running or waiting to be queued. */
  async idle(): Promise<void> {
    for (;;) {
      // Changes waiting for their compile (next turn of the event loop), then the queue, then passes
      // still gathering reports: any of them may bring the others.
      if (this.#toCompute.size > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      else if (this.#statusPending.size > 0)
        await new Promise<void>((resolve) => this.#statusQueued.add(resolve));
      else {
        await this.#queue.idle();
        if (this.#toCompute.size === 0 && this.#statusPending.size === 0) return;
      }
    }
  }

  /** Computes a namespace's desired state without writing status: used to warm up before serving. */
  compute(namespace: string): void {
    if (!this.#awaitingSecrets(namespace)) this.#plan(namespace);
  }

  /**
   * A push to 50 sidecars brings 50 ACKs within a few hundred ms, and a status pass brings a watch
   * event per policy it patched: one status pass for the lot, not a pass (and a patch per policy, and
   * the watch events those cause) per report, which would take CPU from the sidecars still loading.
   */
  #statusSoon(namespace: string): void {
    let d = this.#statusDebouncers.get(namespace);
    if (!d) {
      d = new Debouncer(this.#d.statusDelayMs ?? 250, this.#d.statusMaxDelayMs ?? 1000, () => {
        this.#statusDebouncers.delete(namespace);
        this.#statusPending.delete(namespace);
        this.#enqueue(namespace);
        this.#wakeStatusWaiters();
      });
      this.#statusDebouncers.set(namespace, d);
    }
    this.#statusPending.add(namespace);
    d.poke();
  }

  /** A full status pass of the namespace. */
  #enqueue(namespace: string): void {
    this.#fullPass.add(namespace);
    this.#queue.add(namespace);
  }

  /** A status pass of these objects only, unless a full pass is asked for before it starts. */
  #enqueueEdited(namespace: string, uids: ReadonlySet<string>): void {
    const pending = this.#editedOnly.get(namespace) ?? new Set<string>();
    for (const uid of uids) pending.add(uid);
    this.#editedOnly.set(namespace, pending);
    this.#queue.add(namespace);
  }

  #wakeStatusWaiters(): void {
    for (const resolve of this.#statusQueued) resolve();
    this.#statusQueued.clear();
  }

  #awaitingSecrets(namespace: string): boolean {
    return this.#d.cache.awaitingSecrets?.(namespace) ?? false;
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
      // Compiled once its Secrets are read: the cache signals a config change then.
      if (this.#awaitingSecrets(ns)) continue;
      try {
        // An edited object gets its status at once (observedGeneration, its sidecars not synced yet),
        // so status never shows its previous generation as programmed for longer than a write takes.
        // The rest of the namespace (counts of other policies, status-only events such as our own
        // patches coming back) follows in one pass once the push has settled: a patch per policy
        // while the sidecars load would take CPU from them, on the apiserver and here.
        const { edited } = this.#plan(ns);
        if (edited === 'all') this.#enqueue(ns);
        else if (edited && edited.size > 0) this.#enqueueEdited(ns, edited);
        if (edited !== 'all') this.#statusSoon(ns);
      } catch (err) {
        // The status pass plans again and reports the failure through its own retries.
        this.#d.log.warn('compute failed', { namespace: ns, error: errorText(err) });
        this.#enqueue(ns);
      }
    }
  }

  /**
   * The namespace's plan, and what was edited since the last one: undefined when it was reused (only
   * status or resourceVersions moved), the uids of objects whose generation moved, or 'all' (the
   * first plan, a Secret changed, or objects without generations).
   */
  #plan(namespace: string): { plan: NamespacePlan; edited: Edited } {
    const started = performance.now();
    const changedAt = this.#changedAt.get(namespace);
    this.#changedAt.delete(namespace);
    const c = this.#d.cache;
    const providers = c.providers(namespace);
    const policies = c.policies(namespace);
    const secrets = c.secrets(namespace);
    const inputs = planInputs(providers, policies, secrets);
    const last = this.#lastPlan.get(namespace);
    if (last && sameInputs(inputs, last.inputs)) {
      // Only status or resourceVersions moved (our own status patches, mostly): same verdicts and
      // compilation, with the objects as they are now, so status compares against what is stored.
      const plan: NamespacePlan = {
        namespace,
        compiled: last.compiled,
        providers: last.providers.map((p, i) => ({ ...p, cached: providers[i] as CachedProvider })),
        policies: last.policies.map((p, i) => ({ ...p, cached: policies[i] as CachedPolicy })),
      };
      return { plan, edited: undefined };
    }
    const revisionBefore = this.#d.desired.revision(namespace);
    const plan = planNamespace(namespace, providers, policies, secrets, (p) => this.#lastAccepted.recall(p));
    for (const p of plan.policies) if (p.verdict.accepted) this.#lastAccepted.remember(p.cached);
    this.#lastAccepted.retain(namespace, new Set(policies.map((p) => p.ref.name)));
    this.#d.desired.set(namespace, plan.compiled);
    if (plan.compiled === undefined) this.#knownNamespaces.delete(namespace);
    else this.#knownNamespaces.add(namespace);
    // The stored compilation has the same content (same fingerprint) and a stable identity, which lets
    // status reuse what it computed from it last time.
    const result = { ...plan, compiled: this.#d.desired.compiled(namespace) };
    const edited = editedSince(last, providers, policies, secrets);
    if (inputs && result.compiled)
      this.#lastPlan.set(namespace, {
        inputs,
        generations: new Map([...providers, ...policies].map((o) => [o.ref.uid, o.ref.generation])),
        secrets: secretsKey(secrets),
        compiled: result.compiled,
        // Without the objects: the cache holds the current ones, the memo need not keep the old ones alive.
        providers: result.providers.map(({ cached: _, ...rest }) => rest),
        policies: result.policies.map(({ cached: _, ...rest }) => rest),
      });
    else this.#lastPlan.delete(namespace);
    const revision = this.#d.desired.revision(namespace);
    if (revision !== revisionBefore) {
      // The phases of "an edit reaches the sidecars" before the push debounce: watch event → compiled.
      this.#d.log.info('config.compiled', {
        namespace,
        revision,
        ...(changedAt !== undefined && { waitedMs: round(started - changedAt) }),
        compileMs: round(performance.now() - started),
      });
    }
    return { plan: result, edited };
  }

  async #reconcile(namespace: string): Promise<void> {
    // Status waits too (its pass is asked for again once the namespace compiles): written now, it would
    // report the Secret missing, with a Warning Event, for as long as the cache takes to read it.
    if (this.#awaitingSecrets(namespace)) return;
    const only = this.#fullPass.has(namespace) ? undefined : this.#editedOnly.get(namespace);
    this.#fullPass.delete(namespace);
    this.#editedOnly.delete(namespace);
    const { plan, edited } = this.#plan(namespace);
    if (!this.#d.isLeader()) return;
    // Objects edited since the pass was asked for: then everything, as their compile was ours.
    if (only && edited === undefined) await this.#d.status.apply(onlyObjects(plan, only));
    else await this.#d.status.apply(plan);
  }

  /**
   * One pass. The queue runs a namespace's passes one after the other, so a pass must hold its slot
   * until it has really ended: giving up on a slow one (a first pass over 1,000 policies on a busy
   * apiserver) while its writes go on would let the next pass overlap it and conflict with it.
   */
  async #timed(namespace: string): Promise<void> {
    const end = this.#d.metrics.reconcileDuration.startTimer();
    const started = performance.now();
    const slowMs = this.#d.slowReconcileMs ?? 60_000;
    const slow = setTimeout(
      () => this.#d.log.warn('reconcile still running', { namespace, ms: Math.round(slowMs) }),
      slowMs,
    );
    slow.unref();
    try {
      await this.#reconcile(namespace);
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
      clearTimeout(slow);
      const ms = performance.now() - started;
      if (ms >= slowMs) this.#d.log.warn('slow reconcile ended', { namespace, ms: Math.round(ms) });
      end();
    }
  }
}

type Edited = ReadonlySet<string> | 'all' | undefined;

interface PlanMemo {
  inputs: (string | number)[];
  /** Generation by uid of every ModelProvider and RoutingPolicy, and the Secrets' uids and versions. */
  generations: ReadonlyMap<string, number>;
  secrets: string;
  compiled: CompiledNamespace;
  providers: Omit<ProviderPlan, 'cached'>[];
  policies: Omit<PolicyPlan, 'cached'>[];
}

const secretsKey = (secrets: readonly Secret[]) =>
  secrets.map((s) => `${s.metadata.uid ?? ''}:${s.metadata.resourceVersion ?? ''}`).join(',');

/** What changed between the last plan and these objects (see `#plan`). */
function editedSince(
  last: PlanMemo | undefined,
  providers: readonly CachedProvider[],
  policies: readonly CachedPolicy[],
  secrets: readonly Secret[],
): Edited {
  if (!last || secretsKey(secrets) !== last.secrets) return 'all';
  const edited = new Set<string>();
  for (const o of [...providers, ...policies])
    if (last.generations.get(o.ref.uid) !== o.ref.generation) edited.add(o.ref.uid);
  return edited;
}

/** The plan with only these objects, for a pass that writes their status alone. */
function onlyObjects(plan: NamespacePlan, uids: ReadonlySet<string>): NamespacePlan {
  return {
    ...plan,
    providers: plan.providers.filter((p) => uids.has(p.cached.ref.uid)),
    policies: plan.policies.filter((p) => uids.has(p.cached.ref.uid)),
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Every failure was a 409: the object moved on under us, the normal price of optimistic locking. */
function conflictOnly(err: unknown): boolean {
  const errors = err instanceof AggregateError ? (err.errors as unknown[]) : [err];
  return errors.every((e) => (e as { code?: unknown }).code === 409);
}

// Brings the apiserver in line with a namespace plan: status (only when it changed), a Warning Event
// when an object turns bad, and the last-accepted annotation. Leader only; isLeader() is checked right
// before every write so a replica that lost its Lease stops writing at once.
import { canonicalJson } from '../../api/index.ts';
import type { PodIdentity, SyncReporter } from '../contract.ts';
import { errorText, type Logger } from '../kube/log.ts';
import type { Cached, CachedPolicy, ObjectRef } from '../kube/objects.ts';
import type { RawObject } from '../kube/store.ts';
import type { KubeWriter, TurnoutKind } from '../kube/writer.ts';
import { conditionOf, sameStatus } from './conditions.ts';
import { annotationUpdate, LAST_ACCEPTED_ANNOTATION } from './last-accepted.ts';
import type { NamespacePlan, PolicyPlan, ProviderPlan } from './plan.ts';
import { policyStatus } from './policy-status.ts';
import { providerStatus } from './provider-status.ts';
import { countSidecars, expectedVersions } from './sidecar-counts.ts';

interface Written {
  namespace: string;
  /** The resourceVersion the patch was based on: while the cache still shows it, the cache is behind us. */
  base: string;
  resourceVersion: string;
  status: unknown;
}

export interface StatusSyncDeps {
  writer: KubeWriter;
  sync: SyncReporter;
  /** Injected pods of a namespace that run the sidecar (from the informer cache). */
  pods(namespace: string): PodIdentity[];
  /** Pods injection selects that run no sidecar: status says how many a policy matches. */
  podsWithoutSidecar?(namespace: string): PodIdentity[];
  isLeader(): boolean;
  log: Logger;
  now?(): Date;
  /**
   * How long after becoming leader sidecars get to reconnect (and report what they run) before status
   * may say they are not synced (default 30 s: sidecars reconnect within ~15 s of a leader change).
   */
  reconnectGraceMs?: number;
}

const RECONNECT_GRACE_MS = 30_000;

export class StatusSync {
  readonly #d: StatusSyncDeps;
  readonly #written = new Map<string, Written>();
  /** Until when (ms since epoch) this leadership term's sync reports are too young to downgrade status. */
  #reconnectGraceUntil = 0;

  constructor(deps: StatusSyncDeps) {
    this.#d = deps;
  }

  /**
   * This replica just became leader. Its push server starts without sync reports: until sidecars have
   * reconnected to it, it cannot tell a synced sidecar from one that is not, and the previous leader's
   * status is the better account. For the grace period, a status pass therefore keeps a policy's stored
   * sidecar counts and Programmed condition rather than lowering them for want of reports (new facts
   * still get written: another generation or snapshot, other pods, a refusal). Returns the grace in ms:
   * the caller owes every namespace a pass once it ends.
   */
  leadershipStarted(): number {
    const grace = this.#d.reconnectGraceMs ?? RECONNECT_GRACE_MS;
    this.#reconnectGraceUntil = this.#nowMs() + grace;
    return grace;
  }

  #nowMs(): number {
    return (this.#d.now?.() ?? new Date()).getTime();
  }

  /** Writes what differs; throws (to requeue) when any write failed, after trying all of them. */
  async apply(plan: NamespacePlan): Promise<void> {
    const now = (this.#d.now?.() ?? new Date()).toISOString();
    const reconnecting = this.#nowMs() < this.#reconnectGraceUntil;
    const states = new Map(this.#d.sync.sidecars(plan.namespace).map((s) => [s.pod, s]));
    const expected = expectedVersions(plan.compiled, plan.namespace);
    const pods = this.#d.pods(plan.namespace);
    const withoutSidecar = this.#d.podsWithoutSidecar?.(plan.namespace) ?? [];
    const fleet = this.#d.sync.fleetSpend;
    fleet?.observe(plan.namespace, plan.compiled, pods);
    const failures: unknown[] = [];
    const attempt = async (what: () => Promise<void>) => {
      try {
        await what();
      } catch (err) {
        failures.push(err);
      }
    };
    await inParallel(plan.providers, (p) => attempt(() => this.#provider(p, now)));
    await inParallel(plan.policies, async (p) => {
      await attempt(async () => {
        const counts = countSidecars(pods, p.selector, expected, states, withoutSidecar);
        const version = p.selector && expected(p.selector);
        const name = p.cached.ref.name;
        // Fleet spend: seeded from what the previous leader persisted, before we overwrite it.
        fleet?.seed(plan.namespace, name, this.#current(p.cached).status);
        const spend = fleet?.statusSpend(plan.namespace, name);
        const status = await this.#policy(p, (cached) => {
          const desired = policyStatus(cached, p.verdict, counts, version, now);
          return {
            ...(reconnecting ? keptWhileReconnecting(cached.status, desired) : desired),
            ...(spend && { spend: spend.entries.length > 0 ? spend.entries : null }),
          };
        });
        if (spend && sameSpend(status, spend.entries)) spend.written();
      });
    });
    this.#forgetOthers(plan);
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} write(s) failed in ${plan.namespace}`);
  }

  async #provider(p: ProviderPlan, now: string): Promise<void> {
    const before = conditionOf(this.#current(p.cached).status, 'Ready');
    const status = await this.#write('ModelProvider', p.cached, (c) =>
      providerStatus(c, p.errors, p.warnings, now),
    );
    const ready = conditionOf(status, 'Ready');
    if (ready?.status === 'False' && !sameCondition(before, ready, p.cached.ref.generation)) {
      await this.#event('ModelProvider', p.cached.ref, ready.reason ?? 'NotReady', ready.message ?? '');
    }
  }

  /** Writes a policy's status; returns the status now in effect. */
  async #policy(p: PolicyPlan, desired: (cached: CachedPolicy) => Record<string, unknown>): Promise<unknown> {
    const before = conditionOf(this.#current(p.cached).status, 'Accepted');
    const status = await this.#write('RoutingPolicy', p.cached, desired);
    const accepted = conditionOf(status, 'Accepted');
    if (accepted?.status === 'False' && !sameCondition(before, accepted, p.cached.ref.generation)) {
      await this.#event('RoutingPolicy', p.cached.ref, 'Rejected', accepted.message ?? '');
    }
    const annotation = p.verdict.accepted ? annotationUpdate(p.cached) : undefined;
    if (annotation !== undefined && this.#d.isLeader()) {
      await this.#d.writer.annotate('RoutingPolicy', p.cached.ref, LAST_ACCEPTED_ANNOTATION, annotation);
    }
    return status;
  }

  /** Drops what we remember of objects of this namespace that no longer exist. */
  #forgetOthers(plan: NamespacePlan): void {
    const present = new Set([...plan.providers, ...plan.policies].map((p) => p.cached.ref.uid));
    for (const [uid, w] of this.#written) {
      if (w.namespace === plan.namespace && !present.has(uid)) this.#written.delete(uid);
    }
  }

  /** The object's status as far as we know: our own last write when the cache has not caught up yet. */
  #current<T>(cached: Cached<T>): { status: unknown; resourceVersion: string } {
    const w = this.#written.get(cached.ref.uid);
    if (w?.base === cached.ref.resourceVersion)
      return { status: w.status, resourceVersion: w.resourceVersion };
    if (w) this.#written.delete(cached.ref.uid);
    return { status: cached.status, resourceVersion: cached.ref.resourceVersion };
  }

  /** Patches status when it differs (lastTransitionTime aside); returns the status now in effect. */
  async #write<T>(
    kind: TurnoutKind,
    cached: Cached<T>,
    desired: (cached: Cached<T>) => Record<string, unknown>,
  ): Promise<unknown> {
    const current = this.#current(cached);
    const status = desired({ ...cached, status: current.status });
    if (sameStatus(current.status, status) || !this.#d.isLeader()) return current.status;
    const updated: RawObject = await this.#d.writer.patchStatus(
      kind,
      cached.ref,
      current.resourceVersion,
      status,
    );
    this.#written.set(cached.ref.uid, {
      namespace: cached.ref.namespace,
      base: cached.ref.resourceVersion,
      resourceVersion: updated.metadata?.resourceVersion ?? '',
      status: updated['status'],
    });
    return updated['status'];
  }

  async #event(kind: TurnoutKind, ref: ObjectRef, reason: string, message: string): Promise<void> {
    if (!this.#d.isLeader()) return;
    try {
      await this.#d.writer.event({ kind, ref, type: 'Warning', reason, message });
    } catch (err) {
      // An Event is a courtesy: losing one must not requeue a status that is already right.
      this.#d.log.warn('could not record event', {
        kind,
        namespace: ref.namespace,
        name: ref.name,
        error: errorText(err),
      });
    }
  }
}

interface SidecarStatus {
  observedGeneration?: unknown;
  snapshotVersion?: unknown;
  sidecars?: { selected?: number; synced?: number; stale?: number; rejected?: number };
  conditions?: unknown;
}

/**
 * `desired`, with the stored sidecar counts and Programmed condition kept when the only difference is
 * fewer synced sidecars for the same generation, snapshot and pods: what a leader that has not heard
 * from every sidecar yet would write (see leadershipStarted).
 */
function keptWhileReconnecting(stored: unknown, desired: Record<string, unknown>): Record<string, unknown> {
  const before = (stored ?? {}) as SidecarStatus;
  const next = desired as SidecarStatus;
  const was = before.sidecars;
  const now = next.sidecars;
  const programmed = conditionOf(stored, 'Programmed');
  const held =
    was !== undefined &&
    now !== undefined &&
    programmed !== undefined &&
    before.observedGeneration === next.observedGeneration &&
    before.snapshotVersion === next.snapshotVersion &&
    was.selected === now.selected &&
    (now.synced ?? 0) < (was.synced ?? 0) &&
    (now.rejected ?? 0) === 0;
  if (!held) return desired;
  const conditions = (next.conditions as { type: string }[]).map((c) =>
    c.type === 'Programmed' ? programmed : c,
  );
  return { ...desired, sidecars: was, conditions };
}

/** Whether the status in effect holds exactly these spend entries (so they are persisted). */
function sameSpend(status: unknown, entries: readonly unknown[]): boolean {
  const stored = (status as { spend?: unknown } | null | undefined)?.spend;
  return canonicalJson(stored ?? []) === canonicalJson(entries);
}

/** Whether `after` repeats `before` for this generation (so the transition was already announced). */
function sameCondition(
  before: ReturnType<typeof conditionOf>,
  after: NonNullable<ReturnType<typeof conditionOf>>,
  generation: number,
): boolean {
  return (
    before?.status === after.status &&
    before?.reason === after.reason &&
    before?.observedGeneration === generation
  );
}

/**
 * Objects are independent: their writes go out a few at a time. One at a time, a first status pass
 * over 1,000 policies (status and annotation each) outlasts the reconcile timeout on a busy apiserver.
 */
const WRITES_IN_FLIGHT = 8;

async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, items.length) }, worker));
}

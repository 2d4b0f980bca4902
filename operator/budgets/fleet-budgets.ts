// Fleet budgets, coordinated by the leader (README.md): sidecars report their own spend, the leader sums
// it per budget key and window, persists the totals in RoutingPolicy status (through the reconciler's
// status pass) and sends every sidecar the rest of the fleet's spend and a lease of what is left. All
// state is per leadership term (`epoch`): a new term starts empty and is seeded from status.
import { randomBytes } from 'node:crypto';
import type { CompiledNamespace } from '../compile/index.ts';
import type {
  FleetSpendStatus,
  PodIdentity,
  SpendCollector,
  SpendStatusEntry,
  SpendStreams,
} from '../contract.ts';
import { Debouncer } from '../push/debounce.ts';
import type { SpendReport, SpendReportAnswer } from '../push/spend-protocol.ts';
import {
  ackLeases,
  budgetExists,
  emptyNamespace,
  leaseBook,
  logLeases,
  newLeaseLog,
  windowSignature,
  type FleetNamespace,
} from './fleet-namespace.ts';
import { intake } from './report-intake.ts';
import { SpendAggregate } from './spend-aggregate.ts';
import { spendEvent } from './spend-event.ts';
import { StatusThrottle } from './status-throttle.ts';
import { seedFromStatus, statusEntries } from './status-spend.ts';

export interface FleetBudgetsOptions {
  now?: () => number;
  /** Spend changes reach status at most this often per namespace (default 5 s). */
  statusIntervalMs?: number;
  /** Scope keys per budget in status (default 100) and in each `spend` event (default 1000). */
  maxStatusKeys?: number;
  maxEventKeys?: number;
  /** Window rollovers are noticed within this (default 1 s). */
  tickMs?: number;
}

export class FleetBudgets implements FleetSpendStatus, SpendCollector {
  readonly #now: () => number;
  readonly #o: Required<Omit<FleetBudgetsOptions, 'now'>>;
  readonly #namespaces = new Map<string, FleetNamespace>();
  readonly #seeded = new Set<string>();
  readonly #status: StatusThrottle;
  readonly #tick: NodeJS.Timeout;
  #streams: SpendStreams | undefined;
  #epoch = newEpoch();
  #memo: Map<string, Map<string, number>> | undefined;

  constructor(opts: FleetBudgetsOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#o = {
      statusIntervalMs: opts.statusIntervalMs ?? 5000,
      maxStatusKeys: opts.maxStatusKeys ?? 100,
      maxEventKeys: opts.maxEventKeys ?? 1000,
      tickMs: opts.tickMs ?? 1000,
    };
    this.#status = new StatusThrottle(this.#o.statusIntervalMs);
    this.#tick = setInterval(() => this.#rollover(), this.#o.tickMs);
    this.#tick.unref();
  }

  get epoch(): string {
    return this.#epoch;
  }

  /** A new leadership term: forget everything; the next status pass seeds from status again. */
  reset(): void {
    this.#epoch = newEpoch();
    this.#seeded.clear();
    for (const ns of this.#namespaces.values()) {
      ns.push.cancel();
      Object.assign(ns, { agg: new SpendAggregate(), instances: new Map(), leases: new Map() });
    }
  }

  close(): void {
    clearInterval(this.#tick);
    this.#status.close();
    for (const ns of this.#namespaces.values()) ns.push.cancel();
  }

  /** Spend changed in a namespace: the reconciler should write status (throttled). */
  onStatusDue(listener: (namespace: string) => void): () => void {
    return this.#status.onDue(listener);
  }

  // The reconciler's side (leader only).

  observe(namespace: string, compiled: CompiledNamespace | undefined, pods: readonly PodIdentity[]): void {
    const ns = this.#ns(namespace);
    const before = ns.compiled;
    ns.compiled = compiled;
    ns.observed = true;
    ns.pods = new Map(pods.map((p) => [p.name, p]));
    // A pod gone with its stream closed holds nothing any more; one the cache lags on may still.
    const open = new Set(this.#streams?.streams(namespace).map((s) => s.pod.name));
    for (const name of ns.leases.keys()) if (!ns.pods.has(name) && !open.has(name)) ns.leases.delete(name);
    if (before !== compiled) {
      ns.agg.prune(this.#now(), (key) => budgetExists(compiled, key));
      ns.redactor.useKeys([...(compiled?.providers.values() ?? [])].map((p) => p.apiKey));
    }
    ns.push.poke();
  }

  seed(namespace: string, policy: string, status: unknown): void {
    const id = `${namespace}/${policy}`;
    if (this.#seeded.has(id)) return;
    const ns = this.#ns(namespace);
    const p = ns.compiled?.policies.find((x) => x.name === policy);
    if (!p) return;
    seedFromStatus(ns.agg, p, status, this.#now());
    this.#seeded.add(id);
    ns.push.poke();
  }

  statusSpend(
    namespace: string,
    policy: string,
  ): { entries: SpendStatusEntry[]; written(): void } | undefined {
    const ns = this.#ns(namespace);
    const p = ns.compiled?.policies.find((x) => x.name === policy);
    if (!p || !this.#seeded.has(`${namespace}/${policy}`)) return undefined;
    const { entries, keys } = statusEntries(ns.agg, p, this.#now(), this.#o.maxStatusKeys, ns.redactor);
    const mark = ns.agg.mark(keys);
    const agg = ns.agg;
    return {
      entries,
      written: () => {
        agg.persisted(mark);
        ns.push.poke();
      },
    };
  }

  // The push server's side.

  attach(streams: SpendStreams): void {
    this.#streams = streams;
  }

  report(pod: PodIdentity, report: SpendReport): SpendReportAnswer | undefined {
    const ns = this.#ns(pod.namespace);
    // Right after start the policies are not known yet: "ignored" now would be final for the sidecar.
    if (!ns.observed) return undefined;
    if (!ns.instances.has(pod.name)) ns.instances.set(pod.name, report.instance);
    const result = intake(ns.agg, ns.compiled, pod, report, this.#now());
    if (result.recorded > 0) this.#status.due(pod.namespace);
    const log = ns.instances.get(pod.name) === report.instance ? ns.leases.get(pod.name) : undefined;
    // An acknowledged lease frees what the leases it replaced held: growth waiting for it can go out.
    const acked = log !== undefined && report.leaseSeq !== undefined && ackLeases(log, report.leaseSeq);
    if (result.recorded > 0 || acked) ns.push.poke();
    return { ...result, epoch: this.#epoch };
  }

  eventFor(pod: PodIdentity, instance: string | undefined, opening: boolean): string | undefined {
    if (instance === undefined) return undefined;
    const ns = this.#ns(pod.namespace);
    if (ns.instances.get(pod.name) !== instance) {
      // A new sidecar process: what its predecessor was sent does not bind the new one.
      ns.instances.set(pod.name, instance);
      ns.leases.delete(pod.name);
    }
    const pending = new Map<string, number>();
    const event = spendEvent({
      epoch: this.#epoch,
      agg: ns.agg,
      compiled: ns.compiled,
      pod,
      instance,
      seeded: (policy) => this.#seeded.has(`${pod.namespace}/${policy}`),
      book: leaseBook(ns, pod.namespace, this.#streams, pending),
      now: this.#now(),
      maxKeys: this.#o.maxEventKeys,
      ...(this.#memo && { memo: this.#memo }),
    });
    const body = JSON.stringify(event);
    let log = ns.leases.get(pod.name);
    if (!log) ns.leases.set(pod.name, (log = newLeaseLog()));
    // A new stream has been sent nothing yet; an open one needs nothing it already has.
    if (!opening && body === log.body) return undefined;
    const seq = logLeases(log, body, pending);
    return JSON.stringify({ ...event, seq });
  }

  streamsChanged(namespace: string): void {
    this.#ns(namespace).push.poke();
  }

  #flush(namespace: string): void {
    // One flush, one consistent set of grants: every stream's lease comes from the same totals.
    this.#memo = new Map();
    try {
      this.#streams?.push(namespace);
    } finally {
      this.#memo = undefined;
    }
  }

  #rollover(): void {
    const now = this.#now();
    for (const [name, ns] of this.#namespaces) {
      const windows = windowSignature(ns.compiled, now);
      const pruned = ns.agg.prune(now, (key) => budgetExists(ns.compiled, key));
      if (windows === ns.windows && !pruned) continue;
      ns.windows = windows;
      ns.push.poke();
      this.#status.due(name);
    }
  }

  #ns(namespace: string): FleetNamespace {
    let ns = this.#namespaces.get(namespace);
    if (!ns) {
      ns = emptyNamespace(new Debouncer(50, 250, () => this.#flush(namespace)));
      this.#namespaces.set(namespace, ns);
    }
    return ns;
  }
}

const newEpoch = () => randomBytes(8).toString('hex');

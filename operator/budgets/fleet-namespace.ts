// What fleet budgets hold per namespace in one leadership term, and the lease book built from it: who
// may hold a lease on a policy's budgets (its live pods, connected or not) and what each was granted.
import type { SnapshotPolicy } from '../../api/index.ts';
import { selects, type CompiledNamespace } from '../compile/index.ts';
import type { PodIdentity, SpendStreams } from '../contract.ts';
import type { Debouncer } from '../push/debounce.ts';
import { SecretRedactor } from '../../sidecar/telemetry/redact.ts';
import { windowBounds } from './keys.ts';
import { SpendAggregate } from './spend-aggregate.ts';
import type { HolderRef, LeaseBook } from './spend-event.ts';

export interface FleetNamespace {
  agg: SpendAggregate;
  compiled: CompiledNamespace | undefined;
  /** A status pass has shown us the namespace: reports can be judged against its policies. */
  observed: boolean;
  /** Live injected pods, as the last status pass saw them. */
  pods: Map<string, PodIdentity>;
  /** Pod name → the sidecar process it runs now. */
  instances: Map<string, string>;
  /** Pod name → the leases sent to its current sidecar process this term. */
  leases: Map<string, LeaseLog>;
  /** Current window starts of every budget: a change is a rollover. */
  windows: string;
  push: Debouncer;
  /** Scrubs scope values in status of the namespace's API keys and of key shapes, as the sidecar's /metrics does. */
  redactor: SecretRedactor;
}

/**
 * The leases one sidecar process was sent: by event seq, key id → ceiling. Events up to the one it
 * acknowledged are dropped, that one kept: the process holds it or a later one.
 */
export interface LeaseLog {
  seq: number;
  acked: number;
  sent: Map<number, Map<string, number>>;
  /** The last event body sent (without seq), so an unchanged one is not sent again. */
  body: string | undefined;
}

/** Unacknowledged events kept per process; older ones are merged (by max), which only over-reserves. */
const MAX_UNACKED = 32;

export function newLeaseLog(): LeaseLog {
  return { seq: 0, acked: 0, sent: new Map(), body: undefined };
}

/** Records an event's leases under the next seq; returns that seq. */
export function logLeases(log: LeaseLog, body: string, ceilings: Map<string, number>): number {
  const seq = ++log.seq;
  log.sent.set(seq, ceilings);
  log.body = body;
  if (log.sent.size > MAX_UNACKED) {
    const [oldest, next] = [...log.sent.values()];
    if (oldest && next) for (const [id, c] of oldest) next.set(id, Math.max(c, next.get(id) ?? 0));
    log.sent.delete(log.sent.keys().next().value as number);
  }
  return seq;
}

/** The process applied event `seq`: what was sent before it no longer binds. True if anything dropped. */
export function ackLeases(log: LeaseLog, seq: number): boolean {
  if (seq <= log.acked || seq > log.seq) return false;
  log.acked = seq;
  let dropped = false;
  for (const s of log.sent.keys())
    if (s < seq) {
      log.sent.delete(s);
      dropped = true;
    }
  return dropped;
}

export function emptyNamespace(push: Debouncer): FleetNamespace {
  return {
    agg: new SpendAggregate(),
    compiled: undefined,
    observed: false,
    pods: new Map(),
    instances: new Map(),
    leases: new Map(),
    windows: '',
    push,
    redactor: new SecretRedactor(),
  };
}

/** Holders are the live pods a policy selects, plus any with an open stream the pod cache has not shown yet. */
export function leaseBook(
  ns: FleetNamespace,
  namespace: string,
  streams: SpendStreams | undefined,
  pending: Map<string, number>,
): LeaseBook {
  return {
    holders: (policy: SnapshotPolicy): HolderRef[] => {
      const open = new Map((streams?.streams(namespace) ?? []).map((s) => [s.pod.name, s]));
      const pods = new Map(ns.pods);
      for (const s of open.values()) pods.set(s.pod.name, s.pod);
      return [...pods.values()]
        .filter((p) => selects(policy.selector, p.labels))
        .map((p) => ({
          pod: p.name,
          // A stream without an instance id is a sidecar that does not enforce leases.
          connected: open.get(p.name)?.instance !== undefined,
          instance: ns.instances.get(p.name),
        }));
    },
    held: (pod, id, defaultId) => {
      let max: number | undefined;
      for (const m of ns.leases.get(pod)?.sent.values() ?? []) {
        const c = m.get(id) ?? m.get(defaultId);
        if (c !== undefined) max = Math.max(max ?? 0, c);
      }
      return max;
    },
    grant: (_pod, id, ceiling) => pending.set(id, ceiling),
  };
}

export function budgetExists(compiled: CompiledNamespace | undefined, budgetKey: string): boolean {
  return (compiled?.policies ?? []).some((p) =>
    p.budgets.some((b) => budgetKey.startsWith(`${p.namespace}/${p.name}/${b.name}|`)),
  );
}

/** The current window start of every budget of the namespace, as one string to compare. */
export function windowSignature(compiled: CompiledNamespace | undefined, now: number): string {
  return (compiled?.policies ?? [])
    .flatMap((p) => p.budgets.map((b) => windowBounds(b.window, now).start))
    .join(',');
}

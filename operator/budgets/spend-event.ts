// The `spend` event one sidecar process gets: for each budget key of the policies selecting its pod,
// the fleet's spend without its own, and its lease; plus a default lease per budget for scopes nobody
// has spent on yet, for the current window and the next (so a window rollover never leaves a sidecar
// without one). Policies not yet seeded this term get nothing: a lease computed without the previous
// leader's total could hand out money that is already spent.
import type { SnapshotPolicy } from '../../api/index.ts';
import { selects, type CompiledNamespace } from '../compile/index.ts';
import type { PodIdentity } from '../contract.ts';
import type { SpendEvent, SpendEventDefault, SpendEventRecord } from '../push/spend-protocol.ts';
import { budgetPrefix, isoSeconds, keyId, toMicro, toUSD, windowBounds } from './keys.ts';
import { grantLeases, type LeaseHolder } from './leases.ts';
import { totalOf, type KeyState, type SpendAggregate } from './spend-aggregate.ts';

export interface HolderRef {
  pod: string;
  /** Holds an open stream from a sidecar process that enforces leases. */
  connected: boolean;
  /** Its current sidecar process, when known. */
  instance: string | undefined;
}

/** Who may hold a lease, and the most each may hold now (this term). */
export interface LeaseBook {
  holders(policy: SnapshotPolicy): HolderRef[];
  /** The highest ceiling `pod` may hold on key `id` (falling back to its budget's default `defaultId`). */
  held(pod: string, id: string, defaultId: string): number | undefined;
  /** Records a ceiling the event being built grants (committed only if the event is sent). */
  grant(pod: string, id: string, ceiling: number): void;
}

export interface EventInput {
  epoch: string;
  agg: SpendAggregate;
  compiled: CompiledNamespace | undefined;
  pod: PodIdentity;
  instance: string;
  seeded(policy: string): boolean;
  book: LeaseBook;
  now: number;
  /** Keys per budget sent (the biggest spenders); the rest fall back to the default lease. */
  maxKeys: number;
  /** Grants per key, shared by the events of one flush (they do not depend on the receiving pod). */
  memo?: Map<string, Map<string, number>>;
}

/** The event without its `seq` (the coordinator numbers the events it actually sends). */
export function spendEvent(input: EventInput): Omit<SpendEvent, 'seq'> {
  const { agg, compiled, pod, now } = input;
  const records: SpendEventRecord[] = [];
  const defaults: SpendEventDefault[] = [];
  for (const policy of compiled?.policies ?? []) {
    if (!selects(policy.selector, pod.labels) || !input.seeded(policy.name)) continue;
    const holders = input.book.holders(policy);
    for (const b of policy.budgets) {
      const limit = toMicro(b.limitUSD);
      const prefix = budgetPrefix(policy.namespace, policy.name, b.name);
      const current = windowBounds(b.window, now);
      const ranked = agg
        .keysOf(prefix, current.start)
        .map((k) => ({ k, total: totalOf(k) }))
        .sort((x, y) => y.total - x.total)
        .slice(0, input.maxKeys);
      for (const { k, total } of ranked) {
        const own = k.byInstance.get(input.instance);
        const used = own?.used ?? 0;
        const lease = leaseFor(input, holders, limit, total, keyId(k.budgetKey, k.start), k, prefix);
        records.push({
          budgetKey: k.budgetKey,
          windowStart: isoSeconds(k.start),
          usedUSD: toUSD(total - used),
          ownUSD: toUSD(used),
          ...(lease !== undefined && { leaseUSD: toUSD(lease) }),
          persistedUSD: toUSD(own?.persisted ?? 0),
        });
      }
      for (const start of [current.start, current.end]) {
        const id = keyId(`${prefix}|*`, start);
        const lease = leaseFor(input, holders, limit, 0, id, undefined, prefix);
        if (lease !== undefined)
          defaults.push({ budget: prefix, windowStart: isoSeconds(start), leaseUSD: toUSD(lease) });
      }
    }
  }
  return { epoch: input.epoch, records, defaults };
}

/** This pod's lease on one key (or, with no key state, on a budget's unseen scopes); recorded as granted. */
function leaseFor(
  input: EventInput,
  holders: readonly HolderRef[],
  limit: number,
  total: number,
  id: string,
  k: KeyState | undefined,
  prefix: string,
): number | undefined {
  const { book, pod } = input;
  const defaultId = keyId(`${prefix}|*`, Number(id.slice(id.lastIndexOf('\n') + 1)));
  const view = (h: HolderRef): LeaseHolder => ({
    pod: h.pod,
    connected: h.connected,
    own: (h.instance !== undefined && k?.byInstance.get(h.instance)?.used) || 0,
    // A key first spent on since the last grant is still bounded by that holder's default lease.
    held: book.held(h.pod, id, defaultId),
  });
  let grants = input.memo?.get(id);
  if (!grants) {
    grants = grantLeases(limit, total, holders.map(view));
    input.memo?.set(id, grants);
  }
  const lease = grants.get(pod.name);
  if (lease === undefined) return undefined;
  const own = (k?.byInstance.get(input.instance)?.used ?? 0) + lease;
  book.grant(pod.name, id, own);
  return lease;
}

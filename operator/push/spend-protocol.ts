// Fleet budgets on the push channel (README.md, "Fleet budgets"): sidecars POST their own settled spend,
// the operator answers on the snapshot stream with everyone else's spend and a lease of what is left.
// Free of I/O and operator code, like protocol.ts, so the sidecar can import it.
import { z } from 'zod';

export const SPEND_PATH = '/v1/spend';
export const EVENT_SPEND = 'spend';
/** Sent on the stream request: which sidecar process holds the stream (leases are per process). */
export const HEADER_INSTANCE = 'x-turnout-instance';

/** Records per report; a sidecar with more sends several reports. */
export const MAX_SPEND_RECORDS = 2000;
/** Upper bound on a report body: MAX_SPEND_RECORDS records of bounded size. */
export const MAX_SPEND_BYTES = 1024 * 1024;

const instanceId = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'a random id of 8 to 64 letters, digits or "-"');
const usd = z.number().finite().min(0).max(1e9);

export const spendRecord = z.strictObject({
  /** `<namespace>/<policy>/<budget>|<scope>`, as the sidecar's BudgetLedger keys it. */
  budgetKey: z.string().min(1).max(1024),
  window: z.enum(['hour', 'day', 'month']),
  /** ISO 8601 start of the UTC window the spend belongs to. */
  windowStart: z.string().min(1).max(40),
  /** This sidecar process's own settled spend in that window (only grows). */
  usedUSD: usd,
  /**
   * How much of it earlier operator processes already persisted in RoutingPolicy status (learned from
   * their `persistedUSD`): the new leader's seed contains it, so it must not be counted twice.
   */
  carriedUSD: usd.optional(),
});
export type SpendRecordBody = z.infer<typeof spendRecord>;

export const spendReport = z.strictObject({
  /** Random per sidecar process: a restarted sidecar starts a new, separate contribution. */
  instance: instanceId,
  /** The last `spend` event (its seq) this process applied in the current term: its leases are in force. */
  leaseSeq: z.number().int().min(1).optional(),
  records: z.array(spendRecord).max(MAX_SPEND_RECORDS),
});
export type SpendReport = z.infer<typeof spendReport>;

/** The answer to a report. `epoch` identifies the operator's leadership term (new epoch = new aggregate). */
export interface SpendReportAnswer {
  recorded: number;
  ignored: number;
  epoch: string;
}

/** One budget key in a `spend` event, for the receiving sidecar process. */
export interface SpendEventRecord {
  budgetKey: string;
  windowStart: string;
  /** Fleet spend without this process's own: feed to BudgetLedger.absorb(). */
  usedUSD: number;
  /** This process's own spend as the operator counted it: the base of the lease. */
  ownUSD: number;
  /** This process may spend up to ownUSD + leaseUSD in the window on this key. Absent: no lease yet. */
  leaseUSD?: number;
  /** How much of ownUSD is persisted in RoutingPolicy status (reported back as carriedUSD to a new epoch). */
  persistedUSD: number;
}

/** The lease for every scope of a budget that has no record of its own (nothing spent on it yet). */
export interface SpendEventDefault {
  /** `<namespace>/<policy>/<budget>` */
  budget: string;
  windowStart: string;
  leaseUSD: number;
}

/** `data` of a `spend` event. Each event is complete for the pod: it replaces what came before. */
export interface SpendEvent {
  epoch: string;
  /** Numbers the events sent to one sidecar process in one term; acknowledged as the report's leaseSeq. */
  seq: number;
  records: SpendEventRecord[];
  defaults: SpendEventDefault[];
}

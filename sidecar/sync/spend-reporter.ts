// The sidecar's half of fleet budgets (operator/push/README.md, "Fleet budgets"): report this process's
// own settled spend to the operator when it changed, and feed what the operator sends back (the rest of
// the fleet's spend, leases) to the ledger. Reports carry only what changed since the last one the
// operator took, except after a reconnect or a new operator term, when everything is sent again.
import { randomUUID } from 'node:crypto';
import type { ExternalSpend, SpendRecord } from '../limits/budget-ledger.ts';
import {
  MAX_SPEND_RECORDS,
  type SpendEvent,
  type SpendRecordBody,
  type SpendReportAnswer,
} from '../../operator/push/spend-protocol.ts';

/** What the reporter needs of the BudgetLedger. */
export interface SpendLedger {
  spend(): SpendRecord[];
  absorb(external: Iterable<ExternalSpend>): void;
  withinLeases(): boolean;
}

/** Posts one report; the answer, or an error text. */
export type PostSpend = (body: {
  instance: string;
  leaseSeq?: number;
  records: SpendRecordBody[];
}) => Promise<SpendReportAnswer | string>;

export class SpendReporter {
  /** This process: a restarted sidecar is a new contribution to the fleet total, not a replacement. */
  readonly instance = randomUUID();
  readonly #ledger: SpendLedger;
  /** What the operator took, per budgetKey + window: "used/carried". */
  readonly #sent = new Map<string, string>();
  /** Own spend the current operator term persisted in status, per budgetKey + window (micro). */
  readonly #persisted = new Map<string, number>();
  /** Own spend earlier terms persisted: the new leader's seed contains it already. */
  readonly #carried = new Map<string, number>();
  #epoch: string | undefined;
  /** The last `spend` event applied this term, and the last one the operator heard we applied. */
  #applied: number | undefined;
  #acked: number | undefined;

  constructor(ledger: SpendLedger) {
    this.#ledger = ledger;
  }

  /** A new stream: the operator may have lost what it knew of us (restart), so send everything again. */
  reconnected(): void {
    this.#sent.clear();
  }

  /** Sends what changed; true when nothing is left to send (or the operator does not collect spend). */
  async report(post: PostSpend): Promise<true | string> {
    const pending: SpendRecordBody[] = [];
    const live = new Set<string>();
    for (const r of this.#ledger.spend()) {
      const k = key(r.budgetKey, r.windowStart);
      live.add(k);
      const carried = (this.#carried.get(k) ?? 0) / 1e6;
      const sent = `${r.usedUSD}/${carried}`;
      if (this.#sent.get(k) === sent) continue;
      pending.push({
        budgetKey: r.budgetKey,
        window: r.window,
        windowStart: r.windowStart,
        usedUSD: r.usedUSD,
        ...(carried > 0 && { carriedUSD: carried }),
      });
    }
    for (const m of [this.#sent, this.#persisted, this.#carried])
      for (const k of m.keys()) if (!live.has(k)) m.delete(k);
    // An acknowledged lease is all we may still spend: the operator then gives what our earlier, larger
    // leases held to others. So not while calls admitted under those are still running past it.
    const ack = this.#applied !== this.#acked && this.#ledger.withinLeases() ? this.#applied : undefined;
    if (pending.length === 0 && ack === undefined) return true;
    for (let i = 0; i === 0 || i < pending.length; i += MAX_SPEND_RECORDS) {
      const records = pending.slice(i, i + MAX_SPEND_RECORDS);
      const answer = await post({
        instance: this.instance,
        ...(ack !== undefined && { leaseSeq: ack }),
        records,
      });
      if (typeof answer === 'string') return answer;
      for (const r of records)
        this.#sent.set(key(r.budgetKey, r.windowStart), `${r.usedUSD}/${r.carriedUSD ?? 0}`);
      // The answer's epoch may be news: an operator term we have not heard a spend event from yet.
      if (answer.epoch !== this.#epoch) this.#term(answer.epoch);
      else if (ack !== undefined) this.#acked = ack;
    }
    return true;
  }

  /** A `spend` event from the operator: the fleet's spend without ours, and our leases. */
  absorb(data: string): void {
    const event = JSON.parse(data) as Partial<SpendEvent>;
    if (
      typeof event.epoch !== 'string' ||
      !Number.isSafeInteger(event.seq) ||
      !Array.isArray(event.records) ||
      !Array.isArray(event.defaults)
    )
      throw new Error('a spend event needs epoch, seq, records and defaults');
    this.#term(event.epoch);
    const external: ExternalSpend[] = [];
    for (const r of event.records) {
      external.push({
        budgetKey: r.budgetKey,
        windowStart: r.windowStart,
        usedUSD: r.usedUSD,
        ownUSD: r.ownUSD,
        ...(r.leaseUSD !== undefined && { leaseUSD: r.leaseUSD }),
      });
      const k = key(r.budgetKey, r.windowStart);
      const micro = Math.round(Number(r.persistedUSD) * 1e6);
      if (Number.isFinite(micro) && micro > (this.#persisted.get(k) ?? 0)) this.#persisted.set(k, micro);
    }
    for (const d of event.defaults)
      external.push({
        budgetKey: `${d.budget}|*`,
        windowStart: d.windowStart,
        usedUSD: 0,
        leaseUSD: d.leaseUSD,
      });
    this.#ledger.absorb(external);
    this.#applied = event.seq;
  }

  /**
   * A new operator term (leader change or restart): what the old one persisted is now in the new one's
   * seed, so it becomes "carried" (reported so it is not counted twice), and everything is resent.
   */
  #term(epoch: string): void {
    if (epoch === this.#epoch) return;
    if (this.#epoch !== undefined) {
      for (const [k, micro] of this.#persisted)
        this.#carried.set(k, Math.max(this.#carried.get(k) ?? 0, micro));
      this.#persisted.clear();
      this.#sent.clear();
    }
    this.#epoch = epoch;
    // Event numbers are per term: the new leader has sent us nothing yet.
    this.#applied = undefined;
    this.#acked = undefined;
  }
}

/** Same normalisation on both sides: the ledger's ISO string and the operator's may differ in ms digits. */
const key = (budgetKey: string, windowStart: string) => `${budgetKey}\n${Date.parse(windowStart)}`;

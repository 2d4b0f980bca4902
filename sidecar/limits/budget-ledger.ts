// USD budgets per UTC window and scope. A call reserves its estimated cost before it goes upstream, so
// concurrent calls cannot all pass a nearly spent budget; it settles the actual cost when it completes,
// or releases the reservation when it was never billed. Amounts are integer micro-dollars inside, so
// thousands of small costs add up exactly.
import { LRUCache } from 'lru-cache';
import { Reservation, toMicro, toUSD, type BudgetReservation, type Entry } from './budget-reservation.ts';
import { windowBounds, type BudgetWindow } from './budget-window.ts';

export type { BudgetReservation } from './budget-reservation.ts';

export interface BudgetSpec {
  /** Identifies one budget for one scope value, e.g. "team-a/support-bot/per-tenant|acme". */
  budgetKey: string;
  limitUSD: number;
  window: BudgetWindow;
}

export type BudgetDecision =
  | { ok: true; reservation: BudgetReservation }
  | { ok: false; usedUSD: number; reservedUSD: number; limitUSD: number; retryAfterMs: number };

/** This sidecar's own spend per budget and window, to report upstream (operator status, fleet budgets). */
export interface SpendRecord {
  budgetKey: string;
  window: BudgetWindow;
  /** ISO 8601, e.g. "2026-11-22T00:00:00.000Z". */
  windowStart: string;
  usedUSD: number;
}

/** Spend reported from elsewhere (other sidecars of the fleet, the operator) for one budget and window. */
export interface ExternalSpend {
  budgetKey: string;
  windowStart: string;
  /** Everyone else's spend, this sidecar's own excluded. A string as in RoutingPolicy status is accepted. */
  usedUSD: number | string;
}

export interface BudgetUsage {
  windowStart: string;
  usedUSD: number;
  remoteUSD: number;
  reservedUSD: number;
  remainingUSD: number;
}

export interface BudgetLedgerOptions {
  /** Wall clock (budget windows are calendar periods). Default Date.now. */
  now?: () => number;
  /** Budget keys tracked; beyond this the least recently used is forgotten. Default 100 000. */
  maxKeys?: number;
}

export class BudgetLedger {
  #entries: LRUCache<string, Entry>;
  /** Absorbed remote spend by budgetKey + window start, waiting for (or mirrored into) the entry. */
  #remote: LRUCache<string, number>;
  #now: () => number;

  constructor(options: BudgetLedgerOptions = {}) {
    const max = options.maxKeys ?? 100_000;
    this.#entries = new LRUCache({ max });
    this.#remote = new LRUCache({ max });
    this.#now = options.now ?? Date.now;
  }

  /**
   * Reserve estimateUSD if used + remote + reserved + estimate ≤ limit. Every reservation counts at
   * least one micro-dollar, so a call whose cost is unknown (estimate 0) cannot pass a spent budget.
   * A call still in flight when the window rolls over keeps its reservation and settles into the new
   * window: it is charged to the window it ends in.
   */
  reserve(spec: BudgetSpec, estimateUSD: number, now: number = this.#now()): BudgetDecision {
    const e = this.#current(spec, now);
    const estimate = Number.isFinite(estimateUSD) ? Math.max(1, toMicro(estimateUSD)) : 1;
    const limit = toMicro(spec.limitUSD);
    if (e.used + e.remote + e.reserved + estimate > limit) {
      return {
        ok: false,
        usedUSD: toUSD(e.used + e.remote),
        reservedUSD: toUSD(e.reserved),
        limitUSD: spec.limitUSD,
        retryAfterMs: e.end - now,
      };
    }
    e.reserved += estimate;
    return { ok: true, reservation: new Reservation(e, estimate) };
  }

  /** Where the budget stands now, without creating state. */
  usage(spec: BudgetSpec, now: number = this.#now()): BudgetUsage {
    const { start, end } = windowBounds(spec.window, now);
    const e = this.#entries.peek(spec.budgetKey);
    const live = e && e.window === spec.window && e.start === start && now < end;
    const used = live ? e.used : 0;
    const remote = live ? e.remote : (this.#remote.peek(remoteKey(spec.budgetKey, start)) ?? 0);
    const reserved = e ? e.reserved : 0;
    return {
      windowStart: new Date(start).toISOString(),
      usedUSD: toUSD(used),
      remoteUSD: toUSD(remote),
      reservedUSD: toUSD(reserved),
      remainingUSD: Math.max(0, toUSD(toMicro(spec.limitUSD) - used - remote - reserved)),
    };
  }

  /** This sidecar's own settled spend (remote spend excluded, so summing every sidecar's export counts each dollar once). */
  spend(): SpendRecord[] {
    const out: SpendRecord[] = [];
    for (const [budgetKey, e] of this.#entries.entries()) {
      if (e.used > 0)
        out.push({
          budgetKey,
          window: e.window,
          windowStart: new Date(e.start).toISOString(),
          usedUSD: toUSD(e.used),
        });
    }
    return out;
  }

  /**
   * Merge spend reported from elsewhere: per budgetKey + window, the figure is everyone else's spend and
   * is added to local used for every check. Reports replace earlier ones but never lower them (spend in
   * a window only grows), so re-delivered or reordered reports are harmless. Records for a window not
   * yet started locally are kept until it does; malformed records are skipped.
   */
  absorb(external: Iterable<ExternalSpend>): void {
    for (const r of external) {
      const start = Date.parse(r.windowStart);
      const micro = toMicro(Number(r.usedUSD));
      if (!Number.isFinite(start) || !Number.isFinite(micro) || micro < 0) continue;
      const k = remoteKey(r.budgetKey, start);
      const merged = Math.max(this.#remote.get(k) ?? 0, micro);
      this.#remote.set(k, merged);
      const e = this.#entries.peek(r.budgetKey);
      if (e && e.start === start) e.remote = merged;
    }
  }

  #current(spec: BudgetSpec, now: number): Entry {
    let e = this.#entries.get(spec.budgetKey);
    if (e && e.window === spec.window && now >= e.start && now < e.end) return e;
    const { start, end } = windowBounds(spec.window, now);
    const remote = this.#remote.get(remoteKey(spec.budgetKey, start)) ?? 0;
    if (!e) {
      e = { window: spec.window, start, end, used: 0, remote, reserved: 0 };
      this.#entries.set(spec.budgetKey, e);
    } else {
      // A new window (or a new window length after a reload): spend starts over.
      Object.assign(e, { window: spec.window, start, end, used: 0, remote });
    }
    return e;
  }
}

const remoteKey = (budgetKey: string, start: number): string => `${budgetKey}\n${start}`;

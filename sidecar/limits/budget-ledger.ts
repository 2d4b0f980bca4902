// USD budgets per UTC window and scope. A call reserves its estimated cost before it goes upstream, so
// concurrent calls cannot all pass a nearly spent budget; it settles the actual cost when it completes,
// or releases the reservation when it was never billed. Amounts are integer micro-dollars inside, so
// thousands of small costs add up exactly.
import type { LRUCache } from 'lru-cache';
import { growingLru } from '../lru.ts';
import { Reservation, toMicro, toUSD, type BudgetReservation, type Entry } from './budget-reservation.ts';
import { windowBounds, type BudgetWindow } from './budget-window.ts';

export type { BudgetReservation } from './budget-reservation.ts';

export interface BudgetSpec {
  /** Identifies one budget for one scope value, e.g. "team-a/support-bot/per-tenant|acme". */
  budgetKey: string;
  limitUSD: number;
  window: BudgetWindow;
}

/**
 * Why a reservation was refused, which decides when to retry:
 * - `spent`: settled spend leaves no room for this call until the window resets;
 * - `in-flight`: it would fit but for reservations of calls still running, which settle (usually below
 *   their estimate) or release within seconds: retry soon;
 * - `lease`: the budget has room but this sidecar's fleet lease does not; leases are re-granted as the
 *   fleet reports: retry soon;
 * - `exceeds-limit`: this one call's estimate is more than the whole limit: it cannot be admitted in
 *   any window as sent (a lower max_tokens or a shorter prompt could be).
 */
export type BudgetRefusal = 'spent' | 'in-flight' | 'lease' | 'exceeds-limit';

export type BudgetDecision =
  | { ok: true; reservation: BudgetReservation }
  | {
      ok: false;
      reason: BudgetRefusal;
      usedUSD: number;
      reservedUSD: number;
      limitUSD: number;
      estimateUSD: number;
      retryAfterMs: number;
    };

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
  /**
   * Fleet lease: this sidecar may spend up to `ownUSD + leaseUSD` of its own in this window on this key
   * (its share of what the fleet has left). Replaces the previous lease for the key and window.
   */
  leaseUSD?: number | string;
  /** The own spend the lease was granted on top of: what the operator counted from this sidecar. */
  ownUSD?: number | string;
}

export interface BudgetUsage {
  windowStart: string;
  usedUSD: number;
  remoteUSD: number;
  reservedUSD: number;
  remainingUSD: number;
  /** Own spend this sidecar may still add under its fleet lease, when it holds one. */
  leaseRemainingUSD?: number;
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
  /** Fleet leases as own-spend ceilings (micro) by budgetKey + window start; "<budget>|*" = default. */
  #ceilings: LRUCache<string, number>;
  #now: () => number;

  constructor(options: BudgetLedgerOptions = {}) {
    const max = options.maxKeys ?? 100_000;
    this.#entries = growingLru(max);
    this.#remote = growingLru(max);
    this.#ceilings = growingLru(max);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Reserve estimateUSD if used + remote + reserved + estimate ≤ limit, and, under a fleet lease, if
   * used + reserved + estimate ≤ the lease's ceiling. Every reservation counts at least one
   * micro-dollar, so a call whose cost is unknown (estimate 0) cannot pass a spent budget. A call still
   * in flight when the window rolls over keeps its reservation and settles into the new window: it is
   * charged to the window it ends in.
   */
  reserve(spec: BudgetSpec, estimateUSD: number, now: number = this.#now()): BudgetDecision {
    const e = this.#current(spec, now);
    const estimate = Number.isFinite(estimateUSD) ? Math.max(1, toMicro(estimateUSD)) : 1;
    const limit = toMicro(spec.limitUSD);
    const overLimit = e.used + e.remote + e.reserved + estimate > limit;
    const ceiling = this.#ceiling(spec.budgetKey, e.start);
    if (overLimit || (ceiling !== undefined && e.used + e.reserved + estimate > ceiling)) {
      const reason = refusal(e, estimate, limit, ceiling, overLimit);
      const soon =
        reason === 'in-flight' ? IN_FLIGHT_RETRY_MS : reason === 'lease' ? LEASE_RETRY_MS : undefined;
      return {
        ok: false,
        reason,
        usedUSD: toUSD(e.used + e.remote),
        reservedUSD: toUSD(e.reserved),
        limitUSD: spec.limitUSD,
        estimateUSD: toUSD(estimate),
        // A new window is always worth a try, so "soon" is never later than the window's end.
        retryAfterMs: soon === undefined ? e.end - now : Math.min(e.end - now, soon),
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
    const remaining = Math.max(0, toUSD(toMicro(spec.limitUSD) - used - remote - reserved));
    const ceiling = this.#ceiling(spec.budgetKey, start);
    const leaseRemaining = ceiling === undefined ? undefined : Math.max(0, toUSD(ceiling - used - reserved));
    return {
      windowStart: new Date(start).toISOString(),
      usedUSD: toUSD(used),
      remoteUSD: toUSD(remote),
      reservedUSD: toUSD(reserved),
      remainingUSD: leaseRemaining === undefined ? remaining : Math.min(remaining, leaseRemaining),
      ...(leaseRemaining !== undefined && { leaseRemainingUSD: leaseRemaining }),
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
   *
   * A record with `leaseUSD` also sets this sidecar's fleet lease for the key and window (latest wins:
   * leases shrink as the fleet spends). A budgetKey ending in "|*" (e.g. "ns/p/daily|*") carries only a
   * lease: the default for every scope of that budget without a lease of its own, counted from zero.
   */
  absorb(external: Iterable<ExternalSpend>): void {
    for (const r of external) {
      const start = Date.parse(r.windowStart);
      if (!Number.isFinite(start)) continue;
      if (r.leaseUSD !== undefined) {
        const ceiling = toMicro(Number(r.ownUSD ?? 0)) + toMicro(Number(r.leaseUSD));
        if (Number.isFinite(ceiling) && ceiling >= 0)
          this.#ceilings.set(remoteKey(r.budgetKey, start), ceiling);
      }
      if (r.budgetKey.endsWith(DEFAULT_LEASE_SUFFIX)) continue;
      const micro = toMicro(Number(r.usedUSD));
      if (!Number.isFinite(micro) || micro < 0) continue;
      const k = remoteKey(r.budgetKey, start);
      const merged = Math.max(this.#remote.get(k) ?? 0, micro);
      this.#remote.set(k, merged);
      const e = this.#entries.peek(r.budgetKey);
      if (e && e.start === start) e.remote = merged;
    }
  }

  /**
   * Whether every call in flight fits under the current fleet leases (used + reserved ≤ ceiling wherever
   * something is reserved). Until it does, a lease just lowered does not yet bound what this sidecar may
   * still spend: calls admitted under the previous one are running.
   */
  withinLeases(): boolean {
    for (const [budgetKey, e] of this.#entries.entries()) {
      if (e.reserved === 0) continue;
      const ceiling = this.#ceiling(budgetKey, e.start);
      if (ceiling !== undefined && e.used + e.reserved > ceiling) return false;
    }
    return true;
  }

  /** The own-spend ceiling a fleet lease sets for this key and window: its own lease, else the budget's default. */
  #ceiling(budgetKey: string, start: number): number | undefined {
    const own = this.#ceilings.get(remoteKey(budgetKey, start));
    if (own !== undefined) return own;
    const bar = budgetKey.indexOf('|');
    if (bar < 0) return undefined;
    return this.#ceilings.get(remoteKey(`${budgetKey.slice(0, bar)}${DEFAULT_LEASE_SUFFIX}`, start));
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

/** Why a reservation that does not fit was refused (amounts in micro-dollars). */
function refusal(
  e: Entry,
  estimate: number,
  limit: number,
  ceiling: number | undefined,
  overLimit: boolean,
): BudgetRefusal {
  if (estimate > limit) return 'exceeds-limit';
  const settledFits =
    e.used + e.remote + estimate <= limit && (ceiling === undefined || e.used + estimate <= ceiling);
  if (settledFits) return 'in-flight';
  return overLimit ? 'spent' : 'lease';
}

const remoteKey = (budgetKey: string, start: number): string => `${budgetKey}\n${start}`;
/** budgetKey suffix of a default lease: "<ns>/<policy>/<budget>|*" (scopes are "policy" or "header:…"). */
export const DEFAULT_LEASE_SUFFIX = '|*';
/** Retry-After for a call refused by its lease while the budget itself has room. */
const LEASE_RETRY_MS = 2000;
/** Retry-After for a call refused only because of reservations in flight (documented in docs/routing.md). */
export const IN_FLIGHT_RETRY_MS = 1000;

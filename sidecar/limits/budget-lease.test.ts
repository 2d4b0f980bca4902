// Fleet leases in the ledger: absorb() with leaseUSD caps this sidecar's own spend below the budget's
// limit; "<budget>|*" is the default for scopes without a lease of their own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetLedger, type BudgetSpec } from './budget-ledger.ts';

const noon = Date.parse('2026-11-22T12:00:00Z');
const windowStart = '2026-11-22T00:00:00.000Z';
const daily: BudgetSpec = { budgetKey: 'ns/p/daily|policy', limitUSD: 1, window: 'day' };
const tenant = (t: string): BudgetSpec => ({
  budgetKey: `ns/p/t|header:x-t=${t}`,
  limitUSD: 1,
  window: 'day',
});

describe('BudgetLedger fleet leases', () => {
  it('own used + reserved + estimate must fit ownUSD + leaseUSD, even with the budget far from spent', () => {
    const l = new BudgetLedger({ now: () => noon });
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0.1, ownUSD: 0, leaseUSD: 0.25 }]);
    const a = l.reserve(daily, 0.2);
    assert.ok(a.ok);
    const no = l.reserve(daily, 0.1);
    assert.equal(no.ok, false);
    assert.ok(!no.ok && no.retryAfterMs <= 2000, 'out of lease, not of budget: retry soon');
    a.reservation.settle(0.05);
    assert.ok(l.reserve(daily, 0.2).ok, '0.05 used + 0.2 ≤ 0.25');
  });

  it('a lease counts from the own spend the operator saw; spend since then comes out of it', () => {
    const l = new BudgetLedger({ now: () => noon });
    const a = l.reserve(daily, 0.3);
    assert.ok(a.ok);
    a.reservation.settle(0.3);
    // The operator counted 0.2 of it (the last report) and leases 0.15 more: the ceiling is 0.35.
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0, ownUSD: '0.2', leaseUSD: '0.15' }]);
    assert.equal(l.reserve(daily, 0.06).ok, false);
    assert.ok(l.reserve(daily, 0.05).ok);
    assert.equal(l.usage(daily).leaseRemainingUSD, 0);
  });

  it('the latest lease replaces the previous one, up or down', () => {
    const l = new BudgetLedger({ now: () => noon });
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0, leaseUSD: 0.1 }]);
    assert.equal(l.reserve(daily, 0.2).ok, false);
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0, leaseUSD: 0.5 }]);
    assert.ok(l.reserve(daily, 0.2).ok);
    assert.equal(l.usage(daily).leaseRemainingUSD, 0.3);
    assert.equal(l.usage(daily).remainingUSD, 0.3, 'remaining is the tighter of limit and lease');
  });

  it('a "|*" default lease applies to every scope without its own, counted from zero', () => {
    const l = new BudgetLedger({ now: () => noon });
    l.absorb([
      { budgetKey: 'ns/p/t|*', windowStart, usedUSD: 0, leaseUSD: 0.3 },
      { budgetKey: 'ns/p/t|header:x-t=big', windowStart, usedUSD: 0.5, ownUSD: 0, leaseUSD: 0.05 },
    ]);
    assert.ok(l.reserve(tenant('new'), 0.3).ok);
    assert.equal(l.reserve(tenant('new'), 0.01).ok, false);
    assert.ok(l.reserve(tenant('other'), 0.3).ok, 'each scope has its own default allowance');
    assert.equal(l.reserve(tenant('big'), 0.1).ok, false, 'its own lease wins over the default');
    assert.equal(l.usage(tenant('big')).remoteUSD, 0.5);
    assert.equal(l.usage(tenant('zzz')).remoteUSD, 0, 'a default carries no spend');
  });

  it('leases are per window: one for tomorrow does not cap today', () => {
    const l = new BudgetLedger({ now: () => noon });
    l.absorb([
      { budgetKey: 'ns/p/daily|*', windowStart: '2026-11-23T00:00:00Z', usedUSD: 0, leaseUSD: 0.01 },
    ]);
    assert.ok(l.reserve(daily, 0.5).ok);
    assert.equal(l.usage(daily).leaseRemainingUSD, undefined);
    const tomorrow = Date.parse('2026-11-23T01:00:00Z');
    assert.equal(l.reserve(daily, 0.02, tomorrow).ok, false);
  });

  it('withinLeases(): false while calls admitted under a larger lease run past the current one', () => {
    const l = new BudgetLedger({ now: () => noon });
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0, leaseUSD: 0.5 }]);
    const a = l.reserve(daily, 0.3);
    assert.ok(a.ok);
    assert.equal(l.withinLeases(), true);
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0, leaseUSD: 0.1 }]);
    assert.equal(l.withinLeases(), false, '0.3 in flight over a 0.1 lease');
    a.reservation.settle(0.25);
    assert.equal(l.withinLeases(), true, 'over the lease, but nothing more can come: it binds');
  });

  it('without any lease the ledger behaves as before (local limit and absorbed spend only)', () => {
    const l = new BudgetLedger({ now: () => noon });
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0.5 }]);
    assert.ok(l.reserve(daily, 0.5).ok);
    assert.equal(l.reserve(daily, 0.01).ok, false);
    assert.equal('leaseRemainingUSD' in l.usage(daily), false);
  });
});

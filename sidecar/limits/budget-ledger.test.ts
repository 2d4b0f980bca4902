import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BudgetLedger,
  IN_FLIGHT_RETRY_MS,
  type BudgetReservation,
  type BudgetSpec,
} from './budget-ledger.ts';
import { windowBounds } from './budget-window.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const daily: BudgetSpec = { budgetKey: 'ns/p/daily', limitUSD: 1, window: 'day' };

describe('budget windows (UTC calendar)', () => {
  it('hour and day start at the top of the hour and at 00:00Z', () => {
    const b = windowBounds('hour', at('2026-11-22T13:59:59.999Z'));
    assert.deepEqual([iso(b.start), iso(b.end)], ['2026-11-22T13:00:00.000Z', '2026-11-22T14:00:00.000Z']);
    const d = windowBounds('day', at('2026-12-31T23:30:00Z'));
    assert.deepEqual([iso(d.start), iso(d.end)], ['2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });

  it('months of every length, leap years and the year end', () => {
    const cases: [string, string, string][] = [
      ['2024-02-29T23:59:59.999Z', '2024-02-01', '2024-03-01'], // leap February: 29 days
      ['2025-02-15T00:00:00Z', '2025-02-01', '2025-03-01'], // 28 days
      ['2026-04-30T12:00:00Z', '2026-04-01', '2026-05-01'], // 30 days
      ['2026-01-31T23:59:59.999Z', '2026-01-01', '2026-02-01'], // 31 days
      ['2026-12-31T23:59:59.999Z', '2026-12-01', '2027-01-01'],
      ['2027-01-01T00:00:00Z', '2027-01-01', '2027-02-01'],
    ];
    for (const [now, start, end] of cases) {
      const m = windowBounds('month', at(now));
      assert.deepEqual([iso(m.start), iso(m.end)], [`${start}T00:00:00.000Z`, `${end}T00:00:00.000Z`], now);
    }
  });
});

describe('BudgetLedger', () => {
  const noon = at('2026-11-22T12:00:00Z');

  it('reserves while used + reserved + estimate ≤ limit, else says why and until when', () => {
    const l = new BudgetLedger();
    const a = l.reserve(daily, 0.6, noon);
    assert.ok(a.ok);
    const no = l.reserve(daily, 0.5, noon);
    assert.deepEqual(no, {
      ok: false,
      reason: 'in-flight',
      usedUSD: 0,
      reservedUSD: 0.6,
      limitUSD: 1,
      estimateUSD: 0.5,
      retryAfterMs: IN_FLIGHT_RETRY_MS,
    });
    assert.ok(l.reserve(daily, 0.4, noon).ok, 'exactly the limit fits');
    a.reservation.settle(0.6);
    assert.deepEqual(l.reserve(daily, 0.5, noon), {
      ok: false,
      reason: 'spent',
      usedUSD: 0.6,
      reservedUSD: 0.4,
      limitUSD: 1,
      estimateUSD: 0.5,
      retryAfterMs: 12 * 3_600_000,
    });
  });

  it('tells a refusal caused only by calls in flight (retry in a second) from a spent budget', () => {
    const l = new BudgetLedger();
    const running = l.reserve(daily, 0.7, noon);
    assert.ok(running.ok);
    const soon = l.reserve(daily, 0.5, noon);
    assert.ok(!soon.ok && soon.reason === 'in-flight' && soon.retryAfterMs === 1000);
    running.reservation.settle(0.2); // it cost less than reserved: the refused call now fits
    assert.ok(l.reserve(daily, 0.5, noon).ok);
  });

  it('a single call estimated above the whole limit is told so, whatever else is in flight', () => {
    const l = new BudgetLedger();
    const no = l.reserve(daily, 1.5, noon);
    assert.ok(!no.ok);
    assert.equal(no.reason, 'exceeds-limit');
    assert.equal(no.estimateUSD, 1.5);
  });

  it('20 concurrent reservations against a budget that affords 5: exactly 5 pass', () => {
    const l = new BudgetLedger();
    const spec = { budgetKey: 'k', limitUSD: 0.05, window: 'hour' as const };
    const results = Array.from({ length: 20 }, () => l.reserve(spec, 0.01, noon));
    assert.equal(results.filter((r) => r.ok).length, 5);
  });

  it('settle() moves the reservation to used, recording overruns, never a negative', () => {
    const l = new BudgetLedger();
    const a = l.reserve(daily, 0.1, noon);
    const b = l.reserve(daily, 0.1, noon);
    const c = l.reserve(daily, 0.1, noon);
    assert.ok(a.ok && b.ok && c.ok);
    a.reservation.settle(0.35);
    b.reservation.settle(-5);
    c.reservation.settle(Number.NaN); // cost unknown: the estimate stands
    a.reservation.settle(1);
    a.reservation.release();
    assert.deepEqual(l.usage(daily, noon), {
      windowStart: '2026-11-22T00:00:00.000Z',
      usedUSD: 0.45,
      remoteUSD: 0,
      reservedUSD: 0,
      remainingUSD: 0.55,
    });
  });

  it('release() frees a reservation that was never billed', () => {
    const l = new BudgetLedger();
    const a = l.reserve(daily, 1, noon);
    assert.ok(a.ok);
    assert.equal(l.reserve(daily, 0.01, noon).ok, false);
    a.reservation.release();
    assert.ok(l.reserve(daily, 1, noon).ok);
  });

  it('a call of unknown cost (estimate 0) cannot pass a spent budget', () => {
    const l = new BudgetLedger();
    const a = l.reserve(daily, 1, noon);
    assert.ok(a.ok);
    a.reservation.settle(1);
    assert.equal(l.reserve(daily, 0, noon).ok, false);
  });

  it('adds up many small costs exactly (micro-dollars inside)', () => {
    const l = new BudgetLedger();
    for (let i = 0; i < 1_000; i++) {
      const r = l.reserve(daily, 0.0001, noon);
      assert.ok(r.ok);
      r.reservation.settle(0.0001);
    }
    assert.equal(l.usage(daily, noon).usedUSD, 0.1);
  });

  it('starts over when the UTC window rolls over; in-flight reservations carry over', () => {
    const l = new BudgetLedger();
    const spec: BudgetSpec = { budgetKey: 'm', limitUSD: 10, window: 'month' };
    const spent = l.reserve(spec, 9, at('2025-02-28T23:59:59.999Z'));
    assert.ok(spent.ok);
    spent.reservation.settle(9);
    const inFlight = l.reserve(spec, 1, at('2025-02-28T23:59:59.999Z'));
    assert.ok(inFlight.ok);
    const no = l.reserve(spec, 1, at('2025-02-28T23:59:59.999Z'));
    assert.equal(!no.ok && no.retryAfterMs, 1, 'until 1 March 00:00Z');
    const march = at('2025-03-01T00:00:00Z');
    assert.equal(l.usage(spec, march).usedUSD, 0);
    assert.ok(!l.reserve(spec, 9.5, march).ok, 'the 1 USD still in flight counts');
    assert.ok(l.reserve(spec, 9, march).ok);
    inFlight.reservation.settle(0.5); // a call spanning the boundary is charged to the window it ends in
    assert.equal(l.usage(spec, march).usedUSD, 0.5);
  });

  it('exports its own spend per key and window', () => {
    const l = new BudgetLedger({ now: () => noon });
    const r = l.reserve(daily, 0.25);
    assert.ok(r.ok);
    r.reservation.settle(0.25);
    l.reserve({ ...daily, budgetKey: 'nothing-settled' }, 0.1);
    assert.deepEqual(l.spend(), [
      { budgetKey: 'ns/p/daily', window: 'day', windowStart: '2026-11-22T00:00:00.000Z', usedUSD: 0.25 },
    ]);
  });

  it('absorb(): others’ spend counts against the budget, merged by max, kept for a later window', () => {
    const l = new BudgetLedger({ now: () => noon });
    const r = l.reserve(daily, 0.2);
    assert.ok(r.ok);
    r.reservation.settle(0.2);
    const windowStart = '2026-11-22T00:00:00.000Z';
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: '0.5' }]);
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0.5 }]); // re-delivered: no double count
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 0.3 }]); // stale: ignored
    l.absorb([{ budgetKey: daily.budgetKey, windowStart: 'garbage', usedUSD: 5 }]);
    l.absorb([{ budgetKey: daily.budgetKey, windowStart, usedUSD: 'NaN' }]);
    assert.deepEqual(l.usage(daily), {
      windowStart,
      usedUSD: 0.2,
      remoteUSD: 0.5,
      reservedUSD: 0,
      remainingUSD: 0.3,
    });
    const no = l.reserve(daily, 0.31);
    assert.equal(!no.ok && no.usedUSD, 0.7);
    assert.deepEqual(
      l.spend().map((s) => s.usedUSD),
      [0.2],
      'export is local spend only',
    );
    const tomorrow = at('2026-11-23T06:00:00Z');
    l.absorb([{ budgetKey: daily.budgetKey, windowStart: '2026-11-23T00:00:00Z', usedUSD: 0.9 }]);
    assert.equal(l.usage(daily, tomorrow).remoteUSD, 0.9);
    assert.equal(l.reserve(daily, 0.2, tomorrow).ok, false);
    assert.ok(l.reserve(daily, 0.1, tomorrow).ok);
  });

  it('tracks at most maxKeys budgets', () => {
    const l = new BudgetLedger({ maxKeys: 100, now: () => noon });
    for (let i = 0; i < 1_000; i++) l.reserve({ ...daily, budgetKey: `tenant-${i}` }, 0.01);
    l.absorb(
      Array.from({ length: 1_000 }, (_, i) => ({ budgetKey: `t${i}`, windowStart: iso(noon), usedUSD: 1 })),
    );
    assert.ok(l.spend().length <= 100);
    assert.equal(l.usage({ ...daily, budgetKey: 'tenant-0' }).reservedUSD, 0, 'the oldest was forgotten');
  });

  type Op = { kind: 'reserve'; cents: number } | { kind: 'settle' | 'release'; pick: number; frac: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('reserve' as const), cents: fc.integer({ min: 0, max: 40 }) }),
    fc.record({
      kind: fc.constantFrom('settle' as const, 'release' as const),
      pick: fc.nat(),
      frac: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  );

  it('property: with settle(actual ≤ estimate), used + reserved never exceeds the limit', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 200 }), (ops, limitCents) => {
        const l = new BudgetLedger({ maxKeys: 10 });
        const spec: BudgetSpec = { budgetKey: 'k', limitUSD: limitCents / 100, window: 'day' };
        const open: { r: BudgetReservation; usd: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'reserve') {
            const d = l.reserve(spec, o.cents / 100, noon);
            if (d.ok) open.push({ r: d.reservation, usd: o.cents / 100 });
          } else if (open.length > 0) {
            const [x] = open.splice(o.pick % open.length, 1) as [{ r: BudgetReservation; usd: number }];
            if (o.kind === 'settle') x.r.settle(x.usd * o.frac);
            else x.r.release();
          }
          const u = l.usage(spec, noon);
          assert.ok(u.reservedUSD >= 0);
          assert.ok(u.usedUSD + u.reservedUSD <= spec.limitUSD + 1e-9, JSON.stringify(u));
        }
        for (const x of open) x.r.release();
        assert.equal(l.usage(spec, noon).reservedUSD, 0);
      }),
    );
  });

  it('property: N concurrent reservations of cost c against a limit affording k → min(N, k) pass', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 100_000 }),
        (n, k, microCost) => {
          const l = new BudgetLedger({ maxKeys: 10 });
          const c = microCost / 1_000_000;
          const spec: BudgetSpec = {
            budgetKey: 'k',
            limitUSD: (k * microCost + microCost - 1) / 1_000_000,
            window: 'hour',
          };
          const passed = Array.from({ length: n }, () => l.reserve(spec, c, noon)).filter((d) => d.ok).length;
          assert.equal(passed, Math.min(n, k));
        },
      ),
    );
  });
});

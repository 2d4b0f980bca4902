import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { grantLeases, headroom, type LeaseHolder } from './leases.ts';

const holder = (pod: string, connected: boolean, own = 0, held?: number): LeaseHolder => ({
  pod,
  connected,
  own,
  held,
});

describe('lease math', () => {
  it('splits what is left evenly among connected sidecars', () => {
    const leases = grantLeases(900, 300, [
      holder('a', true, 100, 300),
      holder('b', true, 200, 400),
      holder('c', true, 0, 200),
    ]);
    assert.deepEqual(
      [...leases],
      [
        ['a', 200],
        ['b', 200],
        ['c', 200],
      ],
    );
  });

  it('a spent budget leases nothing; a sidecar that overran does not make it negative', () => {
    assert.deepEqual([...grantLeases(500, 500, [holder('a', true, 500, 500)])], [['a', 0]]);
    assert.deepEqual([...grantLeases(500, 700, [holder('a', true, 700, 500)])], [['a', 0]]);
  });

  it('keeps what a disconnected sidecar may still spend under its last lease out of the others’ shares', () => {
    // b holds a ceiling of 400 and reported 100: it may still spend 300 without hearing from us.
    const leases = grantLeases(1000, 100, [holder('a', true, 0, 600), holder('b', false, 100, 400)]);
    assert.deepEqual([...leases], [['a', 600]]);
  });

  it('reserves an even share for a holder we know nothing of (not yet connected this term)', () => {
    assert.deepEqual(
      [...grantLeases(900, 0, [holder('a', true), holder('b', false), holder('c', false)])],
      [['a', 300]],
    );
    assert.equal(headroom(holder('b', false), 300), 300);
    assert.equal(headroom(holder('b', false, 50, 40), 300), 0, 'overran its ceiling: nothing more');
  });

  it('shrinking leases go out at once; growth waits until what the others may still hold is free', () => {
    // a reported 300 more: the even target is (900 − 300) / 3 = 200 each. b and c may still hold 300
    // each (their last, unacknowledged, lease), so a's growth beyond its own 0 headroom must wait.
    const before = [holder('a', true, 300, 300), holder('b', true, 0, 300), holder('c', true, 0, 300)];
    assert.deepEqual(
      [...grantLeases(900, 300, before)],
      [
        ['a', 0],
        ['b', 200],
        ['c', 200],
      ],
    );
    // b and c acknowledged 200: now a may grow to the even share.
    const after = [holder('a', true, 300, 300), holder('b', true, 0, 200), holder('c', true, 0, 200)];
    assert.deepEqual(
      [...grantLeases(900, 300, after)],
      [
        ['a', 200],
        ['b', 200],
        ['c', 200],
      ],
    );
  });

  it('grants nothing when no holder is connected', () => {
    assert.equal(grantLeases(1000, 0, [holder('a', false)]).size, 0);
    assert.equal(grantLeases(1000, 0, []).size, 0);
  });

  it('property: if what holders may hold fits what is left, it still fits with the new leases', () => {
    const arbHolder = fc.record({
      connected: fc.boolean(),
      own: fc.integer({ min: 0, max: 1_000_000 }),
      held: fc.option(fc.integer({ min: 0, max: 2_000_000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.array(arbHolder, { minLength: 1, maxLength: 20 }),
        (limit, others, hs) => {
          const holders = hs.map((h, i) => ({ pod: `p${i}`, ...h }));
          const total = others + holders.reduce((n, h) => n + h.own, 0);
          const remaining = Math.max(0, limit - total);
          const even = Math.floor(remaining / holders.length);
          const leases = grantLeases(limit, total, holders);
          const before = holders.reduce((n, h) => n + headroom(h, even), 0);
          // After the grant a holder may hold its old lease (event in flight) or its new one.
          const after = holders.reduce((n, h) => n + Math.max(headroom(h, even), leases.get(h.pod) ?? 0), 0);
          return after <= Math.max(before, remaining) && [...leases.values()].every((l) => l >= 0);
        },
      ),
    );
  });
});

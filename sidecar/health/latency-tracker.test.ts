import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyTracker } from './latency-tracker.ts';

/** Seeded PRNG (mulberry32), so draws are reproducible. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const id = (s: string) => s;

describe('LatencyTracker EWMA', () => {
  it('starts at the first sample and moves alpha of the way towards each new one', () => {
    const l = new LatencyTracker();
    l.record('a', { totalMs: 100 });
    assert.equal(l.estimate('a'), 100);
    l.record('a', { totalMs: 200 });
    assert.equal(l.estimate('a'), 130);
    const fast = new LatencyTracker({ alpha: 1 });
    fast.record('a', { totalMs: 100 });
    fast.record('a', { totalMs: 7 });
    assert.equal(fast.estimate('a'), 7);
  });

  it('tracks time to first token separately, for streams', () => {
    const l = new LatencyTracker({ alpha: 0.5 });
    l.record('a', { totalMs: 1_000 });
    assert.equal(l.estimate('a', true), undefined, 'a total time is no TTFT measurement');
    l.record('a', { ttftMs: 100, totalMs: 2_000 });
    l.record('a', { ttftMs: 200, totalMs: 2_000 });
    assert.equal(l.estimate('a', true), 150);
    assert.equal(l.estimate('a'), 1_750);
    assert.equal(l.estimate('unknown'), undefined);
  });

  it('ignores nonsense samples and rejects a bad alpha', () => {
    const l = new LatencyTracker();
    l.record('a', { totalMs: Number.NaN });
    l.record('a', { totalMs: -1 });
    assert.equal(l.estimate('a'), undefined);
    assert.throws(() => new LatencyTracker({ alpha: 0 }), RangeError);
    assert.throws(() => new LatencyTracker({ alpha: 1.5 }), RangeError);
  });

  it('forgets the least recently measured beyond maxKeys', () => {
    const l = new LatencyTracker({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) l.record(`t${i}`, { totalMs: i });
    assert.equal(l.estimate('t0'), undefined);
    assert.equal(l.estimate('t999'), 999);
  });
});

describe('orderByLatency', () => {
  const noExplore = { stream: false, random: () => 0.99 };

  it('orders measured targets fastest first, by TTFT for streams and total otherwise', () => {
    const l = new LatencyTracker();
    l.record('a', { ttftMs: 50, totalMs: 3_000 });
    l.record('b', { ttftMs: 400, totalMs: 1_000 });
    l.record('c', { ttftMs: 100, totalMs: 2_000 });
    assert.deepEqual(l.orderByLatency(['a', 'b', 'c'], id, noExplore), ['b', 'c', 'a']);
    assert.deepEqual(l.orderByLatency(['a', 'b', 'c'], id, { ...noExplore, stream: true }), ['a', 'c', 'b']);
  });

  it('tries unmeasured targets first, in their given order, without drawing', () => {
    const l = new LatencyTracker();
    l.record('b', { totalMs: 10 });
    const random = () => assert.fail('no draw while a target is unmeasured');
    const targets = [{ k: 'a' }, { k: 'b' }, { k: 'c' }];
    assert.deepEqual(
      l.orderByLatency(targets, (t) => t.k, { stream: false, random }).map((t) => t.k),
      ['a', 'c', 'b'],
    );
    assert.deepEqual(l.orderByLatency([], id, noExplore), []);
  });

  it('promotes a random non-best target about `exploration` of the time, uniformly', () => {
    const l = new LatencyTracker();
    ['a', 'b', 'c'].forEach((k, i) => l.record(k, { totalMs: (i + 1) * 100 }));
    const firsts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const random = seeded(42);
    const draws = 10_000;
    for (let i = 0; i < draws; i++) {
      const order = l.orderByLatency(['c', 'b', 'a'], id, { stream: false, random });
      assert.equal(order.length, 3);
      assert.deepEqual([...order].sort(), ['a', 'b', 'c'], 'a permutation');
      firsts[order[0]!]!++;
    }
    const explored = (firsts.b! + firsts.c!) / draws;
    assert.ok(Math.abs(explored - 0.05) < 0.01, `explored ${explored}`);
    assert.ok(Math.abs(firsts.b! / draws - 0.025) < 0.008 && Math.abs(firsts.c! / draws - 0.025) < 0.008);
    const none = l.orderByLatency(['c', 'b', 'a'], id, { stream: false, random, exploration: 0 });
    assert.deepEqual(none, ['a', 'b', 'c']);
  });

  it('is deterministic given random', () => {
    const l = new LatencyTracker();
    ['a', 'b', 'c', 'd'].forEach((k, i) => l.record(k, { totalMs: 100 + i }));
    const run = (seed: number) => {
      const random = seeded(seed);
      return Array.from({ length: 500 }, () =>
        l.orderByLatency(['a', 'b', 'c', 'd'], id, { stream: false, random, exploration: 0.3 }).join(''),
      );
    };
    assert.deepEqual(run(7), run(7));
  });

  it('lets a recovered target win again through exploration', () => {
    const l = new LatencyTracker();
    const actual: Record<string, number> = { a: 300, b: 2_000 };
    l.record('a', { totalMs: actual.a! });
    l.record('b', { totalMs: actual.b! });
    actual.b = 50; // b recovers, but is only measured when explored
    const random = seeded(1);
    let bFirst = 0;
    for (let i = 0; i < 2_000; i++) {
      const [first] = l.orderByLatency(['a', 'b'], id, { stream: false, random });
      l.record(first!, { totalMs: actual[first!]! });
      if (i >= 1_000 && first === 'b') bFirst++;
    }
    assert.ok(bFirst > 900, `b served first ${bFirst} of the last 1000`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { RateLimiter } from './rate-limiter.ts';

function limiter(maxKeys?: number) {
  let t = 1_000;
  const rl = new RateLimiter({ now: () => t, ...(maxKeys !== undefined && { maxKeys }) });
  return { rl, advance: (ms: number) => void (t += ms) };
}

const one = { requests: 1, tokens: 10 };

describe('RateLimiter', () => {
  it('admits a full minute of requests at once, then one per 60000/rpm ms', () => {
    const { rl, advance } = limiter();
    for (let i = 0; i < 60; i++) assert.ok(rl.tryAcquire('policy', { rpm: 60 }, one).ok);
    const no = rl.tryAcquire('policy', { rpm: 60 }, one);
    assert.deepEqual(no, { ok: false, key: 'policy', limit: 'rpm', retryAfterMs: 1_000 });
    advance(999);
    assert.equal(rl.tryAcquire('policy', { rpm: 60 }, one).ok, false);
    advance(1);
    assert.ok(rl.tryAcquire('policy', { rpm: 60 }, one).ok);
    assert.ok(rl.tryAcquire('other', { rpm: 60 }, one).ok, 'keys are independent');
  });

  it('takes requests and tokens together or not at all', () => {
    const { rl } = limiter();
    const limits = { rpm: 10, tpm: 1_000 };
    assert.ok(rl.tryAcquire('k', limits, { tokens: 900 }).ok);
    const no = rl.tryAcquire('k', limits, { tokens: 200 });
    assert.equal(no.ok, false);
    assert.equal(!no.ok && no.limit, 'tpm');
    assert.equal(!no.ok && no.retryAfterMs, 6_000);
    assert.deepEqual(rl.peek('k'), { requests: 9, tokens: 100 }, 'the refused call took no request');
  });

  it('reports the limit that binds longest', () => {
    const { rl } = limiter();
    rl.tryAcquire('k', { rpm: 1, tpm: 100 }, { tokens: 100 });
    const no = rl.tryAcquire('k', { rpm: 1, tpm: 100 }, { tokens: 100 });
    assert.deepEqual(no, { ok: false, key: 'k', limit: 'rpm', retryAfterMs: 60_000 });
  });

  it('settle() corrects by actual − estimate: a refund, or a debt later calls wait out', () => {
    const { rl, advance } = limiter();
    const limits = { tpm: 6_000 };
    const a = rl.tryAcquire('k', limits, { tokens: 1_000 });
    assert.ok(a.ok);
    a.lease.settle(400);
    assert.equal(rl.peek('k')?.tokens, 5_600);
    const b = rl.tryAcquire('k', limits, { tokens: 5_000 });
    assert.ok(b.ok);
    b.lease.settle(8_600); // 3 600 more than estimated
    assert.equal(rl.peek('k')?.tokens, -3_000);
    const no = rl.tryAcquire('k', limits, { tokens: 1_000 });
    assert.equal(!no.ok && no.retryAfterMs, 40_000, '4 000 tokens at 100/s');
    advance(40_000);
    assert.ok(rl.tryAcquire('k', limits, { tokens: 1_000 }).ok);
    b.lease.settle(0);
    b.lease.release();
    assert.equal(rl.peek('k')?.tokens, 0, 'a lease settles once');
  });

  it('release() refunds the request and the estimate, once', () => {
    const { rl } = limiter();
    const d = rl.tryAcquire('k', { rpm: 5, tpm: 500 }, { tokens: 300 });
    assert.ok(d.ok);
    d.lease.release();
    d.lease.release();
    assert.deepEqual(rl.peek('k'), { requests: 5, tokens: 500 });
  });

  it('admits a call larger than the whole limit only on a full bucket', () => {
    const { rl, advance } = limiter();
    assert.ok(rl.tryAcquire('k', { tpm: 1_000 }, { tokens: 5_000 }).ok);
    assert.equal(rl.peek('k')?.tokens, -4_000);
    const no = rl.tryAcquire('k', { tpm: 1_000 }, { tokens: 5_000 });
    assert.equal(!no.ok && no.retryAfterMs, 300_000);
    advance(300_000);
    assert.ok(rl.tryAcquire('k', { tpm: 1_000 }, { tokens: 5_000 }).ok);
  });

  it('never holds more than the limit, however long it idles', () => {
    const { rl, advance } = limiter();
    rl.tryAcquire('k', { rpm: 10, tpm: 1_000 }, one);
    advance(3_600_000);
    assert.deepEqual(rl.peek('k'), { requests: 10, tokens: 1_000 });
    let admitted = 0;
    while (rl.tryAcquire('k', { rpm: 10, tpm: 1_000 }, one).ok) admitted++;
    assert.equal(admitted, 10);
  });

  it('follows limit changes: a new limit starts full, a lowered one caps', () => {
    const { rl } = limiter();
    rl.tryAcquire('k', { rpm: 100 }, one);
    rl.tryAcquire('k', { rpm: 10, tpm: 50 }, one);
    assert.deepEqual(rl.peek('k'), { requests: 9, tokens: 40 });
  });

  it('keeps no state for keys without limits, and bounded state for the rest', () => {
    const { rl } = limiter(1_000);
    assert.ok(rl.tryAcquire('free', {}, one).ok);
    assert.equal(rl.size, 0);
    for (let i = 0; i < 20_000; i++) rl.tryAcquire(`header:x-user-id=u${i}`, { rpm: 1 }, one);
    assert.equal(rl.size, 1_000);
    assert.equal(rl.peek('header:x-user-id=u0'), undefined, 'idle buckets evicted');
  });

  it('tryAcquireAll: every scope or none', () => {
    const { rl } = limiter();
    const scopes = [
      { key: 'policy', limits: { rpm: 100 } },
      { key: 'header:x-user-id=alice', limits: { rpm: 1 } },
    ];
    const ok = rl.tryAcquireAll(scopes, one);
    assert.ok(ok.ok);
    const no = rl.tryAcquireAll(scopes, one);
    assert.equal(!no.ok && no.key, 'header:x-user-id=alice');
    assert.equal(rl.peek('policy')?.requests, 99, 'the policy scope was given back');
    ok.lease.release();
    assert.deepEqual([rl.peek('policy')?.requests, rl.peek('header:x-user-id=alice')?.requests], [100, 1]);
  });

  const op = fc.record({
    // Bursts (0), a trickle, and long idle spells that would overfill an uncapped bucket.
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 180_000 })),
    tokens: fc.integer({ min: 0, max: 1_000 }),
  });

  it('property: admitted tokens in any interval ≤ capacity + rate × its length', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
        const { rl, advance } = limiter(10);
        let t = 0;
        const admitted: { t: number; tokens: number }[] = [];
        for (const o of ops) {
          advance(o.dt);
          t += o.dt;
          if (rl.tryAcquire('k', { rpm: 20, tpm: 1_000 }, { tokens: o.tokens }).ok)
            admitted.push({ t, tokens: o.tokens });
        }
        for (let i = 0; i < admitted.length; i++) {
          let tokens = 0;
          for (let j = i; j < admitted.length; j++) {
            tokens += admitted[j]!.tokens;
            const span = admitted[j]!.t - admitted[i]!.t;
            assert.ok(tokens <= 1_000 + (1_000 * span) / 60_000 + 1e-6, `tokens ${tokens} in ${span} ms`);
            assert.ok(j - i + 1 <= 20 + (20 * span) / 60_000 + 1e-6, `requests ${j - i + 1} in ${span} ms`);
          }
        }
      }),
    );
  });

  it('property: a refusal changes nothing, and waiting retryAfterMs is enough', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), (ops) => {
        const { rl, advance } = limiter(10);
        const limits = { rpm: 10, tpm: 2_000 };
        for (const o of ops) {
          advance(o.dt);
          const before = rl.peek('k');
          const d = rl.tryAcquire('k', limits, { tokens: o.tokens });
          if (d.ok) continue;
          assert.deepEqual(rl.peek('k'), before);
          advance(d.retryAfterMs);
          assert.ok(rl.tryAcquire('k', limits, { tokens: o.tokens }).ok);
        }
      }),
    );
  });
});

describe('ConcurrencyLimiter', () => {
  it('admits up to max per key; leaving twice frees one slot', () => {
    const c = new ConcurrencyLimiter();
    const a = c.tryEnter('openai', 2);
    const b = c.tryEnter('openai', 2);
    assert.ok(a && b);
    assert.equal(c.tryEnter('openai', 2), undefined);
    assert.ok(c.tryEnter('anthropic', 2), 'per key');
    a();
    a();
    assert.equal(c.inFlight('openai'), 1);
    assert.ok(c.tryEnter('openai', 2));
    assert.equal(c.tryEnter('openai', 2), undefined);
  });

  it('forgets a key once nothing is in flight', () => {
    const c = new ConcurrencyLimiter();
    const leaves = Array.from({ length: 1_000 }, (_, i) => c.tryEnter(`k${i}`, 1)!);
    assert.equal(c.size, 1_000);
    for (const leave of leaves) leave();
    assert.equal(c.size, 0);
  });
});

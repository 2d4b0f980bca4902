import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BreakerRegistry } from './breaker-registry.ts';
import { CircuitBreaker, type BreakerStateChange } from './circuit-breaker.ts';

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after consecutiveFailures counted failures in a row; a success resets the count', () => {
    const c = clock();
    const b = new CircuitBreaker({ consecutiveFailures: 3, openForMs: 30_000, now: c.now });
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    assert.equal(b.state, 'closed');
    assert.ok(b.allow());
    assert.equal(b.openUntil, undefined);
    b.failure();
    assert.equal(b.state, 'open');
    assert.equal(b.openUntil, 31_000);
    assert.equal(b.allow(), false);
  });

  it('says how long it stays open on its own clock, for a wall-time message', () => {
    const c = clock(5_000_000);
    const b = new CircuitBreaker({ consecutiveFailures: 1, openForMs: 30_000, now: c.now });
    assert.equal(b.remainingOpenMs, undefined);
    b.failure();
    c.advance(12_000);
    assert.equal(b.remainingOpenMs, 18_000);
    c.advance(20_000);
    assert.equal(b.remainingOpenMs, 0, 'due for a probe, not yet asked');
  });

  it('refuses until openForMs has passed, then lets exactly one probe through', () => {
    const c = clock();
    const b = new CircuitBreaker({ consecutiveFailures: 1, openForMs: 30_000, now: c.now });
    b.failure();
    c.advance(29_999);
    assert.equal(b.allow(), false);
    c.advance(1);
    assert.equal(b.state, 'half-open', 'reads half-open once the time is up, before any probe');
    assert.equal(b.allow(), true, 'the probe');
    for (let i = 0; i < 10; i++) assert.equal(b.allow(), false, 'no second probe while one is in flight');
    assert.equal(b.state, 'half-open');
    b.success();
    assert.equal(b.state, 'closed');
    for (let i = 0; i < 10; i++) assert.ok(b.allow());
  });

  it('a failed probe re-opens for a full openForMs', () => {
    const c = clock();
    const b = new CircuitBreaker({ consecutiveFailures: 5, openForMs: 10_000, now: c.now });
    for (let i = 0; i < 5; i++) b.failure();
    c.advance(10_000);
    assert.ok(b.allow());
    c.advance(2_000);
    b.failure();
    assert.equal(b.state, 'open');
    assert.equal(b.openUntil, c.now() + 10_000);
    c.advance(9_999);
    assert.equal(b.allow(), false);
    c.advance(1);
    assert.ok(b.allow());
  });

  it('abandon() frees the probe slot; an unanswered probe times out after probeTimeoutMs', () => {
    const c = clock();
    const b = new CircuitBreaker({
      consecutiveFailures: 1,
      openForMs: 1_000,
      probeTimeoutMs: 5_000,
      now: c.now,
    });
    b.failure();
    c.advance(1_000);
    assert.ok(b.allow());
    b.abandon();
    assert.ok(b.allow(), 'abandoned probe: next caller probes');
    c.advance(4_999);
    assert.equal(b.allow(), false);
    c.advance(1);
    assert.ok(b.allow(), 'lost probe: another is let through after probeTimeoutMs');
  });

  it('ignores late reports while open', () => {
    const c = clock();
    const b = new CircuitBreaker({ consecutiveFailures: 1, openForMs: 1_000, now: c.now });
    b.failure();
    b.success();
    assert.equal(b.state, 'open', 'a success from a call admitted before the trip does not close it');
    const until = b.openUntil;
    b.failure();
    assert.equal(b.openUntil, until, 'nor does a late failure extend it');
  });

  it('reports every transition to onStateChange', () => {
    const c = clock();
    const seen: BreakerStateChange[] = [];
    const b = new CircuitBreaker({
      consecutiveFailures: 1,
      openForMs: 100,
      now: c.now,
      onStateChange: (s) => seen.push(s),
    });
    b.failure();
    c.advance(100);
    b.allow();
    b.failure();
    c.advance(100);
    b.allow();
    b.success();
    assert.deepEqual(
      seen.map((s) => `${s.from}>${s.to}@${s.at}`),
      [
        'closed>open@1000',
        'open>half-open@1100',
        'half-open>open@1100',
        'open>half-open@1200',
        'half-open>closed@1200',
      ],
    );
  });

  it('property: never more than one probe in flight while not closed', () => {
    type Op = { op: 'advance'; ms: number } | { op: 'allow' | 'success' | 'failure' | 'abandon' };
    const op = fc.oneof(
      fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
      fc.record({
        op: fc.constantFrom('allow' as const, 'success' as const, 'failure' as const, 'abandon' as const),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
        const c = clock();
        const b = new CircuitBreaker({
          consecutiveFailures: 2,
          openForMs: 1_000,
          probeTimeoutMs: 2_000,
          now: c.now,
        });
        let probeAt: number | undefined;
        for (const o of ops) {
          if (o.op === 'advance') c.advance(o.ms);
          else if (o.op !== 'allow') {
            b[o.op]();
            probeAt = undefined;
          } else {
            const before = b.state;
            const allowed = b.allow();
            if (before === 'open') assert.equal(allowed, false);
            if (before === 'closed') assert.equal(allowed, true);
            if (before === 'half-open' && allowed) {
              assert.ok(probeAt === undefined || c.now() - probeAt >= 2_000, 'second concurrent probe');
              probeAt = c.now();
            }
          }
        }
      }),
    );
  });
});

describe('BreakerRegistry', () => {
  const settings = { consecutiveFailures: 1, openForMs: 1_000 };

  it('keeps one breaker per provider + endpoint while its settings are unchanged', () => {
    const r = new BreakerRegistry();
    const b = r.get('openai', 'https://api.openai.com/v1', settings);
    b.failure();
    assert.equal(
      r.get('openai', 'https://api.openai.com/v1', { ...settings }),
      b,
      'a reload keeps the state',
    );
    assert.notEqual(r.get('openai', 'https://eu.api.openai.com/v1', settings), b, 'per endpoint');
    const fresh = r.get('openai', 'https://api.openai.com/v1', { ...settings, openForMs: 2_000 });
    assert.notEqual(fresh, b, 'changed settings give a fresh breaker');
    assert.equal(fresh.state, 'closed');
    assert.equal(r.get('mock', undefined, settings), r.get('mock', '', settings));
  });

  it('retain() drops upstreams no longer in the snapshot; report() lists states', () => {
    const c = clock();
    const changes: string[] = [];
    const r = new BreakerRegistry({
      now: c.now,
      onStateChange: (id, s) => changes.push(`${id.provider}:${s.to}`),
    });
    r.get('a', 'x', settings).failure();
    r.get('b', 'y', settings);
    assert.deepEqual(changes, ['a:open']);
    assert.deepEqual(r.report(), [
      { provider: 'a', endpoint: 'x', state: 'open', openUntil: 2_000 },
      { provider: 'b', endpoint: 'y', state: 'closed', openUntil: undefined },
    ]);
    r.retain([{ provider: 'b', endpoint: 'y' }]);
    assert.equal(r.size, 1);
    assert.deepEqual(
      r.report().map((x) => x.provider),
      ['b'],
    );
  });
});

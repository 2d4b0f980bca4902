import assert from 'node:assert/strict';
import { it } from 'node:test';
import { failoverDecision } from './testing/decisions.ts';
import { LiveStats, renderLive } from './live-view.ts';

it('aggregates per-provider attempts, errors, latency and spend, and renders them with recent decisions', () => {
  let now = 1_000_000;
  const live = new LiveStats(() => now);
  assert.match(renderLive(live.frame()), /\(no calls yet\)/);
  for (let i = 0; i < 4; i++) {
    live.add(failoverDecision(), `line ${i}`);
    now += 1000;
  }
  live.add(
    failoverDecision({ status: 502, errorCode: 'upstream_unavailable', costUSD: undefined, attempts: [] }),
    'line 4',
  );
  const f = live.frame();
  assert.equal(f.calls, 5);
  assert.equal(f.failedCalls, 1);
  const [primary, secondary] = f.providers;
  assert.deepEqual([primary?.[0], primary?.[1].attempts, primary?.[1].errors], ['primary', 4, 4]);
  assert.deepEqual([secondary?.[0], secondary?.[1].attempts, secondary?.[1].errors], ['secondary', 4, 0]);
  assert.ok(Math.abs((secondary?.[1].spendUSD ?? 0) - 0.00002) < 1e-12);
  const text = renderLive(f);
  assert.match(text, /5 calls \(1 failed, 0 cached\)/);
  assert.match(text, /^primary\s+4\s+4\s+100\.0%\s+13\s+13\s+-\s+0\.000000$/m);
  assert.match(text, /^secondary\s+4\s+0\s+0\.0%\s+40\s+40\s+8\.00\s+0\.000020$/m);
  assert.match(text, /recent decisions\nline 0\n.*\nline 4/s);
});

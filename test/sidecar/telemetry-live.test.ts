// `turnout dev --live`: the live view shows calls, per-provider latency and error rate, and spend as
// calls happen; /metrics carries the GenAI and turnout series for the same calls.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { chat, harness, type Harness } from './harness.ts';
import { policyYaml, providersYaml } from './manifests.ts';
import { configDir, startTurnout } from '../helpers/turnout-process.ts';

let h: Harness;
before(async () => {
  h = await harness();
});
after(() => h.close());

it('turnout dev --live redraws per-provider attempts, errors, latency and spend, with recent decisions', async () => {
  const dir = await configDir({
    'p.yaml': providersYaml(h.primary.url, h.secondary.url),
    'r.yaml': policyYaml(),
  });
  const t = await startTurnout([
    'dev',
    '--config',
    dir.dir,
    '--listen',
    '127.0.0.1:0',
    '--live',
    '--metrics-listen',
    '127.0.0.1:0',
  ]);
  try {
    await t.waitForLine(/loaded snapshot/);
    await t.waitForLine(/\(no calls yet\)/);
    h.primary.onNext({ kind: 'status', status: 503 });
    assert.equal((await chat(t.url)).status, 200); // failover to the secondary
    assert.equal((await chat(t.url)).status, 200);
    await t.waitForLine(/turnout dev · live · snapshot sha256:\S+ · 2 calls \(0 failed, 0 cached\)/);
    const primary = await t.waitForLine(/^primary\s+2\s+1\s+50\.0%/);
    assert.match(primary, /\d+\.\d{6}$/, 'spend column');
    await t.waitForLine(/^secondary\s+1\s+0\s+0\.0%/);
    await t.waitForLine(/primary\/gpt-4o ✗503 → secondary\/backup-model ✓200/);
    const metricsUrl = /metrics on (http:\/\/\S+)/.exec(await t.waitForLine(/metrics on/))?.[1] ?? '';
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    assert.match(
      metrics,
      /gen_ai_client_operation_duration_seconds_count\{[^}]*turnout_provider="primary"[^}]*error_type="server-error"\} 1/,
    );
    assert.match(metrics, /turnout_failovers_total\{[^}]*failure_class="server-error"\} 1/);
    assert.match(metrics, /turnout_snapshot_info\{namespace="t",version="sha256:/);
  } finally {
    await t.stop();
    await dir.remove();
  }
});

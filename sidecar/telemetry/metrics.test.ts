// What /metrics shows after calls: GenAI client metrics per attempt, turnout per-call series, and the
// scrape-time gauges over breakers, budgets, snapshot and sync.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../api/index.ts';
import { SidecarMetrics } from '../metrics.ts';
import { createSidecarState } from '../runtime-state.ts';
import { SnapshotStore } from '../snapshot/store.ts';
import { failoverDecision } from './testing/decisions.ts';

const snapshot = {
  schema: 1,
  version: 'sha256:v1',
  namespace: 't',
  credentials: {},
  providers: [
    {
      name: 'primary',
      type: 'openai',
      simulated: false,
      endpoint: 'http://127.0.0.1:1',
      models: [{ name: 'gpt-4o', capabilities: ['chat'] }],
      tags: {},
      limits: {},
      timeouts: { connectMs: 1000, firstTokenMs: 1000, idleMs: 1000, totalMs: 1000 },
      circuitBreaker: { consecutiveFailures: 1, openForMs: 60_000 },
    },
    {
      name: 'secondary',
      type: 'openai-compatible',
      simulated: false,
      endpoint: 'http://127.0.0.1:2',
      models: [{ name: 'backup-model', capabilities: ['chat'] }],
      tags: {},
      limits: {},
      timeouts: { connectMs: 1000, firstTokenMs: 1000, idleMs: 1000, totalMs: 1000 },
      circuitBreaker: { consecutiveFailures: 5, openForMs: 60_000 },
    },
  ],
  policies: [
    {
      name: 'app',
      namespace: 't',
      generation: 1,
      selector: {},
      routes: [],
      budgets: [
        { name: 'daily', limitUSD: 10, window: 'day', scope: 'policy', action: 'reject' },
        { name: 'tenant', limitUSD: 1, window: 'day', scope: 'header:x-tenant', action: 'reject' },
      ],
      rateLimits: [],
    },
  ],
} as unknown as Snapshot;

function setup() {
  const metrics = new SidecarMetrics();
  const store = new SnapshotStore();
  const state = createSidecarState();
  metrics.track(store, state);
  store.load(snapshot);
  return { metrics, store, state, text: () => metrics.registry.metrics() };
}

const line = (text: string, re: RegExp) => text.split('\n').find((l) => re.test(l));

describe('sidecar metrics', () => {
  it('per call: requests by outcome, GenAI token usage and duration per attempt, time to first chunk, failovers, cost', async () => {
    const { metrics, text } = setup();
    metrics.observe(failoverDecision());
    metrics.observe(failoverDecision({ cacheHit: true, attempts: [], costUSD: 0, ttftMs: undefined }));
    const t = await text();
    assert.match(
      t,
      /turnout_requests_total\{policy="app",route="smart",provider="secondary",model="backup-model",status="200",outcome="ok"\} 1/,
    );
    assert.match(t, /turnout_requests_total\{[^}]*outcome="cache_hit"\} 1/);
    assert.match(
      t,
      /gen_ai_client_token_usage_sum\{gen_ai_operation_name="chat",gen_ai_provider_name="openai_compatible",gen_ai_request_model="backup-model",turnout_provider="secondary",gen_ai_response_model="backup-model",gen_ai_token_type="output"\} 20/,
    );
    assert.match(
      t,
      /gen_ai_client_operation_duration_seconds_count\{[^}]*gen_ai_provider_name="openai"[^}]*error_type="server-error"\} 1/,
    );
    assert.match(
      t,
      /gen_ai_client_operation_time_to_first_chunk_seconds_sum\{[^}]*turnout_provider="secondary"\} 0\.008/,
    );
    assert.match(t, /turnout_time_to_first_chunk_seconds_count\{policy="app",route="smart"\} 1/);
    assert.match(
      t,
      /turnout_failovers_total\{policy="app",route="smart",provider="primary",model="gpt-4o",failure_class="server-error"\} 1/,
    );
    assert.match(
      t,
      /turnout_candidates_skipped_total\{[^}]*provider="tertiary"[^}]*reason="breaker-open"\} 2/,
    );
    assert.match(
      t,
      /turnout_cost_usd_total\{policy="app",route="smart",provider="secondary",model="backup-model"\} 0\.000005/,
    );
  });

  it('at scrape time: breaker state per provider, budgets used/remaining/limit, snapshot and sync state', async () => {
    const { metrics, state, text } = setup();
    const breaker = state.breakers.get('primary', 'http://127.0.0.1:1', {
      consecutiveFailures: 1,
      openForMs: 60_000,
      probeTimeoutMs: 1000,
    });
    breaker.allow();
    breaker.failure();
    const r = state.ledger.reserve(
      { budgetKey: 't/app/tenant|header:x-tenant=acme', limitUSD: 1, window: 'day' },
      0.25,
    );
    assert.ok(r.ok);
    if (r.ok) r.reservation.settle(0.25);
    metrics.trackSync({ status: { connected: true, revision: 7 } });
    metrics.syncEvent('sync.loaded');
    const t = await text();
    assert.match(t, /turnout_circuit_breaker_state\{provider="primary",state="open"\} 1/);
    assert.match(t, /turnout_circuit_breaker_state\{provider="primary",state="closed"\} 0/);
    assert.match(
      t,
      /turnout_budget_used_usd\{policy="app",budget="tenant",scope="header:x-tenant=acme",window="day"\} 0\.25/,
    );
    assert.match(
      t,
      /turnout_budget_remaining_usd\{policy="app",budget="tenant",scope="header:x-tenant=acme",window="day"\} 0\.75/,
    );
    assert.match(
      t,
      /turnout_budget_remaining_usd\{policy="app",budget="daily",scope="policy",window="day"\} 10/,
    );
    assert.match(t, /turnout_budget_limit_usd\{policy="app",budget="daily",scope="policy",window="day"\} 10/);
    assert.match(t, /turnout_snapshot_info\{namespace="t",version="sha256:v1"\} 1/);
    assert.ok(line(t, /^turnout_snapshot_loads_total 1$/));
    assert.ok(line(t, /^turnout_sync_connected 1$/));
    assert.ok(line(t, /^turnout_sync_revision 7$/));
    assert.match(t, /turnout_sync_events_total\{event="loaded"\} 1/);
  });
});

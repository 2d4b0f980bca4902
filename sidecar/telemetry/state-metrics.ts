// Gauges read at scrape time from the sidecar's live state, never copied on the request path: circuit
// breakers, budgets (used, remaining, limit), the snapshot served, and the sync connection to the
// operator. Cardinality stays bounded: one series per provider, per budget scope (capped), per snapshot.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SidecarState } from '../runtime-state.ts';
import type { RuntimeSnapshot } from '../snapshot/runtime.ts';
import type { SnapshotStore } from '../snapshot/store.ts';
import { SecretRedactor } from './redact.ts';
import { scopeLabel } from './scope-label.ts';

/** Header-scoped budgets (per tenant, per user) could have many scopes: report this many per budget. */
export const MAX_BUDGET_SCOPES = 50;
const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

export interface SyncStatusSource {
  readonly status: { connected: boolean; revision: number };
}

export class StateMetrics {
  #store: SnapshotStore | undefined;
  #state: SidecarState | undefined;
  #sync: SyncStatusSource | undefined;
  /** Scrubs scope labels of the snapshot's keys and key shapes (scope-label.ts); follows the store. */
  readonly #redactor = new SecretRedactor();
  readonly #loads: Counter;
  readonly #loadedAt: Gauge;
  readonly #syncEvents: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client binds `this` in collect() to the metric
    const self = this;
    new Gauge({
      name: 'turnout_circuit_breaker_state',
      help: 'Circuit breaker state per provider: 1 on the current state (closed, open, half-open), 0 on the others',
      labelNames: ['provider', 'state'],
      registers,
      collect() {
        this.reset();
        for (const b of self.#state?.breakers.report() ?? [])
          for (const state of BREAKER_STATES)
            this.set({ provider: b.provider, state }, b.state === state ? 1 : 0);
      },
    });
    const budgetLabels = ['policy', 'budget', 'scope', 'window'];
    // One collect fills all three, so a scrape sees them at the same instant; it belongs to the one
    // registered first (a scrape reads metrics in registration order).
    const remaining = new Gauge({
      name: 'turnout_budget_remaining_usd',
      help: 'What the budget still allows in the current window (reservations in flight deducted)',
      labelNames: budgetLabels,
      registers: [],
    });
    const limit = new Gauge({
      name: 'turnout_budget_limit_usd',
      help: 'The budget per window',
      labelNames: budgetLabels,
      registers: [],
    });
    new Gauge({
      name: 'turnout_budget_used_usd',
      help: 'Spend in the current window (this sidecar and, with fleet budgets, the rest of the fleet)',
      labelNames: budgetLabels,
      registers,
      collect() {
        self.#collectBudgets(this, remaining, limit);
      },
    });
    registry.registerMetric(remaining);
    registry.registerMetric(limit);
    new Gauge({
      name: 'turnout_snapshot_info',
      help: 'The routing snapshot served: 1, labelled with its version and namespace',
      labelNames: ['namespace', 'version'],
      registers,
      collect() {
        this.reset();
        const current = self.#store?.current;
        if (current) this.set({ namespace: current.namespace, version: current.version }, 1);
      },
    });
    this.#loads = new Counter({
      name: 'turnout_snapshot_loads_total',
      help: 'Snapshots loaded (dev-mode reloads, operator pushes, restores from disk)',
      registers,
    });
    this.#loadedAt = new Gauge({
      name: 'turnout_snapshot_loaded_timestamp_seconds',
      help: 'When the served snapshot was loaded (Unix time)',
      registers,
    });
    new Gauge({
      name: 'turnout_sync_connected',
      help: '1 while the sync stream to the operator is up (absent in dev mode)',
      registers,
      collect() {
        this.reset();
        if (self.#sync) this.set(self.#sync.status.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'turnout_sync_revision',
      help: 'Revision of the last snapshot received from the operator',
      registers,
      collect() {
        this.reset();
        if (self.#sync) this.set(self.#sync.status.revision);
      },
    });
    this.#syncEvents = new Counter({
      name: 'turnout_sync_events_total',
      help: 'Sync client events (connected, disconnected, loaded, rejected, restored, ack_failed, …)',
      labelNames: ['event'],
      registers,
    });
  }

  track(store: SnapshotStore, state: SidecarState): void {
    this.#store = store;
    this.#state = state;
    if (store.current) this.#loaded(store.current);
    store.onLoad((runtime) => this.#loaded(runtime));
  }

  trackSync(sync: SyncStatusSource): void {
    this.#sync = sync;
  }

  /** Counts a sync log event ("sync.connected" → connected). */
  syncEvent(event: string): void {
    this.#syncEvents.inc({ event: event.replace(/^sync\./, '') });
  }

  #loaded(runtime: RuntimeSnapshot): void {
    this.#redactor.update(runtime);
    this.#loads.inc();
    this.#loadedAt.set(Date.now() / 1000);
  }

  #collectBudgets(used: Gauge, remaining: Gauge, limit: Gauge): void {
    for (const g of [used, remaining, limit]) g.reset();
    const runtime = this.#store?.current;
    const ledger = this.#state?.ledger;
    if (!runtime || !ledger) return;
    const spent = ledger.spend();
    for (const policy of runtime.policies) {
      for (const b of policy.budgets) {
        const prefix = `${policy.namespace}/${policy.name}/${b.name}|`;
        const scopes = new Set(b.scope === 'policy' ? ['policy'] : []);
        for (const s of spent) {
          if (scopes.size >= MAX_BUDGET_SCOPES) break;
          if (s.budgetKey.startsWith(prefix)) scopes.add(s.budgetKey.slice(prefix.length));
        }
        for (const scope of scopes) {
          const u = ledger.usage({ budgetKey: prefix + scope, limitUSD: b.limitUSD, window: b.window });
          const labels = {
            policy: policy.name,
            budget: b.name,
            scope: scopeLabel(scope, this.#redactor),
            window: b.window,
          };
          used.set(labels, u.usedUSD + u.remoteUSD);
          remaining.set(labels, u.remainingUSD);
          limit.set(labels, b.limitUSD);
        }
      }
    }
  }
}

// Prometheus metrics on a private registry (never the global one, so embedding code cannot collide).
// Per-call series are observed once per decision; state gauges (breakers, budgets, snapshot, sync) are
// read at scrape time. Their definitions live in telemetry/.
import type { ServerResponse } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { SidecarState } from './runtime-state.ts';
import type { SnapshotStore } from './snapshot/store.ts';
import { CallMetrics } from './telemetry/call-metrics.ts';
import { FastCounter, FastHistogram } from './telemetry/fast-metrics.ts';
import { outcomeOf } from './telemetry/outcome.ts';
import { StateMetrics, type SyncStatusSource } from './telemetry/state-metrics.ts';
import type { Decision } from './upstream/call.ts';

/** A registry that first lets observations still queued land (see {@link SidecarMetrics.settleBeforeRead}). */
class SettlingRegistry extends Registry {
  beforeRead: (() => void) | undefined;

  override metrics(): Promise<string> {
    this.beforeRead?.();
    return super.metrics();
  }

  override getMetricsAsJSON(): ReturnType<Registry['getMetricsAsJSON']> {
    this.beforeRead?.();
    return super.getMetricsAsJSON();
  }
}

export class SidecarMetrics {
  readonly registry: Registry = new SettlingRegistry();
  readonly #requests = new FastCounter({
    name: 'turnout_requests_total',
    help: 'Answered calls by policy, route, provider, model, HTTP status and outcome (ok, cache_hit, an error code, …); calls refused before routing have an empty route',
    labelNames: ['policy', 'route', 'provider', 'model', 'status', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #attempts = new FastCounter({
    name: 'turnout_upstream_attempts_total',
    help: 'Upstream attempts by provider, model and outcome (ok or failure class)',
    labelNames: ['provider', 'model', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #duration = new FastHistogram({
    name: 'turnout_request_duration_seconds',
    help: 'Time from request to routing outcome (to the end of the body for non-streaming calls)',
    labelNames: ['policy', 'route'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly #calls = new CallMetrics(this.registry);
  readonly #state = new StateMetrics(this.registry);
  #store: SnapshotStore | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Scrape-time gauges over this sidecar's snapshot store and state (breakers, budgets). */
  track(store: SnapshotStore, state: SidecarState): void {
    this.#store = store;
    this.#state.track(store, state);
  }

  /** The sync client's connection and revision, and a counter of its events (`turnout sidecar`). */
  trackSync(sync: SyncStatusSource): void {
    this.#state.trackSync(sync);
  }

  syncEvent(event: string): void {
    this.#state.syncEvent(event);
  }

  /** Every read of the registry (a scrape included) calls `flush` first: calls observed later (queued) count. */
  settleBeforeRead(flush: () => void): void {
    (this.registry as SettlingRegistry).beforeRead = flush;
  }

  observe(d: Decision): void {
    // Label values in each metric's labelNames order.
    this.#requests.inc([d.policy, d.route, d.provider ?? '', d.model ?? '', String(d.status), outcomeOf(d)]);
    for (const a of d.attempts) this.#attempts.inc([a.provider, a.model, a.outcome]);
    this.#duration.observe([d.policy, d.route], d.latencyMs / 1000);
    this.#calls.observe(d, this.#store?.current);
  }

  /**
   * A call refused before routing: counted in turnout_requests_total with empty policy, route, provider
   * and model, its status and its error code as outcome — a bounded set, never the caller's model name.
   * Its latency is not observed (it is measured only when tracing is on).
   */
  observeRefusal(d: Decision): void {
    this.#requests.inc(['', '', '', '', String(d.status), outcomeOf(d)]);
  }

  async serve(res: ServerResponse): Promise<void> {
    const text = await this.registry.metrics();
    res.writeHead(200, { 'content-type': this.registry.contentType });
    res.end(text);
  }
}

// Prometheus metrics on a private registry (never the global one, so embedding code cannot collide).
import type { ServerResponse } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from './upstream/call.ts';

export class SidecarMetrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: 'turnout_requests_total',
    help: 'Routed requests by route, provider, model and HTTP status',
    labelNames: ['route', 'provider', 'model', 'status'] as const,
    registers: [this.registry],
  });
  readonly #attempts = new Counter({
    name: 'turnout_upstream_attempts_total',
    help: 'Upstream attempts by provider, model and outcome (ok or failure class)',
    labelNames: ['provider', 'model', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'turnout_request_duration_seconds',
    help: 'Time from request to routing outcome (to the end of the body for non-streaming calls)',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observe(d: Decision): void {
    this.#requests.inc({
      route: d.route,
      provider: d.provider ?? '',
      model: d.model ?? '',
      status: String(d.status),
    });
    for (const a of d.attempts)
      this.#attempts.inc({ provider: a.provider, model: a.model, outcome: a.outcome });
    this.#duration.observe({ route: d.route }, d.latencyMs / 1000);
  }

  async serve(res: ServerResponse): Promise<void> {
    const text = await this.registry.metrics();
    res.writeHead(200, { 'content-type': this.registry.contentType });
    res.end(text);
  }
}

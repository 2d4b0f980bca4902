// The live view of `turnout dev --live`: calls, per-provider latency and error rate, and spend, updated
// as decisions arrive. LiveStats aggregates (bounded memory: a ring of recent latencies per provider),
// renderLive draws one frame as plain text; the CLI decides how to put it on the terminal.
import type { Decision } from '../upstream/call.ts';
import { failed } from './outcome.ts';

const SAMPLES = 256;
const RECENT = 12;
const RATE_WINDOW_MS = 10_000;

interface ProviderStats {
  attempts: number;
  errors: number;
  spendUSD: number;
  latencies: number[];
  ttfts: number[];
}

export interface LiveFrame {
  snapshot: string | undefined;
  calls: number;
  failedCalls: number;
  cacheHits: number;
  spendUSD: number;
  ratePerSecond: number;
  providers: [string, ProviderStats][];
  recent: string[];
}

function push(ring: number[], v: number): void {
  if (ring.length >= SAMPLES) ring.shift();
  ring.push(v);
}

export class LiveStats {
  #calls = 0;
  #failed = 0;
  #cacheHits = 0;
  #spend = 0;
  #snapshot: string | undefined;
  #arrivals: number[] = [];
  #providers = new Map<string, ProviderStats>();
  #recent: string[] = [];
  #version = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Changes with every decision: the CLI redraws only when it moved. */
  get version(): number {
    return this.#version;
  }

  add(d: Decision, line: string): void {
    this.#version++;
    this.#calls++;
    if (d.snapshot) this.#snapshot = d.snapshot; // a call refused before any snapshot loaded has none
    if (failed(d)) this.#failed++;
    if (d.cacheHit) this.#cacheHits++;
    this.#spend += d.costUSD ?? 0;
    const now = this.#now();
    this.#arrivals.push(now);
    while ((this.#arrivals[0] ?? now) < now - RATE_WINDOW_MS) this.#arrivals.shift();
    let attributed = 0;
    for (const a of d.attempts) {
      const p = this.#provider(a.provider);
      p.attempts++;
      if (a.outcome !== 'ok' && a.outcome !== 'rejected') p.errors++;
      push(p.latencies, a.ms);
      if (a.ttftMs !== undefined) push(p.ttfts, a.ttftMs);
      p.spendUSD += a.costUSD ?? 0;
      attributed += a.costUSD ?? 0;
    }
    const rest = (d.costUSD ?? 0) - attributed;
    if (rest > 1e-12 && d.provider) this.#provider(d.provider).spendUSD += rest;
    this.#recent.push(line);
    if (this.#recent.length > RECENT) this.#recent.shift();
  }

  frame(): LiveFrame {
    const now = this.#now();
    const inWindow = this.#arrivals.filter((t) => t >= now - RATE_WINDOW_MS).length;
    return {
      snapshot: this.#snapshot,
      calls: this.#calls,
      failedCalls: this.#failed,
      cacheHits: this.#cacheHits,
      spendUSD: this.#spend,
      ratePerSecond: inWindow / (RATE_WINDOW_MS / 1000),
      providers: [...this.#providers].sort(([a], [b]) => (a < b ? -1 : 1)),
      recent: [...this.#recent],
    };
  }

  #provider(name: string): ProviderStats {
    let p = this.#providers.get(name);
    if (!p)
      this.#providers.set(name, (p = { attempts: 0, errors: 0, spendUSD: 0, latencies: [], ttfts: [] }));
    return p;
  }
}

function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const ms = (v: number | undefined) => (v === undefined ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** One frame of the live view as lines of plain text. */
export function renderLive(f: LiveFrame): string {
  const header =
    `turnout dev · live · snapshot ${f.snapshot?.slice(0, 19) ?? '(none)'} · ${f.calls} calls` +
    ` (${f.failedCalls} failed, ${f.cacheHits} cached) · ${f.ratePerSecond.toFixed(1)} req/s · $${f.spendUSD.toFixed(6)} spent`;
  const cols = ['provider', 'attempts', 'errors', 'err%', 'p50 ms', 'p95 ms', 'ttft p50', 'spend $'];
  const rows = f.providers.map(([name, p]) => [
    name,
    String(p.attempts),
    String(p.errors),
    `${p.attempts === 0 ? '0.0' : ((100 * p.errors) / p.attempts).toFixed(1)}%`,
    ms(quantile(p.latencies, 0.5)),
    ms(quantile(p.latencies, 0.95)),
    ms(quantile(p.ttfts, 0.5)),
    p.spendUSD.toFixed(6),
  ]);
  const width = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? pad(c, width[i] ?? 0) : lpad(c, width[i] ?? 0))).join('  ');
  return [
    header,
    '',
    line(cols),
    ...(rows.length > 0 ? rows.map(line) : ['(no calls yet)']),
    '',
    'recent decisions',
    ...(f.recent.length > 0 ? f.recent : ['(none yet)']),
  ].join('\n');
}

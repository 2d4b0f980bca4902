// What every benchmark suite provides: a run that returns a JSON-able result, the markdown section for
// RESULTS.md, and the targets it is judged against (the pass/fail column; never a test assertion).

export interface BenchConfig {
  /** Requests per round for closed-loop latency suites (BENCH_REQUESTS). */
  requests: number;
  /** Streams per round for stream-ttft (BENCH_STREAM_REQUESTS). */
  streamRequests: number;
  /** Interleaved rounds whose medians are reported (BENCH_ROUNDS). */
  rounds: number;
  /** Open-loop duration for sidecar-rss (BENCH_LOAD_SECONDS). */
  loadSeconds: number;
  /** Open-loop rate for sidecar-rss (BENCH_RPS). */
  rps: number;
  /** Requests (or streams) each path serves before the closed-loop latency suites time anything (BENCH_WARMUP). */
  warmup: number;
}

export interface Check {
  metric: string;
  value: string;
  target: string;
  pass: boolean;
}

export interface Suite<R> {
  name: string;
  /** Section heading in RESULTS.md, e.g. "Sidecar overhead (issues #2, #3)". */
  title: string;
  /** Runs only when named in BENCH_ONLY (slow, or installs third-party software); its section still renders. */
  optIn?: boolean;
  run(cfg: BenchConfig): Promise<R>;
  markdown(r: R): string;
  checks(r: R): Check[];
}

/** A suite with its result type erased, so suites of different result types share one list. */
export interface AnySuite {
  name: string;
  title: string;
  optIn?: boolean;
  run(cfg: BenchConfig): Promise<unknown>;
  markdown(r: unknown): string;
  checks(r: unknown): Check[];
}

/**
 * What a closed-loop latency suite did before its timed rounds, for its section; nothing for results
 * recorded before the warm-up was counted.
 */
export function warmedNote(warmup: number | undefined, what: 'requests' | 'streams'): string {
  if (warmup === undefined) return '';
  return ` Before the timed rounds each path served ${warmup.toLocaleString('en')} ${what}, 8 at a time: V8 optimises a function with TurboFan only after ~3,000 calls, and a proxy's request path runs once per call, so a shorter warm-up would time how fast each proxy's JIT warms up rather than the proxy.`;
}

/** Results read back from bench/out are trusted to be what this suite wrote (same `format`). */
export function defineSuite<R>(s: Suite<R>): AnySuite {
  return {
    name: s.name,
    title: s.title,
    ...(s.optIn === true && { optIn: true }),
    run: (cfg) => s.run(cfg),
    markdown: (r) => s.markdown(r as R),
    checks: (r) => s.checks(r as R),
  };
}

export const fmt = {
  us: (v: number) => `${Math.round(v)}`,
  ms: (v: number, digits = 1) => v.toFixed(digits),
  mb: (bytes: number) => (bytes / 2 ** 20).toFixed(1),
  /** A whole number with thousands separators; a dash when there is none. */
  count: (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—'),
  ratio: (v: number) => `${v.toFixed(2)}×`,
  /** Per-round ratios; results from before they were recorded have none. */
  ratios: (vs: readonly number[] | undefined) =>
    vs ? vs.map((v) => `${v.toFixed(2)}×`).join(', ') : 'not recorded',
};

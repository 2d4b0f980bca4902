// Sidecar memory: VmRSS of `turnout dev` idle, then under an open-loop load of non-streaming requests at a
// fixed rate over several keep-alive connections, sampled every 250 ms from /proc. Run twice: as built
// JavaScript (how the package and image run it) and from the TypeScript source (type stripping).
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { openLoop, percentile } from '../load.ts';
import { buildForBench } from '../build.ts';
import { here, startNode, startSidecar, type Started } from '../processes.ts';
import { readRss, sampleRss, sleep } from '../rss.ts';
import { defineSuite, fmt, type BenchConfig } from '../suite.ts';

const CONNECTIONS = 16;
const TARGET_RSS = 80 * 2 ** 20;
const IDLE_MS = 3_000;
const WARMUP_S = 2;

type Variant = 'built' | 'source';

export interface RssRun {
  /** Bytes. */
  idleRss: number;
  /** Max of the samples from the start of the warm-up to the end of the load. */
  loadRssMax: number;
  loadRssMedian: number;
  /** VmHWM after the load: the kernel's peak, between samples included. */
  peakRss: number;
  /** nodejs_heap_size_total_bytes / _used_bytes from the sidecar's /metrics right after the load. */
  heapTotal: number;
  heapUsed: number;
  samples: number;
  achievedRps: number;
  ok: number;
  errors: number;
  /** From each request's due time, µs (measured window only, after the warm-up). */
  latency: { p50: number; p99: number; max: number };
}

export interface SidecarRssResult {
  rps: number;
  seconds: number;
  connections: number;
  /** `built` is missing when tsc emitted nothing (see buildNote). */
  runs: Partial<Record<Variant, RssRun>>;
  buildNote: string;
  /** RSS of an empty `node -e` process (same binary, no modules): the floor under every figure above. */
  emptyNodeRss: number;
  /** The same open loop straight to the fake upstream: the latency floor of this machine and load generator. */
  direct: { achievedRps: number; errors: number; latency: { p50: number; p99: number; max: number } };
}

async function heapOf(url: string): Promise<{ total: number; used: number }> {
  const res = await request(`${new URL(url).origin}/metrics`);
  const text = await res.body.text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return { total: metric('nodejs_heap_size_total_bytes'), used: metric('nodejs_heap_size_used_bytes') };
}

async function measure(sidecar: Started, cfg: BenchConfig): Promise<RssRun> {
  const pid = sidecar.child.pid;
  if (pid === undefined) throw new Error('sidecar has no pid');
  const idle = sampleRss(pid);
  await sleep(IDLE_MS);
  const idleSamples = idle.stop();
  const load = sampleRss(pid);
  await openLoop(sidecar.url, { rps: cfg.rps, seconds: WARMUP_S, connections: CONNECTIONS });
  const run = await openLoop(sidecar.url, {
    rps: cfg.rps,
    seconds: cfg.loadSeconds,
    connections: CONNECTIONS,
  });
  const loadSamples = load.stop();
  const heap = await heapOf(sidecar.url);
  return {
    idleRss: Math.max(...idleSamples),
    loadRssMax: Math.max(...loadSamples),
    loadRssMedian: percentile(loadSamples, 50),
    peakRss: readRss(pid).hwm,
    heapTotal: heap.total,
    heapUsed: heap.used,
    samples: loadSamples.length,
    achievedRps: run.achievedRps,
    ok: run.ok,
    errors: run.errors,
    latency: latencyOf(run.latencies),
  };
}

async function emptyNode(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    await sleep(1500);
    return child.pid === undefined ? NaN : readRss(child.pid).rss;
  } finally {
    child.kill();
  }
}

const latencyOf = (l: number[]) => ({
  p50: percentile(l, 50),
  p99: percentile(l, 99),
  max: l.reduce((a, b) => Math.max(a, b), 0),
});

async function sidecarRss(cfg: BenchConfig): Promise<SidecarRssResult> {
  const upstream = await startNode(here('./upstream-process.ts'));
  try {
    const emptyNodeRss = await emptyNode();
    const build = await buildForBench();
    const clis: Partial<Record<Variant, string>> = { source: here('../cli/main.ts') };
    if (build.cli) clis.built = build.cli;
    const runs: Partial<Record<Variant, RssRun>> = {};
    for (const v of ['built', 'source'] as const) {
      const cli = clis[v];
      if (cli === undefined) continue;
      const sidecar = await startSidecar(upstream.url, cli);
      try {
        runs[v] = await measure(sidecar, cfg);
      } finally {
        await sidecar.stop();
      }
    }
    await openLoop(upstream.url, { rps: cfg.rps, seconds: WARMUP_S, connections: CONNECTIONS });
    const d = await openLoop(upstream.url, {
      rps: cfg.rps,
      seconds: cfg.loadSeconds,
      connections: CONNECTIONS,
    });
    const direct = { achievedRps: d.achievedRps, errors: d.errors, latency: latencyOf(d.latencies) };
    return {
      rps: cfg.rps,
      seconds: cfg.loadSeconds,
      connections: CONNECTIONS,
      runs,
      buildNote: build.note,
      direct,
      emptyNodeRss,
    };
  } finally {
    await upstream.stop();
  }
}

const VARIANTS: Record<Variant, string> = {
  built: '`turnout dev`, built JS (bench/out/dist, as shipped)',
  source: '`turnout dev`, TypeScript source (type stripping)',
};

function markdown(r: SidecarRssResult): string {
  const variants = (['built', 'source'] as const).filter((v) => r.runs[v] !== undefined);
  const row = (name: string, f: (x: RssRun) => string) =>
    `| ${name} | ${variants.map((v) => f(r.runs[v] as RssRun)).join(' | ')} |`;
  const mb = (k: keyof RssRun) => (x: RssRun) => `${fmt.mb(x[k] as number)} MB`;
  return [
    `The sidecar in front of the fake upstream, one route, decision lines printed to a pipe. Idle for ${IDLE_MS / 1000} s after start, then an open loop of ${r.rps} non-streaming req/s over ${r.connections} keep-alive connections (undici Pool in the bench process): ${WARMUP_S} s of warm-up, then ${r.seconds} s measured. Latency is counted from each request's due time, so queueing counts. VmRSS sampled every 250 ms from /proc/<pid>/status, from the start of the warm-up to the end of the load. Each variant is a fresh process.${r.buildNote ? ` Build: ${r.buildNote}.` : ''}`,
    '',
    `| measure | ${variants.map((v) => VARIANTS[v]).join(' | ')} |`,
    `|---|${variants.map(() => '---:').join('|')}|`,
    row('RSS idle (max of samples)', mb('idleRss')),
    row('RSS under load, median of samples', mb('loadRssMedian')),
    row('RSS under load, max of samples', mb('loadRssMax')),
    row("VmHWM (kernel's peak RSS) after the load", mb('peakRss')),
    row(
      'V8 heap total / used right after the load (/metrics)',
      (x) => `${fmt.mb(x.heapTotal)} / ${fmt.mb(x.heapUsed)} MB`,
    ),
    row('rate achieved (ok / wall time)', (x) => `${Math.round(x.achievedRps)} req/s (${x.errors} errors)`),
    row(
      'latency p50 / p99 / max',
      (x) =>
        `${fmt.ms(x.latency.p50 / 1000, 2)} / ${fmt.ms(x.latency.p99 / 1000, 1)} / ${fmt.ms(x.latency.max / 1000, 0)} ms`,
    ),
    '',
    `Where the memory goes: an empty \`node -e\` process of the same binary is ${fmt.mb(r.emptyNodeRss)} MB; the rest at idle is loaded code and its data. Under load, compare the V8 heap's total (what V8 keeps committed) with used (live data plus garbage not yet collected): on a host with this much memory and no container limit, V8 sizes the young generation and lets the heap grow well past the live data before collecting.`,
    '',
    `For reference, the same open loop straight to the fake upstream: p50 / p99 / max ${fmt.ms(r.direct.latency.p50 / 1000, 2)} / ${fmt.ms(r.direct.latency.p99 / 1000, 1)} / ${fmt.ms(r.direct.latency.max / 1000, 0)} ms at ${Math.round(r.direct.achievedRps)} req/s.`,
    '',
    ...variants.map(
      (v) =>
        `${VARIANTS[v]}: max RSS at ${r.rps} req/s = **${fmt.mb((r.runs[v] as RssRun).loadRssMax)} MB** (target ≤ 80 MB).`,
    ),
  ].join('\n');
}

export const sidecarRssSuite = defineSuite<SidecarRssResult>({
  name: 'sidecar-rss',
  title: 'Sidecar memory under load',
  run: sidecarRss,
  markdown,
  checks: (r) =>
    (['built', 'source'] as const).flatMap((v) => {
      const x = r.runs[v];
      if (!x) return [];
      const name = v === 'built' ? 'built JS' : 'TS source';
      return [
        {
          metric: `sidecar RSS max at ${r.rps} req/s (turnout dev, ${name})`,
          value: `${fmt.mb(x.loadRssMax)} MB`,
          target: '≤ 80 MB',
          pass: x.loadRssMax <= TARGET_RSS,
        },
        {
          metric: `open loop ${r.rps} req/s held, no errors (${name})`,
          value: `${Math.round(x.achievedRps)} req/s, ${x.errors} errors, p99 ${fmt.ms(x.latency.p99 / 1000)} ms`,
          target: `≥ ${Math.round(r.rps * 0.95)} req/s, 0 errors`,
          pass: x.achievedRps >= r.rps * 0.95 && x.errors === 0,
        },
      ];
    }),
});

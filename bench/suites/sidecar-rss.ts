// Sidecar memory: VmRSS of `turnout sidecar` (built JavaScript, as the image runs it, following a real push
// server as in a pod) idle, then under an open-loop load of non-streaming requests at a fixed rate over
// several keep-alive connections (sent by vegeta, as in the peers rate search: the bench's own Node open
// loop has a p99 of 5-40 ms by itself, which this suite's latency row used to report as the sidecar's),
// sampled every 250 ms from /proc. Four processes, each fresh: the sidecar
// with the Node settings a pod gets (sidecar/node-options.ts for the chart's default memory limit), the
// sidecar with Node's defaults, `turnout dev` (local mode, which also loads the YAML parser and the
// compiler) with the pod's settings, and the bare node:http + undici pass-through with the pod's settings —
// the floor any Node proxy stands on.
import { spawn } from 'node:child_process';
import { request } from 'undici';
import type { SidecarNodeEnv } from '../../sidecar/node-options.ts';
import { podSettings } from '../pod-settings.ts';
import { CHAT_BODY, percentile } from '../load.ts';
import { attack } from '../peers/vegeta.ts';
import { buildForBench } from '../build.ts';
import { waitForQuiet } from '../quiet.ts';
import { startPodSidecar } from '../pod-sidecar.ts';
import { here, passthroughScript, startNode, startSidecar, type Started } from '../processes.ts';
import { readRss, sampleRss, sleep } from '../rss.ts';
import { defineSuite, fmt, type BenchConfig } from '../suite.ts';

const CONNECTIONS = 16;
const TARGET_RSS = 80 * 2 ** 20;
const IDLE_MS = 3_000;
const WARMUP_S = 2;

type Variant = 'shipped' | 'defaults' | 'dev' | 'floor';
const ORDER: readonly Variant[] = ['shipped', 'defaults', 'dev', 'floor'];

export interface RssRun {
  /** Bytes. */
  idleRss: number;
  /** Max of the samples from the start of the warm-up to the end of the load. */
  loadRssMax: number;
  loadRssMedian: number;
  /** The file-backed (node binary) and anonymous parts of the sample that was the max. */
  loadRssMaxFile: number;
  loadRssMaxAnon: number;
  /** VmHWM after the load: the kernel's peak, between samples included. */
  peakRss: number;
  /** nodejs_heap_size_total_bytes / _used_bytes from the sidecar's /metrics right after the load. */
  heapTotal?: number;
  heapUsed?: number;
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
  /** The chart's default sidecar memory limit and the settings derived from it. */
  chartMemoryLimit: string;
  shippedEnv: SidecarNodeEnv;
  /** Only `floor` is there when tsc emitted nothing (see buildNote). */
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

/** Open-loop non-streaming load at `rps` from vegeta: a warm-up, then the measured window. */
async function loadAt(baseUrl: string, rps: number, seconds: number) {
  const load = {
    url: `${baseUrl.replace(/\/$/, '')}/chat/completions`,
    body: CHAT_BODY,
    headers: {},
    rps,
    connections: CONNECTIONS,
  };
  await attack({ ...load, seconds: WARMUP_S });
  return attack({ ...load, seconds });
}

async function measure(proc: Started, cfg: BenchConfig, withMetrics: boolean): Promise<RssRun> {
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error('process has no pid');
  const idle = sampleRss(pid);
  await sleep(IDLE_MS);
  const idleSamples = idle.stop();
  let max = readRss(pid);
  const watchMax = setInterval(() => {
    const now = readRss(pid);
    if (now.rss > max.rss) max = now;
  }, 250);
  const load = sampleRss(pid);
  const run = await loadAt(proc.url, cfg.rps, cfg.loadSeconds);
  const loadSamples = load.stop();
  clearInterval(watchMax);
  const heap = withMetrics ? await heapOf(proc.url) : undefined;
  return {
    idleRss: Math.max(...idleSamples),
    loadRssMax: Math.max(...loadSamples),
    loadRssMedian: percentile(loadSamples, 50),
    loadRssMaxFile: max.file,
    loadRssMaxAnon: max.anon,
    peakRss: readRss(pid).hwm,
    ...(heap && { heapTotal: heap.total, heapUsed: heap.used }),
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
    const pod = await podSettings();
    const limit = pod.memoryLimit;
    const shippedEnv = pod.env;
    const env = { ...shippedEnv };
    const build = await buildForBench(here('./out/dist-rss'));
    // The build (tsc) just kept a core busy: let it settle before the first process is measured.
    await waitForQuiet((line) => process.stderr.write(`${line}\n`));
    const floorScript = await passthroughScript();
    const cli = build.cli;
    const start: Record<Variant, (() => Promise<Started>) | undefined> = {
      shipped: cli ? () => startPodSidecar(upstream.url, cli, { env }) : undefined,
      defaults: cli ? () => startPodSidecar(upstream.url, cli) : undefined,
      dev: cli ? () => startSidecar(upstream.url, cli, { env }) : undefined,
      floor: () => startNode(floorScript, [upstream.url], { env, nodeArgs: ['--no-warnings'] }),
    };
    const runs: Partial<Record<Variant, RssRun>> = {};
    for (const v of ORDER) {
      const launch = start[v];
      if (!launch) continue;
      const proc = await launch();
      try {
        runs[v] = await measure(proc, cfg, v !== 'floor');
      } finally {
        await proc.stop();
      }
    }
    const d = await loadAt(upstream.url, cfg.rps, cfg.loadSeconds);
    const direct = { achievedRps: d.achievedRps, errors: d.errors, latency: latencyOf(d.latencies) };
    return {
      rps: cfg.rps,
      seconds: cfg.loadSeconds,
      connections: CONNECTIONS,
      chartMemoryLimit: limit,
      shippedEnv,
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
  shipped: '`turnout sidecar`, built JS, pod settings',
  defaults: '`turnout sidecar`, built JS, Node defaults',
  dev: '`turnout dev`, built JS, pod settings',
  floor: 'bare node:http + undici pass-through, pod settings',
};

function markdown(r: SidecarRssResult): string {
  const variants = ORDER.filter((v) => r.runs[v] !== undefined);
  const row = (name: string, f: (x: RssRun) => string) =>
    `| ${name} | ${variants.map((v) => f(r.runs[v] as RssRun)).join(' | ')} |`;
  const mb = (k: keyof RssRun) => (x: RssRun) => `${fmt.mb(x[k] as number)} MB`;
  const shipped = r.runs.shipped;
  const floor = r.runs.floor;
  return [
    `The sidecar in front of the fake upstream, one route, decision lines printed to a pipe. \`turnout sidecar\` runs as in a pod: the operator's push server (in the bench process, the real one, fed the bench policy through the real compiler) pushes the policy over TLS, authenticated by a service-account token, and the sidecar persists it to its state directory; measuring starts once /readyz answers 200. \`turnout dev\` (local mode) reads the same policy from YAML, so it also loads the YAML parser and the compiler. Idle for ${IDLE_MS / 1000} s after start, then an open loop of ${r.rps} non-streaming req/s over at most ${r.connections} keep-alive connections, sent by vegeta (a Go load generator; the bench's own Node open loop measured a p99 of 5–40 ms by itself): ${WARMUP_S} s of warm-up, then ${r.seconds} s measured. Latency is counted from each request's due time, so queueing counts. VmRSS sampled every 250 ms from /proc/<pid>/status, from the start of the warm-up to the end of the load. Each column is a fresh process.${r.buildNote ? ` Build: ${r.buildNote}.` : ''}`,
    '',
    `"Pod settings" are the environment the injector gives the sidecar container for the chart's default memory limit (\`sidecar.resources.limits.memory: ${r.chartMemoryLimit}\`), from \`sidecar/node-options.ts\`: ${Object.entries(
      r.shippedEnv as unknown as Record<string, string>,
    )
      .map(([k, v]) => `\`${k}=${/\s/.test(v) ? `"${v}"` : v}\``)
      .join(
        ', ',
      )}. The floor is \`bench/passthrough-process.ts\` (types stripped to plain JS) with the same settings: what any Node proxy on this binary stands on.`,
    '',
    `| measure | ${variants.map((v) => VARIANTS[v]).join(' | ')} |`,
    `|---|${variants.map(() => '---:').join('|')}|`,
    row('RSS idle (max of samples)', mb('idleRss')),
    row('RSS under load, median of samples', mb('loadRssMedian')),
    row('RSS under load, max of samples', mb('loadRssMax')),
    row(
      '… of which file-backed (node binary) / anonymous',
      (x) => `${fmt.mb(x.loadRssMaxFile)} / ${fmt.mb(x.loadRssMaxAnon)} MB`,
    ),
    row("VmHWM (kernel's peak RSS) after the load", mb('peakRss')),
    row('V8 heap total / used right after the load (/metrics)', (x) =>
      x.heapTotal === undefined ? '—' : `${fmt.mb(x.heapTotal)} / ${fmt.mb(x.heapUsed ?? NaN)} MB`,
    ),
    row('rate achieved (ok / wall time)', (x) => `${Math.round(x.achievedRps)} req/s (${x.errors} errors)`),
    row(
      'latency p50 / p99 / max',
      (x) =>
        `${fmt.ms(x.latency.p50 / 1000, 2)} / ${fmt.ms(x.latency.p99 / 1000, 1)} / ${fmt.ms(x.latency.max / 1000, 0)} ms`,
    ),
    '',
    `Where the memory goes: an empty \`node -e\` process of the same binary is ${fmt.mb(r.emptyNodeRss)} MB. File-backed pages are the node binary's own code as the process touches it (shared with every other process running that binary, but counted in each one's RSS); anonymous memory is the V8 heap, buffers and sockets. With Node's defaults on a host with this much memory and no container limit, V8 sizes the young generation and lets the heap grow well past the live data before collecting.`,
    '',
    `For reference, the same open loop straight to the fake upstream: p50 / p99 / max ${fmt.ms(r.direct.latency.p50 / 1000, 2)} / ${fmt.ms(r.direct.latency.p99 / 1000, 1)} / ${fmt.ms(r.direct.latency.max / 1000, 0)} ms at ${Math.round(r.direct.achievedRps)} req/s.`,
    '',
    ...(shipped
      ? [
          `\`turnout sidecar\` with pod settings: max RSS at ${r.rps} req/s = **${fmt.mb(shipped.loadRssMax)} MB** (target ≤ 80 MB)${floor ? `; the bare pass-through floor under the same load and settings: ${fmt.mb(floor.loadRssMax)} MB, so the sidecar's routing, policy, telemetry and metrics add ${fmt.mb(shipped.loadRssMax - floor.loadRssMax)} MB` : ''}.`,
        ]
      : []),
  ].join('\n');
}

export const sidecarRssSuite = defineSuite<SidecarRssResult>({
  name: 'sidecar-rss',
  title: 'Sidecar memory under load',
  run: sidecarRss,
  markdown,
  checks: (r) => {
    const x = r.runs.shipped;
    if (!x) return [];
    return [
      {
        metric: `sidecar RSS max at ${r.rps} req/s (turnout sidecar, built JS, pod settings)`,
        value: `${fmt.mb(x.loadRssMax)} MB`,
        target: '≤ 80 MB',
        pass: x.loadRssMax <= TARGET_RSS,
      },
      {
        metric: `open loop ${r.rps} req/s held, no errors (pod settings)`,
        value: `${Math.round(x.achievedRps)} req/s, ${x.errors} errors, p99 ${fmt.ms(x.latency.p99 / 1000)} ms`,
        target: `≥ ${Math.round(r.rps * 0.95)} req/s, 0 errors`,
        pass: x.achievedRps >= r.rps * 0.95 && x.errors === 0,
      },
    ];
  },
});

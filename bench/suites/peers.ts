// Issue #7: Turnout next to the bare pass-through, Portkey and LiteLLM (bench/peers/run-peers.ts does
// the measuring), as RESULTS.md tables and docs/bench-peers.png. Opt-in: about 20 minutes, and it
// installs the peers under ~/.cache/turnout/peers, so only `BENCH_ONLY=peers npm run bench` runs it.
import { machineLine } from '../machine.ts';
import { chartCaption, writeChart } from '../peers/chart.ts';
import type { FailoverCheck } from '../peers/failover.ts';
import {
  runPeers,
  type GatewayResult,
  type PathName,
  type PeersResult,
  type Pct,
} from '../peers/run-peers.ts';
import { defineSuite, fmt, type BenchConfig, type Check } from '../suite.ts';
import { MIN_RATE } from '../peers/rate-search.ts';

const PEERS = ['portkey', 'litellm'];
const PATH_NAMES: Record<PathName, string> = {
  single: 'non-stream, single-target route',
  fallback: 'non-stream, fallback route',
  ttft: 'stream',
};
const PEER_FACTOR = 1 / 8;
const PASSTHROUGH_FACTOR = 1.25;
const RATE_PEER_FACTOR = 5;
const RATE_PASSTHROUGH_FACTOR = 0.8;

async function run(cfg: BenchConfig): Promise<PeersResult> {
  const result = await runPeers(cfg);
  await writeChart(result, chartCaption({ date: new Date().toISOString(), machine: machineLine() }));
  return result;
}

const pct = (p: Pct | undefined) => (p ? `${fmt.us(p.p50)} / ${fmt.us(p.p99)}` : '—');
const mb = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : `${fmt.mb(v)} MB`);
const failover = (f: FailoverCheck | undefined) => {
  if (f === undefined) return '—';
  const took = Number.isFinite(f.p50) ? `, p50 ${fmt.ms(f.p50 / 1000)} ms` : '';
  const why =
    f.ok === f.sent
      ? ''
      : ` (${(f.firstFailure ?? '').replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 90)})`;
  return `${f.ok}/${f.sent}${took}${why}`;
};

function latencyTable(r: PeersResult): string[] {
  const row = (name: string, version: string, l: GatewayResult['latency'], a?: GatewayResult['added']) =>
    `| ${name} | ${version} | ${pct(l.single)} | ${a ? pct(a.single) : '—'} | ${a ? pct(a.fallback) : '—'} | ${pct(l.ttft)} | ${a ? pct(a.ttft) : '—'} |`;
  return [
    '| gateway | version | non-stream p50 / p99 | added p50 / p99 | fallback route added p50 / p99 | stream TTFT p50 / p99 | added TTFT p50 / p99 |',
    '|---|---|---:|---:|---:|---:|---:|',
    row('direct to the fake (no gateway)', '—', r.direct),
    ...r.gateways.map((g) => row(g.name, g.version, g.latency, g.added)),
  ];
}

function rateTable(r: PeersResult): string[] {
  const rate = (g: GatewayResult) => {
    const m = g.maxRate;
    if (!m) return '— | — | — | —';
    const best = m.median === 0 ? `none (< 20)` : `**${Math.round(m.median)}**`;
    const share = (v: number) => (Number.isFinite(v) ? `${Math.round(v * 100)}%` : '—');
    const p99 = Number.isFinite(m.p99AtMax) ? `${fmt.ms(m.p99AtMax / 1000)} ms` : '—';
    return `${best} | ${m.rounds.map((x) => Math.round(x)).join(', ')} | ${p99} | ${share(m.gatewayCpu)} / ${share(m.loadCoreBusy)}`;
  };
  return [
    `| gateway | req/s with p99 ≤ ${r.p99LimitMs} ms (median) | each round | p99 at that rate | gateway CPU / load-core busy at that rate | RSS idle | RSS under load (max) | failover, primary 503 | failover, primary gone |`,
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...r.gateways.map(
      (g) =>
        `| ${g.name} | ${rate(g)} | ${mb(g.rss?.idle)} | ${mb(g.rss?.load)} | ${failover(g.failover503)} | ${failover(g.failoverRefused)} |`,
    ),
  ];
}

const directCeiling = (r: PeersResult) =>
  r.directMaxRate
    ? ` (here ${Math.round(r.directMaxRate.median)} req/s; rounds ${r.directMaxRate.rounds.map((x) => Math.round(x)).join(', ')})`
    : '';

function markdown(r: PeersResult): string {
  const problems = r.gateways.flatMap((g) => [
    ...(g.error === undefined ? [] : [`${g.name}: ${g.error.split('\n').slice(0, 6).join(' ')}`]),
    ...Object.entries(g.pathErrors ?? {}).map(
      ([path, e]) => `${g.name}, ${PATH_NAMES[path as PathName]}: ${e}`,
    ),
  ]);
  return [
    `Every gateway runs in its own process in front of the same simulated OpenAI upstreams (bench/upstream-process.ts, each stream 20 deltas 1 ms apart), configured with its own native config for a single-target route and a fallback route (primary → fallback on connection errors, 429 and 5xx); docs/benchmarks.md shows the configs. ${r.pinning}. Closed loop: per round, ${r.requests} non-stream requests per route and ${r.streams} streams, each path (direct and every gateway) on its own keep-alive connection, the paths taking turns request by request (request i goes to every path, starting with path i mod k), ${r.rounds} rounds, medians of the rounds' p50 and p99, µs; stream TTFT is send → the first event carrying a token (content or a tool call), past any opening role-only chunk, as the stream-ttft suite times it; "added" is minus the direct path (for the fallback route, minus direct to its primary; its primary is healthy, so this is what having a fallback configured costs). Open loop: requests due at a fixed rate over at most ${r.connections} keep-alive connections, sent by vegeta (a Go load generator: straight at the fake, the bench's own Node generator measured p99 5–40 ms by itself at 200–3,200 req/s), latency counted from each request's due time; a rate passes when p99 ≤ ${r.p99LimitMs} ms with no errors over ${r.stepSeconds} s (at least 300 requests) after 1 s of warm-up at that rate; each round steps up ×2 (later rounds ×1.25 from the last answer) and bisects to within 10%, and the table gives the median of the ${r.rounds} rounds. A load-core figure near 100% means the load generator and fakes, not the gateway, were the limit; the same search straight at the fake gives the load side's own ceiling${directCeiling(r)}. RSS is VmRSS of the gateway's process tree: idle 3 s after start, and the max sampled every 250 ms during its open-loop probes. Failover: 10 requests to a fresh fallback-route instance whose primary answers 503, and 10 to the measured one after its primary was stopped, with the median time each took.`,
    '',
    '**Latency (µs)**',
    '',
    ...latencyTable(r),
    '',
    '**Throughput on one core, memory, failover**',
    '',
    ...rateTable(r),
    ...(problems.length > 0
      ? ['', '**Not measured, or not fully (errors verbatim):**', '', ...problems.map((p) => `- ${p}`)]
      : []),
    '',
    '![Turnout vs peers](../docs/bench-peers.png)',
  ].join('\n');
}

const byName = (r: PeersResult, name: string) =>
  r.gateways.find((g) => g.name === name && g.error === undefined);

/** Turnout's added latency against the best measured peer and against the pass-through, p50 and p99 together. */
function latencyChecks(r: PeersResult, k: 'single' | 'ttft', label: string): Check[] {
  const turnout = byName(r, 'turnout')?.added[k];
  const pass = byName(r, 'passthrough')?.added[k];
  const peers = PEERS.flatMap((n) => byName(r, n)?.added[k] ?? []);
  const best = (q: 'p50' | 'p99') => Math.min(...peers.map((p) => p[q]));
  const ratios = (base: (q: 'p50' | 'p99') => number) =>
    turnout ? { p50: turnout.p50 / base('p50'), p99: turnout.p99 / base('p99') } : undefined;
  const vsPeer = peers.length > 0 ? ratios(best) : undefined;
  const vsPass = pass ? ratios((q) => pass[q]) : undefined;
  const show = (x: { p50: number; p99: number } | undefined, missing: string) =>
    x ? `p50 ${fmt.ratio(x.p50)}, p99 ${fmt.ratio(x.p99)}` : missing;
  // The floor's own ratio says whether the peer target is reachable by any Node proxy on this machine.
  const floor =
    pass && peers.length > 0
      ? ` (the bare pass-through itself: ${show({ p50: pass.p50 / best('p50'), p99: pass.p99 / best('p99') }, '')})`
      : '';
  return [
    {
      metric: `${label} added latency, Turnout / best peer`,
      value: `${show(vsPeer, turnout ? 'no peer measured' : 'Turnout not measured')}${vsPeer ? floor : ''}`,
      target: `≤ ${fmt.ratio(PEER_FACTOR)} at p50 and p99`,
      pass: vsPeer !== undefined && vsPeer.p50 <= PEER_FACTOR && vsPeer.p99 <= PEER_FACTOR,
    },
    {
      metric: `${label} added latency, Turnout / pass-through`,
      value: show(vsPass, 'not measured'),
      target: `≤ ${fmt.ratio(PASSTHROUGH_FACTOR)} at p50 and p99`,
      pass: vsPass !== undefined && vsPass.p50 <= PASSTHROUGH_FACTOR && vsPass.p99 <= PASSTHROUGH_FACTOR,
    },
  ];
}

/**
 * A rate of 0 means "below the lowest rate tried": against it, Turnout's ratio is at least its rate over
 * that lowest rate; 0 against 0 says nothing.
 */
const rateRatio = (turnout: number, other: number) => {
  if (other > 0)
    return `${fmt.ratio(turnout / other)} (${Math.round(turnout)} vs ${Math.round(other)} req/s)`;
  if (turnout > 0)
    return `> ${fmt.ratio(turnout / MIN_RATE)} (${Math.round(turnout)} vs < ${MIN_RATE} req/s)`;
  return `— (both < ${MIN_RATE} req/s)`;
};

function rateChecks(r: PeersResult): Check[] {
  const rate = (n: string) => r.gateways.find((g) => g.name === n)?.maxRate?.median;
  const turnout = rate('turnout');
  const bestPeer = Math.max(...PEERS.map((n) => rate(n) ?? Number.NaN).filter(Number.isFinite));
  const pass = rate('passthrough');
  // Ratio floors: a peer below the lowest rate tried counts as MIN_RATE, so "≥ 5×" is never claimed on air.
  const over = (other: number) => (turnout ?? 0) / Math.max(other, MIN_RATE);
  const vsPeer = turnout !== undefined && Number.isFinite(bestPeer) ? over(bestPeer) : undefined;
  const vsPass = turnout !== undefined && pass !== undefined ? over(pass) : undefined;
  return [
    {
      metric: 'req/s at p99 ≤ 10 ms on one core, Turnout / best peer',
      value: vsPeer === undefined ? 'not measured' : rateRatio(turnout ?? 0, bestPeer),
      target: `≥ ${RATE_PEER_FACTOR}×`,
      pass: vsPeer !== undefined && (turnout ?? 0) > 0 && vsPeer >= RATE_PEER_FACTOR,
    },
    {
      metric: 'req/s at p99 ≤ 10 ms on one core, Turnout / pass-through',
      value: vsPass === undefined ? 'not measured' : rateRatio(turnout ?? 0, pass ?? 0),
      target: `≥ ${fmt.ratio(RATE_PASSTHROUGH_FACTOR)}`,
      pass: vsPass !== undefined && (turnout ?? 0) > 0 && vsPass >= RATE_PASSTHROUGH_FACTOR,
    },
  ];
}

function peersInstalled(r: PeersResult): Check[] {
  return r.gateways
    .filter((g) => g.error !== undefined)
    .map((g) => ({
      metric: `${g.name} measured in full`,
      value: (g.error ?? '').split('\n')[0]?.slice(0, 80) ?? '',
      target: 'installed, started, measured',
      pass: false,
    }));
}

export const peersSuite = defineSuite<PeersResult>({
  name: 'peers',
  optIn: true,
  title: 'Turnout vs Portkey and LiteLLM, side by side (issue #7)',
  run,
  markdown,
  checks: (r) => [
    ...latencyChecks(r, 'single', 'non-stream'),
    ...latencyChecks(r, 'ttft', 'stream TTFT'),
    ...rateChecks(r),
    ...peersInstalled(r),
  ],
});

// Issue #7, peers side by side: the bare pass-through, Turnout, Portkey and LiteLLM in front of the same
// simulated OpenAI upstreams, each pinned to one core while the load generator and the fakes share the
// other. Closed loop (added latency, non-stream on the single-target and the fallback route, and stream
// time to first token) in interleaved rounds; then, per round, each gateway's highest rate with p99 ≤
// 10 ms in an open loop; RSS idle and under load; and a check that each fallback route fails over.
import { availableParallelism } from 'node:os';
import { median, percentile } from '../load.ts';
import { sleep } from '../rss.ts';
import type { BenchConfig } from '../suite.ts';
import { turnsRound, type PathName, type TurnTarget } from './closed-turns.ts';
import { checkFailover, type FailoverCheck } from './failover.ts';
import { DOWN_STEP, MODEL, OK_STEP, startFake, startGateway, stopGateway, type Fake } from './fixture.ts';
import type { GatewayUnderTest } from './fixture.ts';
import { GATEWAYS } from './index.ts';
import { pinSelf, treeRss } from './proc.ts';
import { probe, searchMaxRate, type ProbeOptions, type ProbeTarget } from './rate-search.ts';

export interface Pct {
  p50: number;
  p99: number;
}
export type { PathName };
type Paths = Partial<Record<PathName, Pct>>;

export interface GatewayResult {
  name: string;
  version: string;
  /** Why some or all of its numbers are missing (install, start or measurement error, verbatim). */
  error?: string;
  /** Paths that failed in the closed loop, with the first error (verbatim); they have no numbers. */
  pathErrors?: Partial<Record<PathName, string>>;
  /** Medians over rounds of each round's p50 / p99, µs. */
  latency: Paths;
  /** latency minus the direct path's, µs. */
  added: Paths;
  maxRate?: {
    /** Median over rounds, req/s. */
    median: number;
    rounds: number[];
    /** At the highest passing rate, medians over rounds: p99 (µs), gateway CPU (share of its core), load core busy. */
    p99AtMax: number;
    gatewayCpu: number;
    loadCoreBusy: number;
    probes: number;
  };
  /** Bytes: after start before any traffic, and the max sampled during the open-loop probes. */
  rss?: { idle: number; load: number };
  failover503?: FailoverCheck;
  failoverRefused?: FailoverCheck;
}

export interface PeersResult {
  requests: number;
  streams: number;
  rounds: number;
  stepSeconds: number;
  p99LimitMs: number;
  connections: number;
  /** "gateway on CPU 1, load generator and fakes on CPU 0", or why nothing was pinned. */
  pinning: string;
  direct: Paths;
  /**
   * The same rate search straight at the fake upstream: what the load core (vegeta and the fake) sustains
   * with p99 ≤ the limit, the ceiling any gateway's figure is read against. Median over rounds, req/s.
   */
  directMaxRate?: { median: number; rounds: number[] };
  gateways: GatewayResult[];
}

const GATEWAY_CPU = '1';
const LOAD_CPU = '0';
const P99_LIMIT_MS = 10;
const CONNECTIONS = 32;
const IDLE_MS = 3_000;
const FIRST_RATE = 200;
const RSS_SAMPLE_MS = 250;
const stepSeconds = () => Number(process.env.BENCH_PEERS_STEP_S ?? 4);
/** Non-stream requests per route per round: BENCH_PEERS_REQUESTS, default 1000 (LiteLLM takes ms each). */
const requestsPerRound = () => Number(process.env.BENCH_PEERS_REQUESTS ?? 1000);
const FAILOVER_REQUESTS = 10;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const rotate = <T>(xs: T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length] as T);

interface Samples {
  single: number[][];
  fallback: number[][];
  ttft: number[][];
}

const summarize = (rounds: number[][]): Pct | undefined =>
  rounds.length === 0
    ? undefined
    : {
        p50: median(rounds.map((s) => percentile(s, 50))),
        p99: median(rounds.map((s) => percentile(s, 99))),
      };

function pathsOf(s: Samples): Paths {
  const out: Paths = {};
  for (const k of ['single', 'fallback', 'ttft'] as const) {
    const v = summarize(s[k]);
    if (v) out[k] = v;
  }
  return out;
}

const asTarget = (g: GatewayUnderTest): TurnTarget => ({
  key: g.gateway.name,
  single: g.single?.baseUrl ?? '',
  ...(g.fallback && { fallback: g.fallback.baseUrl }),
  headers: g.single?.headers ?? {},
});

export async function runPeers(benchCfg: BenchConfig): Promise<PeersResult> {
  const cfg = { ...benchCfg, requests: requestsPerRound() };
  const pin = availableParallelism() >= 2;
  const cpus = pin ? GATEWAY_CPU : undefined;
  const loadCpus = pin ? LOAD_CPU : undefined;
  const only = (process.env.BENCH_PEERS ?? '').split(',').filter(Boolean);
  const restoreAffinity = pin ? pinSelf(LOAD_CPU) : () => undefined;
  const fakes: Fake[] = [];
  const under: GatewayUnderTest[] = [];
  try {
    const fake = async (step: object) => {
      const f = await startFake(step, loadCpus);
      fakes.push(f);
      return f;
    };
    const routesTo = {
      single: await fake(OK_STEP),
      primary: await fake(OK_STEP),
      fallback: await fake(OK_STEP),
    };
    const down = await fake(DOWN_STEP);
    for (const gateway of GATEWAYS.filter((g) => only.length === 0 || only.includes(g.name))) {
      process.stderr.write(`bench: peers: starting ${gateway.name}\n`);
      const g = await startGateway(gateway, routesTo, cpus);
      if (g.error !== undefined) process.stderr.write(`bench: peers: ${gateway.name} ${g.error}\n`);
      under.push(g);
    }
    const results = new Map<GatewayUnderTest, GatewayResult>(
      under.map((g) => [
        g,
        {
          name: g.gateway.name,
          version: g.version,
          latency: {},
          added: {},
          ...(g.error && { error: g.error }),
        },
      ]),
    );
    const live = () => under.filter((g) => g.single !== undefined);
    const fail = async (g: GatewayUnderTest, phase: string, e: unknown) => {
      const r = results.get(g) as GatewayResult;
      r.error = `failed during ${phase}: ${message(e)}`;
      process.stderr.write(`bench: peers: ${g.gateway.name} ${r.error}\n`);
      await stopGateway(g);
    };

    await sleep(IDLE_MS);
    const idleRss = new Map(live().map((g) => [g, treeRss(g.single?.pid ?? 0)]));

    // Closed loop: warm-up (JIT, pools, lazy imports), then rounds, every path taking turns.
    const direct: TurnTarget = {
      key: 'direct',
      single: routesTo.single.baseUrl,
      fallback: routesTo.primary.baseUrl,
      headers: {},
    };
    const warm = { requests: 300, streamRequests: 50 };
    const samples = new Map<string, Samples>();
    const samplesOf = (key: string) => {
      const s = samples.get(key) ?? { single: [], fallback: [], ttft: [] };
      samples.set(key, s);
      return s;
    };
    const pathErrors = new Map<string, Partial<Record<PathName, string>>>();
    const errorsOf = (key: string) => {
      const e = pathErrors.get(key) ?? {};
      pathErrors.set(key, e);
      return e;
    };
    const closedRound = async (size: { requests: number; streamRequests: number }, keep: boolean) => {
      const targets = [direct, ...live().map(asTarget)];
      for (const kind of ['single', 'fallback', 'ttft'] as const) {
        const n = kind === 'ttft' ? size.streamRequests : size.requests;
        const got = await turnsRound(kind, targets, n, errorsOf);
        if (keep) for (const [key, latencies] of got) samplesOf(key)[kind].push(latencies);
      }
    };
    await closedRound(warm, false);
    for (let round = 0; round < cfg.rounds; round++) {
      process.stderr.write(`bench: peers: closed loop round ${round + 1}/${cfg.rounds}\n`);
      await closedRound(cfg, true);
    }
    const directErrors = Object.values(errorsOf('direct'));
    if (directErrors.length > 0) throw new Error(`direct path failed: ${directErrors.join('; ')}`);
    for (const [key, errors] of pathErrors) {
      const s = samples.get(key);
      for (const k of Object.keys(errors) as PathName[]) if (s) s[k] = []; // partial rounds would mislead
      if (Object.keys(errors).length > 0)
        process.stderr.write(`bench: peers: ${key}: ${JSON.stringify(errors)}\n`);
    }

    // Open loop: each round searches every gateway's highest rate with p99 ≤ 10 ms, sampling its RSS.
    const opts: ProbeOptions = {
      stepSeconds: stepSeconds(),
      p99LimitUs: P99_LIMIT_MS * 1000,
      loadCpu: LOAD_CPU,
      connections: CONNECTIONS,
    };
    const rates = new Map<GatewayUnderTest, { rate: number; p99: number; cpu: number; busy: number }[]>();
    const loadRss = new Map<GatewayUnderTest, number>();
    const probes = new Map<GatewayUnderTest, number>();
    const directRates: number[] = [];
    const fakeAsTarget = { baseUrl: routesTo.single.baseUrl, headers: {}, pid: routesTo.single.server.pid };
    const search = (target: ProbeTarget, round: number, previous: number | undefined) =>
      searchMaxRate((rate) => probe(target, rate, opts), previous || FIRST_RATE, round === 0 ? 2 : 1.25);
    for (let round = 0; round < cfg.rounds; round++) {
      process.stderr.write(`bench: peers: open loop round ${round + 1}/${cfg.rounds}, direct\n`);
      directRates.push((await search(fakeAsTarget, round, directRates.at(-1))).maxRate);
      for (const g of rotate(live(), round)) {
        const single = g.single;
        if (!single) continue;
        process.stderr.write(`bench: peers: open loop round ${round + 1}/${cfg.rounds}, ${g.gateway.name}\n`);
        const previous = rates.get(g) ?? [];
        const timer = setInterval(
          () => loadRss.set(g, Math.max(loadRss.get(g) ?? 0, treeRss(single.pid))),
          RSS_SAMPLE_MS,
        );
        try {
          const found = await search(single, round, previous.at(-1)?.rate);
          const at = found.atMax;
          previous.push({
            rate: found.maxRate,
            p99: at?.p99 ?? Number.NaN,
            cpu: at?.gatewayCpu ?? Number.NaN,
            busy: at?.loadCoreBusy ?? Number.NaN,
          });
          rates.set(g, previous);
          probes.set(g, (probes.get(g) ?? 0) + found.probes.length);
        } catch (e) {
          await fail(g, `open loop round ${round + 1}`, e);
        } finally {
          clearInterval(timer);
        }
      }
    }

    // Failover: a fresh fallback-route instance whose primary answers 503, then the measured one with
    // its primary gone (connection refused).
    for (const g of live().filter((x) => x.fallback !== undefined)) {
      const r = results.get(g) as GatewayResult;
      try {
        const gw = await g.gateway.start(
          { model: MODEL, primaryUrl: down.origin, fallbackUrl: routesTo.fallback.origin },
          cpus === undefined ? {} : { cpus },
        );
        try {
          r.failover503 = await checkFailover(gw, FAILOVER_REQUESTS);
        } finally {
          await gw.stop();
        }
      } catch (e) {
        r.failover503 = { sent: FAILOVER_REQUESTS, ok: 0, firstFailure: message(e), p50: Number.NaN };
      }
    }
    await routesTo.primary.server.stop();
    for (const g of live()) {
      if (g.fallback)
        (results.get(g) as GatewayResult).failoverRefused = await checkFailover(
          g.fallback,
          FAILOVER_REQUESTS,
        );
    }

    const directPaths = pathsOf(samplesOf('direct'));
    for (const g of under) {
      const r = results.get(g) as GatewayResult;
      const s = samples.get(g.gateway.name);
      const errors = pathErrors.get(g.gateway.name) ?? {};
      if (Object.keys(errors).length > 0) r.pathErrors = errors;
      if (s && r.error === undefined) {
        r.latency = pathsOf(s);
        for (const k of ['single', 'fallback', 'ttft'] as const) {
          const l = r.latency[k];
          const d = directPaths[k];
          if (l && d) r.added[k] = { p50: l.p50 - d.p50, p99: l.p99 - d.p99 };
        }
      }
      const found = rates.get(g);
      if (found && found.length > 0)
        r.maxRate = {
          median: median(found.map((x) => x.rate)),
          rounds: found.map((x) => x.rate),
          p99AtMax: median(found.map((x) => x.p99)),
          gatewayCpu: median(found.map((x) => x.cpu)),
          loadCoreBusy: median(found.map((x) => x.busy)),
          probes: probes.get(g) ?? 0,
        };
      const idle = idleRss.get(g);
      if (idle !== undefined) r.rss = { idle, load: loadRss.get(g) ?? Number.NaN };
    }
    return {
      requests: cfg.requests,
      streams: cfg.streamRequests,
      rounds: cfg.rounds,
      stepSeconds: opts.stepSeconds,
      p99LimitMs: P99_LIMIT_MS,
      connections: CONNECTIONS,
      pinning: pin
        ? `gateway pinned to CPU ${GATEWAY_CPU}; load generators (the bench process, vegeta) and fakes pinned to CPU ${LOAD_CPU}`
        : `not pinned: only ${availableParallelism()} CPU available`,
      direct: directPaths,
      ...(directRates.length > 0 && { directMaxRate: { median: median(directRates), rounds: directRates } }),
      gateways: under.map((g) => results.get(g) as GatewayResult),
    };
  } finally {
    for (const g of under) await stopGateway(g);
    for (const f of fakes) await f.server.stop();
    restoreAffinity();
  }
}

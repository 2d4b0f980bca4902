// The highest request rate a gateway sustains with p99 ≤ a limit, found by probing rates in an open
// loop: step up (or down) by a factor until one rate passes and the next fails, then bisect
// geometrically until the bracket is within 10%. The load comes from vegeta (see vegeta.ts for why not
// the bench's own Node generator); latency counts from each request's due time, so a gateway that falls
// behind shows it as queueing instead of hiding it.
import { CHAT_BODY, percentile } from '../load.ts';
import type { RunningGateway } from './gateway.ts';
import { coreTimes, treeCpuSeconds } from './proc.ts';
import { attack } from './vegeta.ts';

/** Where a probe sends its load: a gateway, or the fake upstream itself (the load side's own ceiling). */
export type ProbeTarget = Pick<RunningGateway, 'baseUrl' | 'headers' | 'pid'>;

export interface ProbeOptions {
  /** Seconds measured per probe (stretched so a probe has at least MIN_SAMPLES requests). */
  stepSeconds: number;
  /** p99 limit from due time, µs. */
  p99LimitUs: number;
  /** The core the load generator and fakes run on, to tell when they (not the gateway) were the limit. */
  loadCpu: string;
  connections: number;
}

export interface Probe {
  rate: number;
  pass: boolean;
  /** From due time, µs; of the warm-up when the probe stopped there. */
  p99: number;
  errors: number;
  achievedRps: number;
  /** The gateway's CPU time over the measured window, as a share of one core. */
  gatewayCpu: number;
  /** How busy the load generator's core was over the measured window (0..1). */
  loadCoreBusy: number;
}

export interface SearchResult {
  /** Highest passing rate, req/s; 0 when even the lowest rate tried failed. */
  maxRate: number;
  atMax: Probe | undefined;
  probes: Probe[];
}

const WARMUP_SECONDS = 1;
const MIN_SAMPLES = 300;
export const MIN_RATE = 20;
const MAX_RATE = 60_000;
const PRECISION = 1.1;
/** A warm-up this far over the limit fails the probe without the measured window (saves the drain time). */
const HOPELESS = 5;

export async function probe(gw: ProbeTarget, rate: number, opts: ProbeOptions): Promise<Probe> {
  const load = {
    url: `${gw.baseUrl.replace(/\/$/, '')}/chat/completions`,
    body: CHAT_BODY,
    headers: gw.headers,
    rps: rate,
    connections: opts.connections,
  };
  const warm = await attack({ ...load, seconds: WARMUP_SECONDS });
  const warmP99 = percentile(warm.latencies, 99);
  const base = { rate, gatewayCpu: Number.NaN, loadCoreBusy: Number.NaN };
  if (warm.errors > 0 || !(warmP99 <= opts.p99LimitUs * HOPELESS))
    return { ...base, pass: false, p99: warmP99, errors: warm.errors, achievedRps: warm.achievedRps };
  const seconds = Math.max(opts.stepSeconds, MIN_SAMPLES / rate);
  // CPU is counted while vegeta runs, not while it starts or while its results are decoded.
  let cpu0 = 0;
  let core0 = { busy: 0, total: 0 };
  let t0 = 0;
  let window = { gatewayCpu: Number.NaN, loadCoreBusy: Number.NaN };
  const run = await attack(
    { ...load, seconds },
    {
      started() {
        cpu0 = treeCpuSeconds(gw.pid);
        core0 = coreTimes(opts.loadCpu);
        t0 = performance.now();
      },
      finished() {
        const wall = (performance.now() - t0) / 1000;
        const core1 = coreTimes(opts.loadCpu);
        window = {
          gatewayCpu: (treeCpuSeconds(gw.pid) - cpu0) / wall,
          loadCoreBusy: (core1.busy - core0.busy) / Math.max(1, core1.total - core0.total),
        };
      },
    },
  );
  const p99 = percentile(run.latencies, 99);
  return {
    rate,
    pass: run.errors === 0 && run.ok === run.scheduled && p99 <= opts.p99LimitUs,
    p99,
    errors: run.errors,
    achievedRps: run.achievedRps,
    ...window,
  };
}

/**
 * Starts at `start` and moves by `factor` until it has a passing rate below a failing one, then bisects.
 * Round one starts low with factor 2; later rounds start at the previous answer with a smaller factor,
 * which only changes which rates are tried, not whether each passes.
 */
export async function searchMaxRate(
  tryRate: (rate: number) => Promise<Probe>,
  start: number,
  factor: number,
): Promise<SearchResult> {
  const probes: Probe[] = [];
  const attempt = async (rate: number) => {
    const p = await tryRate(Math.round(rate));
    probes.push(p);
    return p;
  };
  let lo: Probe | undefined;
  let hiRate = Number.POSITIVE_INFINITY;
  const first = await attempt(start);
  if (first.pass) {
    lo = first;
    for (let rate = start * factor; rate <= MAX_RATE; rate *= factor) {
      const p = await attempt(rate);
      if (!p.pass) {
        hiRate = p.rate;
        break;
      }
      lo = p;
    }
  } else {
    hiRate = first.rate;
    for (let rate = start / factor; rate >= MIN_RATE; rate /= factor) {
      const p = await attempt(rate);
      if (p.pass) {
        lo = p;
        break;
      }
      hiRate = p.rate;
    }
  }
  if (lo === undefined) return { maxRate: 0, atMax: undefined, probes };
  while (Number.isFinite(hiRate) && hiRate / lo.rate > PRECISION) {
    const p = await attempt(Math.sqrt(lo.rate * hiRate));
    if (p.pass) lo = p;
    else hiRate = p.rate;
  }
  return { maxRate: lo.rate, atMax: lo, probes };
}

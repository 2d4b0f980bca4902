// Issues #2 and #3: what the sidecar adds per non-streaming request over a direct call, next to what the
// thinnest possible Node proxy adds. Same machine, same run, interleaved rounds, medians reported.
import { inTurns, median, percentile, roundRatios, warmUp } from '../load.ts';
import { here, startNode, startSidecar, type Started } from '../processes.ts';
import { defineSuite, fmt, type BenchConfig, warmedNote } from '../suite.ts';

type Path = 'direct' | 'passthrough' | 'sidecar';
interface P50P99 {
  p50: number;
  p99: number;
}

export interface ProxyOverheadResult {
  requests: number;
  /** Requests (streams) each path served, 8 at a time, before the timed rounds; absent in older results. */
  warmup?: number;
  rounds: number;
  /** Per target: median over rounds of p50 and p99 latency (µs). */
  latency: Record<Path, P50P99>;
  added: Record<'passthrough' | 'sidecar', P50P99>;
  ratioP50: number;
  /** Each round's own p50 ratio, for the spread (absent in results from before rounds took turns). */
  roundRatios?: number[];
}

export async function proxyOverhead(cfg: BenchConfig): Promise<ProxyOverheadResult> {
  const { requests, rounds } = cfg;
  const started: Started[] = [];
  try {
    const upstream = await startNode(here('./upstream-process.ts'));
    started.push(upstream);
    const passthrough = await startNode(here('./passthrough-process.ts'), [upstream.url]);
    started.push(passthrough);
    const sidecar = await startSidecar(upstream.url);
    started.push(sidecar);
    const targets: Record<Path, string> = {
      direct: upstream.url,
      passthrough: passthrough.url,
      sidecar: sidecar.url,
    };
    const paths = Object.keys(targets) as Path[];
    await warmUp(targets, cfg.warmup, 'json');
    await inTurns(targets, Math.min(500, requests), 'json'); // the turns themselves, once untimed
    const samples: Record<Path, number[][]> = { direct: [], passthrough: [], sidecar: [] };
    for (let round = 0; round < rounds; round++) {
      const turns = await inTurns(targets, requests, 'json');
      for (const p of paths) samples[p].push(turns[p].map((x) => x.total));
    }
    const summary = (p: Path): P50P99 => ({
      p50: median(samples[p].map((s) => percentile(s, 50))),
      p99: median(samples[p].map((s) => percentile(s, 99))),
    });
    const latency = {
      direct: summary('direct'),
      passthrough: summary('passthrough'),
      sidecar: summary('sidecar'),
    };
    const addedOf = (p: 'passthrough' | 'sidecar'): P50P99 => ({
      p50: latency[p].p50 - latency.direct.p50,
      p99: latency[p].p99 - latency.direct.p99,
    });
    const added = { passthrough: addedOf('passthrough'), sidecar: addedOf('sidecar') };
    const ratioP50 = added.sidecar.p50 / added.passthrough.p50;
    const ratios = roundRatios(samples.direct, samples.passthrough, samples.sidecar);
    return { requests, warmup: cfg.warmup, rounds, latency, added, ratioP50, roundRatios: ratios };
  } finally {
    for (const s of started.reverse()) await s.stop();
  }
}

export function proxyOverheadMarkdown(r: ProxyOverheadResult): string {
  const row = (name: string, l: P50P99, a?: P50P99) =>
    `| ${name} | ${fmt.us(l.p50)} | ${fmt.us(l.p99)} | ${a ? fmt.us(a.p50) : '—'} | ${a ? fmt.us(a.p99) : '—'} |`;
  return [
    `Closed loop, non-streaming, one keep-alive connection per path, the paths taking turns request by request (each request goes to direct, pass-through and sidecar in rotating order), ${r.requests} requests per path per round, ${r.rounds} rounds; medians of the rounds' percentiles, µs.${warmedNote(r.warmup, 'requests')}`,
    '',
    '| path | p50 | p99 | added p50 | added p99 |',
    '|---|---:|---:|---:|---:|',
    row('direct to fake upstream', r.latency.direct),
    row('bare node:http + undici pass-through', r.latency.passthrough, r.added.passthrough),
    row('Turnout sidecar (turnout dev)', r.latency.sidecar, r.added.sidecar),
    '',
    `Sidecar added p50 / pass-through added p50 = **${fmt.ratio(r.ratioP50)}** (issue #2 target ≤ 1.5×, issue #3 target ≤ 1.25×); the rounds' own ratios: ${fmt.ratios(r.roundRatios)}.`,
  ].join('\n');
}

export const proxyOverheadSuite = defineSuite<ProxyOverheadResult>({
  name: 'proxy-overhead',
  title: 'Sidecar overhead, non-streaming (issues #2, #3)',
  run: proxyOverhead,
  markdown: proxyOverheadMarkdown,
  checks: (r) => [
    {
      metric: 'non-stream added p50, sidecar / pass-through (#2)',
      value: fmt.ratio(r.ratioP50),
      target: '≤ 1.5×',
      pass: r.ratioP50 <= 1.5,
    },
    {
      metric: 'non-stream added p50, sidecar / pass-through (#3)',
      value: fmt.ratio(r.ratioP50),
      target: '≤ 1.25×',
      pass: r.ratioP50 <= 1.25,
    },
  ],
});

// Issue #2's benchmark: what the sidecar adds per request over a direct call, next to what the thinnest
// possible Node proxy adds. Same machine, same run, interleaved rounds, medians reported.
import { closedLoop, median, percentile } from '../load.ts';
import { here, startNode, startSidecar, type Started } from '../processes.ts';

export interface ProxyOverheadResult {
  requests: number;
  rounds: number;
  /** Per target: median over rounds of p50 and p99 latency (µs). */
  latency: Record<'direct' | 'passthrough' | 'sidecar', { p50: number; p99: number }>;
  added: Record<'passthrough' | 'sidecar', { p50: number; p99: number }>;
  ratioP50: number;
}

export async function proxyOverhead(requests: number, rounds: number): Promise<ProxyOverheadResult> {
  const started: Started[] = [];
  try {
    const upstream = await startNode(here('./upstream-process.ts'));
    started.push(upstream);
    const passthrough = await startNode(here('./passthrough-process.ts'), [upstream.url]);
    started.push(passthrough);
    const sidecar = await startSidecar(upstream.url);
    started.push(sidecar);
    const targets = { direct: upstream.url, passthrough: passthrough.url, sidecar: sidecar.url };
    for (const url of Object.values(targets)) await closedLoop(url, Math.min(500, requests)); // warm-up: JIT, pools
    const samples = { direct: [] as number[][], passthrough: [] as number[][], sidecar: [] as number[][] };
    for (let round = 0; round < rounds; round++) {
      for (const name of Object.keys(targets) as (keyof typeof targets)[]) {
        samples[name].push(await closedLoop(targets[name], requests));
      }
    }
    const summary = (name: keyof typeof samples) => ({
      p50: median(samples[name].map((s) => percentile(s, 50))),
      p99: median(samples[name].map((s) => percentile(s, 99))),
    });
    const latency = {
      direct: summary('direct'),
      passthrough: summary('passthrough'),
      sidecar: summary('sidecar'),
    };
    const addedOf = (name: 'passthrough' | 'sidecar') => ({
      p50: latency[name].p50 - latency.direct.p50,
      p99: latency[name].p99 - latency.direct.p99,
    });
    const added = { passthrough: addedOf('passthrough'), sidecar: addedOf('sidecar') };
    return { requests, rounds, latency, added, ratioP50: added.sidecar.p50 / added.passthrough.p50 };
  } finally {
    for (const s of started.reverse()) await s.stop();
  }
}

export function proxyOverheadMarkdown(r: ProxyOverheadResult): string {
  const us = (v: number) => `${Math.round(v)}`;
  const row = (name: string, l: { p50: number; p99: number }, a?: { p50: number; p99: number }) =>
    `| ${name} | ${us(l.p50)} | ${us(l.p99)} | ${a ? us(a.p50) : '—'} | ${a ? us(a.p99) : '—'} |`;
  return [
    `Closed loop, ${r.requests} sequential keep-alive requests per round, ${r.rounds} interleaved rounds; medians of the rounds' percentiles, µs.`,
    '',
    '| path | p50 | p99 | added p50 | added p99 |',
    '|---|---:|---:|---:|---:|',
    row('direct to fake upstream', r.latency.direct),
    row('bare node:http + undici pass-through', r.latency.passthrough, r.added.passthrough),
    row('Turnout sidecar (turnout dev)', r.latency.sidecar, r.added.sidecar),
    '',
    `Sidecar added p50 / pass-through added p50 = **${r.ratioP50.toFixed(2)}×** (target ≤ 1.5×).`,
  ].join('\n');
}

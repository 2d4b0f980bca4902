// Issue #3, streaming: time to first token (the first content event at the client) and total stream time,
// direct vs bare pass-through vs sidecar, with the fake upstream streaming 20 deltas a little apart.
import { inTurns, median, percentile, roundRatios, warmUp, type Exchange } from '../load.ts';
import { here, startNode, startSidecar, type Started } from '../processes.ts';
import { defineSuite, fmt, type BenchConfig, warmedNote } from '../suite.ts';

type Path = 'direct' | 'passthrough' | 'sidecar';
interface Stat {
  p50: number;
  p99: number;
}
interface PathResult {
  /** To the first content event (see Exchange.firstToken). */
  ttft: Stat;
  /** To the first body byte; absent in results recorded before first-token timing. */
  firstByte?: Stat;
  total: Stat;
}

export interface StreamTtftResult {
  streams: number;
  /** Requests (streams) each path served, 8 at a time, before the timed rounds; absent in older results. */
  warmup?: number;
  rounds: number;
  chunks: number;
  chunkDelayMs: number;
  /** Median over rounds of each round's p50/p99, µs. */
  paths: Record<Path, PathResult>;
  addedTtftP50: Record<'passthrough' | 'sidecar', number>;
  addedTotalP50: Record<'passthrough' | 'sidecar', number>;
  ratioTtftP50: number;
  /** Each round's own ratio, for the spread. */
  roundRatios?: number[];
}

const CHUNKS = 20;
const CHUNK_DELAY_MS = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 1);

async function streamTtft(cfg: BenchConfig): Promise<StreamTtftResult> {
  const { streamRequests: streams, rounds } = cfg;
  const started: Started[] = [];
  try {
    const step = JSON.stringify({ kind: 'ok', chunks: CHUNKS, chunkDelayMs: CHUNK_DELAY_MS });
    const upstream = await startNode(here('./upstream-process.ts'), [step]);
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
    await warmUp(targets, cfg.warmup, 'stream');
    await inTurns(targets, Math.min(100, streams), 'stream'); // the turns themselves, once untimed
    const samples: Record<Path, Exchange[][]> = { direct: [], passthrough: [], sidecar: [] };
    for (let round = 0; round < rounds; round++) {
      const turns = await inTurns(targets, streams, 'stream');
      for (const p of paths) samples[p].push(turns[p]);
    }
    // One series per round of one path: its TTFTs or its totals.
    const series = (p: Path, k: keyof Exchange) => samples[p].map((round) => round.map((x) => x[k]));
    const stat = (p: Path, k: keyof Exchange): Stat => ({
      p50: median(series(p, k).map((s) => percentile(s, 50))),
      p99: median(series(p, k).map((s) => percentile(s, 99))),
    });
    const result = (p: Path): PathResult => ({
      ttft: stat(p, 'firstToken'),
      firstByte: stat(p, 'first'),
      total: stat(p, 'total'),
    });
    const out = { direct: result('direct'), passthrough: result('passthrough'), sidecar: result('sidecar') };
    const added = (k: 'ttft' | 'total') => ({
      passthrough: out.passthrough[k].p50 - out.direct[k].p50,
      sidecar: out.sidecar[k].p50 - out.direct[k].p50,
    });
    const addedTtftP50 = added('ttft');
    return {
      streams,
      warmup: cfg.warmup,
      rounds,
      chunks: CHUNKS,
      chunkDelayMs: CHUNK_DELAY_MS,
      paths: out,
      addedTtftP50,
      addedTotalP50: added('total'),
      ratioTtftP50: addedTtftP50.sidecar / addedTtftP50.passthrough,
      roundRatios: roundRatios(
        series('direct', 'firstToken'),
        series('passthrough', 'firstToken'),
        series('sidecar', 'firstToken'),
      ),
    };
  } finally {
    for (const s of started.reverse()) await s.stop();
  }
}

function markdown(r: StreamTtftResult): string {
  const row = (name: string, p: Path) => {
    const x = r.paths[p];
    const addT = p === 'direct' ? '—' : fmt.us(r.addedTtftP50[p]);
    const addS = p === 'direct' ? '—' : fmt.us(r.addedTotalP50[p]);
    const byte = x.firstByte ? fmt.us(x.firstByte.p50) : '—';
    return `| ${name} | ${fmt.us(x.ttft.p50)} | ${fmt.us(x.ttft.p99)} | ${addT} | ${byte} | ${fmt.us(x.total.p50)} | ${fmt.us(x.total.p99)} | ${addS} |`;
  };
  return [
    `Closed loop, streaming (\`stream: true\`), one keep-alive connection per path, the paths taking turns stream by stream (each stream goes to direct, pass-through and sidecar in rotating order), ${r.streams} streams per path per round, ${r.rounds} rounds.${warmedNote(r.warmup, 'streams')} The fake streams ${r.chunks} content deltas ${r.chunkDelayMs} ms apart. TTFT is send → the first event carrying a token (content or a tool call) at the client, as LLM serving benchmarks time it (vLLM's benchmark_serving does the same): an OpenAI stream opens with a role-only chunk that carries no token, which the pass-through forwards at once and the sidecar holds until the answer starts (so that a stream that opens and then stalls or errors still fails over). First byte is send → the first body byte, for reference. Total is send → last byte (each stream is checked to end with \`[DONE]\`). Medians of the rounds' percentiles, µs.`,
    '',
    '| path | TTFT p50 | TTFT p99 | added TTFT p50 | first byte p50 | total p50 | total p99 | added total p50 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('direct to fake upstream', 'direct'),
    row('bare node:http + undici pass-through', 'passthrough'),
    row('Turnout sidecar (turnout dev)', 'sidecar'),
    '',
    `Sidecar added TTFT p50 / pass-through added TTFT p50 = **${fmt.ratio(r.ratioTtftP50)}** (issue #3 target ≤ 1.25×); the rounds' own ratios: ${fmt.ratios(r.roundRatios)}.`,
  ].join('\n');
}

export const streamTtftSuite = defineSuite<StreamTtftResult>({
  name: 'stream-ttft',
  title: 'Sidecar overhead, streaming time to first token (issue #3)',
  run: streamTtft,
  markdown,
  checks: (r) => [
    {
      metric: 'stream added TTFT p50, sidecar / pass-through (#3)',
      value: fmt.ratio(r.ratioTtftP50),
      target: '≤ 1.25×',
      pass: r.ratioTtftP50 <= 1.25,
    },
  ],
});

// The RESULTS.md section of the sidecar-memory-limit suite: one column per container limit, each
// summarising that limit's rounds, and which limits held the load in every round.
import { percentile } from '../load.ts';
import { fmt } from '../suite.ts';
import type { LimitRun, MemoryLimitResult } from './sidecar-memory-limit.ts';

/** Served every request of the load with no OOM kill. */
const held = (r: LimitRun) =>
  r.failed === undefined && r.errors === 0 && r.killed === false && r.cgroup?.oomKills === 0;

const measured = (runs: readonly LimitRun[]) => runs.filter((x) => x.failed === undefined);
const median = (values: number[]) => (values.length === 0 ? NaN : percentile(values, 50));
const maxOf = (values: number[]) => (values.length === 0 ? NaN : Math.max(...values));

/** Each limit's runs, in the order the limits were tried. */
function byLimit(runs: readonly LimitRun[]): [number, LimitRun[]][] {
  const groups = new Map<number, LimitRun[]>();
  for (const run of runs) groups.set(run.limitMiB, [...(groups.get(run.limitMiB) ?? []), run]);
  return [...groups];
}

/** The smallest limit that held in every round, the ones that held only sometimes, and one that never did. */
function conclusion(groups: [number, LimitRun[]][], seconds: number): string {
  const always = groups.find(([, runs]) => runs.every(held));
  if (!always) return 'No limit tried served every request in every round.';
  const [limit, runs] = always;
  const p99s = runs.map((x) => fmt.ms((x.latency?.p99 ?? NaN) / 1000)).join(', ');
  const lines = [
    `Smallest limit tried that served every request with no OOM kill in all ${runs.length} rounds: **${limit} MiB** (p99 ${p99s} ms).`,
  ];
  const sometimes = groups.filter(([l, rs]) => l < limit && rs.some(held));
  for (const [l, rs] of sometimes)
    lines.push(`${l} MiB held in ${rs.filter(held).length} of ${rs.length} rounds.`);
  const never = groups.filter(([l, rs]) => l < limit && !rs.some(held) && measured(rs).length > 0).at(-1);
  if (never) {
    const [l, rs] = never;
    const m = measured(rs);
    lines.push(
      `At ${l} MiB the kernel met the limit ${fmt.count(median(m.map((x) => x.cgroup?.limitHits ?? NaN)))} times and read code pages back from disk ${fmt.count(median(m.map((x) => x.majorFaults ?? NaN)))} times in the ${seconds} s (medians), and ${m.map((x) => `${x.errors} of ${(x.ok ?? 0) + (x.errors ?? 0)}`).join(', ')} requests failed.`,
    );
  }
  return lines.join(' ');
}

export function memoryLimitMarkdown(r: MemoryLimitResult): string {
  if (r.unavailable !== undefined) return `Not measured: ${r.unavailable}.`;
  const groups = byLimit(r.runs);
  const rounds = Math.max(0, ...groups.map(([, runs]) => runs.length));
  const row = (name: string, f: (runs: LimitRun[]) => string) =>
    `| ${name} | ${groups.map(([, runs]) => (measured(runs).length === 0 ? '—' : f(runs))).join(' | ')} |`;
  const perRound = (f: (x: LimitRun) => string) => (runs: LimitRun[]) =>
    runs.map((x) => (x.failed === undefined ? f(x) : '—')).join(', ');
  const failures = r.runs.filter((x) => x.failed !== undefined);
  const { connections, idleMs, warmupS, seconds } = r.load;
  return [
    `\`turnout sidecar\` started as in the sidecar-rss suite (policy pushed by the real push server, built JS), but inside a memory cgroup limited to each container limit below, with the Node settings the injector derives from that limit (\`sidecar/node-options.ts\`), and running a copy of the node binary none of whose pages were in memory, so the sidecar is charged for the code it faults in, as a pod with its own image layer is (pods sharing an image layer on a node may share those pages). Idle ${idleMs / 1000} s, then ${r.rps} non-streaming req/s from vegeta over at most ${connections} connections: ${warmupS} s of warm-up, ${seconds} s measured. ${rounds} rounds, the limits taking turns, each run a fresh process in a fresh cgroup; per-round figures are listed in round order. The cgroup's peak counts everything the kernel charged to it (anonymous memory, page cache, kernel memory); "limit hits" is how often a charge met the limit and the kernel had to reclaim first.`,
    '',
    `| container memory limit | ${groups.map(([l]) => `${l} MiB`).join(' | ')} |`,
    `|---|${groups.map(() => '---:').join('|')}|`,
    row(
      '`--max-old-space-size` (MiB)',
      (runs) => /--max-old-space-size=(\d+)/.exec(runs[0]?.env.NODE_OPTIONS ?? '')?.[1] ?? '—',
    ),
    row(
      'rounds with every request served, no OOM kill',
      (runs) => `${runs.filter(held).length} / ${runs.length}`,
    ),
    row(
      'errors per round',
      perRound((x) => String(x.errors)),
    ),
    row(
      'p99 per round, ms',
      perRound((x) => (x.ok ? fmt.ms((x.latency?.p99 ?? NaN) / 1000) : '—')),
    ),
    row('cgroup peak, max of rounds, MB', (runs) =>
      fmt.mb(maxOf(measured(runs).map((x) => x.cgroup?.peakBytes ?? NaN))),
    ),
    row('VmRSS max under load, max of rounds, MB', (runs) =>
      fmt.mb(maxOf(measured(runs).map((x) => x.rssMax ?? NaN))),
    ),
    row('limit hits (reclaims), median', (runs) =>
      fmt.count(median(measured(runs).map((x) => x.cgroup?.limitHits ?? NaN))),
    ),
    row('major page faults in the measured window, median', (runs) =>
      fmt.count(median(measured(runs).map((x) => x.majorFaults ?? NaN))),
    ),
    row('OOM kills, all rounds', (runs) =>
      String(measured(runs).reduce((sum, x) => sum + (x.cgroup?.oomKills ?? 0), 0)),
    ),
    '',
    ...failures.map(
      (x) => `At ${x.limitMiB} MiB (round ${(x.round ?? 0) + 1}) the sidecar did not start: ${x.failed}`,
    ),
    ...(failures.length > 0 ? [''] : []),
    conclusion(groups, r.load.seconds),
  ].join('\n');
}

// bench/SOAK.md: the verdicts of the last soak run, its load, its errors and its memory over time.
import { percentile } from '../load.ts';
import type { Failure, LoadTotals } from './load.ts';
import {
  FD_IDLE_SLACK,
  isInternalErrorLine,
  RSS_TOLERANCE,
  tally,
  type Flatness,
  type Sample,
} from './verdict.ts';

/** µs from each call's due time to its last byte, successful calls only. */
interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

export interface SoakRecord {
  date: string;
  machine: string;
  command: string;
  knobs: {
    seconds: number;
    rps: number;
    faultRate: number;
    connections: number;
    sampleS: number;
    settleS: number;
  };
  sidecar: string;
  cpuBusyBefore: number;
  loadavg: { before: number; after: number };
  totals: Omit<LoadTotals, 'latencies'>;
  latency: { stream: LatencySummary; json: LatencySummary };
  explained: Failure[];
  unexplained: Failure[];
  injected: Record<string, number>;
  primaryRequests: number;
  decisions: {
    byStatus: Record<string, number>;
    failedOver: number;
    /** Where the decision log and the callers disagree (verdict.ts); absent in records from before the check. */
    disagreements?: string[];
  };
  stderr: string[];
  /** Internal errors on the sidecar's stderr; absent in records from before the count (then: its first lines). */
  internalErrors?: number;
  samples: Sample[];
  /** Idle samples: before the load, and every few seconds after it until its connections expired. */
  idle: { before: Sample; after: Sample; settle: Sample[] };
  flat: Flatness;
  exitCode: number | null;
}

const fdsSettled = (r: SoakRecord) => r.idle.after.fds <= r.idle.before.fds + FD_IDLE_SLACK;

/** Internal errors the sidecar reported: a bug, whatever the callers saw. */
export const internalErrors = (r: SoakRecord): number =>
  r.internalErrors ?? r.stderr.filter(isInternalErrorLine).length;

const logAgrees = (r: SoakRecord) => (r.decisions.disagreements ?? []).length === 0;

export function passed(r: SoakRecord): boolean {
  return (
    r.unexplained.length === 0 &&
    internalErrors(r) === 0 &&
    logAgrees(r) &&
    r.flat.rssFlat &&
    fdsSettled(r) &&
    r.exitCode === 0
  );
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const ms = (us: number) => (us / 1000).toFixed(1);
const verdict = (pass: boolean) => (pass ? 'pass' : '**FAIL**');
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

function verdicts(r: SoakRecord): string[] {
  const f = r.flat;
  const errors = r.explained.length + r.unexplained.length;
  const w = Math.round(f.windowS);
  return [
    '| check | value | target | result |',
    '|---|---|---|---|',
    `| unexplained errors | ${r.unexplained.length} (of ${errors} errors; ${r.explained.length} explained) | 0 | ${verdict(r.unexplained.length === 0)} |`,
    `| internal errors on the sidecar's stderr | ${internalErrors(r)} | 0 | ${verdict(internalErrors(r) === 0)} |`,
    r.decisions.disagreements === undefined
      ? '| decision log agrees with what callers saw | not checked (the record predates the check) | every class equal | — |'
      : `| decision log agrees with what callers saw | ${r.decisions.disagreements.join('; ') || 'every class equal'} | every class equal | ${verdict(logAgrees(r))} |`,
    `| RSS flat after warm-up | median ${mb(f.baseline.rss)} MB at ${w}–${2 * w} s → ${mb(f.final.rss)} MB over the last ${w} s (${pct(f.rssChange)}) | within ±${RSS_TOLERANCE * 100}% | ${verdict(f.rssFlat)} |`,
    `| no file-descriptor growth: idle before the load vs idle after it (${r.knobs.settleS} s for its connections to expire) | ${r.idle.before.fds} → ${r.idle.after.fds} | ≤ +${FD_IDLE_SLACK} | ${verdict(fdsSettled(r))} |`,
    `| descriptors under load (follow concurrency; not judged) | median ${f.baseline.fds} at ${w}–${2 * w} s → ${f.final.fds} over the last ${w} s (max ${f.final.fdsMax}) | growth ≤ ${f.fdSlack} | ${f.fdFlat ? 'flat' : 'not flat'} |`,
    `| graceful exit after the run (SIGTERM) | exit code ${r.exitCode} | 0 | ${verdict(r.exitCode === 0)} |`,
  ];
}

function load(r: SoakRecord): string[] {
  const t = r.totals;
  const ok = t.ok.stream + t.ok.json;
  const lat = (l: LatencySummary) => `p50 ${ms(l.p50)} ms, p99 ${ms(l.p99)} ms, max ${ms(l.max)} ms`;
  const injected = Object.entries(r.injected)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const totalInjected = Object.values(r.injected).reduce((a, b) => a + b, 0);
  const statuses = Object.entries(r.decisions.byStatus)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  return [
    `- ${t.scheduled} calls due over ${r.knobs.seconds} s; sending and answering them took ${t.seconds.toFixed(0)} s (${(t.scheduled / t.seconds).toFixed(0)} req/s achieved${t.seconds > r.knobs.seconds * 1.02 ? ': the load generator fell behind on the busy machine' : ''}), every other one streaming; ${ok} answered in full and checked (${t.ok.stream} streams, ${t.ok.json} JSON).`,
    `- Latency from each call's due time to its last byte: streams ${lat(r.latency.stream)}; JSON ${lat(r.latency.json)}.`,
    `- Faults injected on the primary (simulated): ${totalInjected} of its ${r.primaryRequests} requests (${((100 * totalInjected) / Math.max(1, r.primaryRequests)).toFixed(2)}%): ${injected || 'none'} ("status" is a 500 or a 429, half of the 429s with Retry-After: 1; "reset" closes the connection before headers; "cut-stream" ends the answer after 1–7 of its 8 deltas).`,
    `- The sidecar's decision log: ${statuses}; ${r.decisions.failedOver} calls took more than one attempt (failover to the secondary).`,
    ...(r.stderr.length > 0
      ? [`- The sidecar's stderr (first lines): \`${r.stderr.slice(0, 5).join(' | ')}\``]
      : []),
  ];
}

function errors(r: SoakRecord): string[] {
  const rows = (label: string, list: Failure[]) =>
    tally(list).map(([key, n]) => `| ${label} | ${key} | ${n} |`);
  const examples = r.unexplained
    .slice(0, 10)
    .map((f) => `- #${f.id}: ${f.kind}${f.status ? ` ${f.status}` : ''} ${f.code ?? ''} ${f.message ?? ''}`);
  return [
    '| class | what the caller saw | calls |',
    '|---|---|---:|',
    ...rows('explained', r.explained),
    ...rows('**unexplained**', r.unexplained),
    ...(examples.length > 0 ? ['', 'First unexplained errors:', '', ...examples] : []),
  ];
}

function timeline(samples: readonly Sample[]): string[] {
  const minute = 60;
  const end = Math.max(...samples.map((s) => s.t));
  const rows = [
    '| window | RSS median | V8 heap used median | fds median / max | calls in flight, median |',
    '|---|---:|---:|---:|---:|',
  ];
  for (let from = 0; from < end; from += minute) {
    const set = samples.filter((s) => s.t >= from && s.t < from + minute);
    if (set.length === 0) continue;
    const med = (k: 'rss' | 'heapUsed' | 'fds' | 'inflight') =>
      percentile(
        set.map((s) => s[k]),
        50,
      );
    rows.push(
      `| ${from}–${Math.min(from + minute, Math.ceil(end))} s | ${mb(med('rss'))} MB | ${mb(med('heapUsed'))} MB | ${med('fds')} / ${Math.max(...set.map((s) => s.fds))} | ${med('inflight')} |`,
    );
  }
  return rows;
}

export function soakMarkdown(r: SoakRecord): string {
  const k = r.knobs;
  return [
    '# Soak results',
    '',
    'Generated by `npm run soak` (bench/soak.ts; how it works and how it judges: docs/benchmarks-soak.md). Do not edit by hand.',
    '',
    `Date: ${r.date}  `,
    `Machine: ${r.machine}  `,
    `Command: \`${r.command}\`  `,
    `Run: ${k.seconds} s at ${k.rps} req/s over ${k.connections} keep-alive connections, ${k.faultRate * 100}% of the primary's requests faulted, samples every ${k.sampleS} s; sidecar: \`turnout dev\`, ${r.sidecar}.  `,
    `Other work on the machine: CPUs ${Math.round(r.cpuBusyBefore * 100)}% busy just before the run; 1-minute load average ${r.loadavg.before.toFixed(2)} before, ${r.loadavg.after.toFixed(2)} after (2 = both cores busy, the soak's own processes included).`,
    '',
    '## Verdicts',
    '',
    ...verdicts(r),
    '',
    '## Load',
    '',
    ...load(r),
    '',
    '## Errors',
    '',
    ...errors(r),
    '',
    '## Memory and descriptors, per minute',
    '',
    ...timeline(r.samples),
    '',
    `Idle: ${r.idle.before.fds} descriptors and ${mb(r.idle.before.rss)} MB RSS before the load; after it, ${r.idle.settle.map((s) => s.fds).join(', ')} descriptors every ${r.knobs.sampleS} s (RSS ${mb(r.idle.after.rss)} MB at the end).`,
    '',
  ].join('\n');
}

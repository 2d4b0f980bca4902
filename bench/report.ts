// bench/out/<suite>.json records and the RESULTS.md built from them. Every suite's latest record is
// rendered, so a BENCH_ONLY run refreshes its sections and keeps the others, each labelled with its run.
import { readFile, writeFile } from 'node:fs/promises';
import { here } from './processes.ts';
import type { AnySuite } from './suite.ts';
import { carried, readPrevious, type CarriedSuite } from './report-carry.ts';

export const RECORD_FORMAT = 3;

export interface SuiteRecord {
  format: number;
  suite: string;
  /** ISO time the suite finished. */
  date: string;
  machine: string;
  command: string;
  seconds: number;
  /** 1-minute load average before and after: other work on the machine skews latency numbers. */
  loadavg: { before: number; after: number };
  /** Share of all CPUs busy with other work in the 2 s before the suite started. */
  cpuBusyBefore: number;
  result?: unknown;
  error?: string;
}

export const recordPath = (suite: string) => here(`./out/${suite}.json`);

export async function readRecord(suite: string): Promise<SuiteRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(recordPath(suite), 'utf8')) as Partial<SuiteRecord>;
    return r.format === RECORD_FORMAT && r.suite === suite ? (r as SuiteRecord) : undefined;
  } catch {
    return undefined;
  }
}

const HOW_TO_READ = `## How to read this

Each section below is one suite (\`bench/suites/<name>.ts\`); its raw numbers are in
\`bench/out/<name>.json\` (not committed). Targets come from the issues and are judged here, in the
summary table, never in tests. Latency suites run every server in its own process on 127.0.0.1 and the
load generator (undici) in the bench process, all on one machine, so they compare paths measured side by
side in one run rather than claim absolute numbers: "added" is a path's latency minus the direct path's,
and the ratios divide what the sidecar adds by what a bare Node pass-through adds. Closed-loop numbers
are medians over interleaved rounds; in the sidecar suites the paths also take turns request by request,
so a busy or slow moment of the machine lands on every path alike. Open-loop latency counts from when
each request was due, so queueing shows. The machine may be shared: each section says how busy the CPUs were with other work just
before it started, and the 1-minute load average before and after (2 means both cores busy); a high
figure means latency tails are partly other work (\`BENCH_QUIET_CPU=0.25\` makes each suite wait for a
quieter moment). Memory is VmRSS as the kernel reports it (what a pod's memory limit is compared with);
the V8 heap figures beside it tell live data apart from heap the garbage collector keeps around.`;

interface Entry {
  suite: AnySuite;
  record?: SuiteRecord;
  carried?: CarriedSuite;
}

function summary(rows: Entry[]): string {
  const lines = ['| suite | metric | value | target | result |', '|---|---|---:|---:|---|'];
  for (const { suite, record, carried } of rows) {
    if (!record) {
      lines.push(...(carried?.rows ?? []));
      continue;
    }
    if (record.error !== undefined) {
      lines.push(`| ${suite.name} | — | failed to run | — | **ERROR** |`);
      continue;
    }
    const checks = readable(() => suite.checks(record.result));
    if (checks === undefined) {
      lines.push(`| ${suite.name} | — | ${STALE} | — | **RERUN** |`);
      continue;
    }
    for (const c of checks)
      lines.push(
        `| ${suite.name} | ${c.metric} | ${c.value} | ${c.target} | ${c.pass ? 'pass' : '**FAIL**'} |`,
      );
  }
  return lines.join('\n');
}

function section(suite: AnySuite, record: SuiteRecord | undefined): string {
  const head = `## ${suite.title}\n\nSuite \`${suite.name}\``;
  if (!record) return `${head}: no result recorded yet (\`BENCH_ONLY=${suite.name} npm run bench\`).`;
  const run = `${head}, run ${record.date.slice(0, 16).replace('T', ' ')} UTC with \`${record.command}\` in ${Math.round(record.seconds)} s; CPUs ${Math.round(record.cpuBusyBefore * 100)}% busy with other work just before; load average ${record.loadavg.before.toFixed(2)} before, ${record.loadavg.after.toFixed(2)} after.`;
  if (record.error !== undefined) return `${run}\n\n**The suite failed:** ${record.error}`;
  return `${run}\n\n${readable(() => suite.markdown(record.result)) ?? `**${STALE}.**`}`;
}

const STALE = 'recorded by an older version of this suite; rerun it';

/** A record written before its suite's result shape changed cannot be read: say so rather than crash. */
function readable<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

export async function writeResults(suites: readonly AnySuite[]): Promise<void> {
  const previous = await readPrevious(here('./RESULTS.md'));
  const records: Entry[] = await Promise.all(
    suites.map(async (suite) => {
      const record = await readRecord(suite.name);
      if (record) return { suite, record };
      const kept = carried(previous, suite);
      return kept ? { suite, carried: kept } : { suite };
    }),
  );
  const present = records.flatMap((r) => (r.record ? [{ suite: r.suite, record: r.record }] : []));
  const kept = records.flatMap((r) => (r.carried ? [r.carried] : []));
  const machines = [...new Set(present.map((r) => r.record.machine))];
  const commands = [
    ...new Set([
      ...present.map((r) => r.record.command),
      ...kept.flatMap((c) => (c.command ? [c.command] : [])),
    ]),
  ];
  const dates = [
    ...present.map((r) => r.record.date.slice(0, 10)),
    ...kept.flatMap((c) => (c.date ? [c.date] : [])),
  ].sort();
  const doc = [
    '# Benchmark results',
    '',
    `Machine: ${machines.join('; ') || 'unknown'}`,
    `Date: ${dates.length > 0 ? [...new Set([dates[0], dates.at(-1)])].join(' – ') : 'none'}`,
    `Command${commands.length > 1 ? 's' : ''}: ${commands.map((c) => `\`${c}\``).join(', ') || '—'} (each section names its own)`,
    '',
    'Generated by `npm run bench` (bench/run.ts); do not edit by hand. Environment knobs: `BENCH_REQUESTS`',
    '(non-streaming requests per round, default 2000), `BENCH_STREAM_REQUESTS` (streams per round, 200),',
    '`BENCH_ROUNDS` (5), `BENCH_WARMUP` (requests or streams each path serves before a closed-loop latency',
    'suite times anything, 4000), `BENCH_LOAD_SECONDS` (20), `BENCH_RPS` (1000), `BENCH_MEMORY_LIMITS_MIB` (container',
    'limits the memory-limit suite tries, 80,88,96,112,128,160,256), `BENCH_ONLY=suite1,suite2`, and',
    '`BENCH_ENFORCE=1` to exit non-zero when a target is missed; `BENCH_QUIET_CPU=0.25` waits before each suite',
    'until other work leaves the CPUs ≤ 25% busy (at most `BENCH_QUIET_WAIT_S`, 600 s); `BENCH_REPORT_ONLY=1`',
    'rebuilds this file from bench/out without running anything.',
    ...(kept.length > 0
      ? [
          '',
          `${kept.length} section${kept.length > 1 ? 's were' : ' was'} not rerun here (no record in bench/out): ${kept.length > 1 ? 'they are' : 'it is'} carried from the previous RESULTS.md with ${kept.length > 1 ? 'their' : 'its'} own run date and command.`,
        ]
      : []),
    '',
    '## Targets',
    '',
    summary(records),
    '',
    HOW_TO_READ,
    '',
    ...records.map((r) => `${r.carried && !r.record ? r.carried.section : section(r.suite, r.record)}\n`),
  ].join('\n');
  await writeFile(here('./RESULTS.md'), doc);
}

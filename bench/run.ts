// `npm run bench`: runs the suites (all, or BENCH_ONLY=a,b), writes bench/out/<suite>.json, and rewrites
// bench/RESULTS.md from the latest record of every suite. BENCH_ENFORCE=1 exits 1 if this run missed a target.
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { commandLine, configFromEnv } from './config.ts';
import { machineLine } from './machine.ts';
import { here } from './processes.ts';
import { waitForQuiet } from './quiet.ts';
import { RECORD_FORMAT, recordPath, writeResults, type SuiteRecord } from './report.ts';
import { SUITES } from './suites/index.ts';

const cfg = configFromEnv();
const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = only.filter((name) => !SUITES.some((s) => s.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown suite ${unknown.join(', ')}; suites: ${SUITES.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
// BENCH_REPORT_ONLY=1 runs nothing: RESULTS.md is rebuilt from the records already in bench/out.
const selected =
  process.env.BENCH_REPORT_ONLY === '1'
    ? []
    : only.length > 0
      ? SUITES.filter((s) => only.includes(s.name))
      : SUITES.filter((s) => s.optIn !== true);

await mkdir(here('./out'), { recursive: true });
let missed = 0;
for (const suite of selected) {
  const quiet = await waitForQuiet((line) => process.stderr.write(`${line}\n`));
  process.stderr.write(`bench: ${suite.name} … (CPUs ${Math.round(quiet.busy * 100)}% busy before)\n`);
  const started = performance.now();
  const before = loadavg()[0] ?? 0;
  const record: SuiteRecord = {
    format: RECORD_FORMAT,
    suite: suite.name,
    date: '',
    machine: machineLine(),
    command: commandLine(),
    seconds: 0,
    loadavg: { before, after: 0 },
    cpuBusyBefore: quiet.busy,
  };
  try {
    record.result = await suite.run(cfg);
    const failed = suite.checks(record.result).filter((c) => !c.pass);
    missed += failed.length;
    process.stdout.write(`\n## ${suite.title}\n\n${suite.markdown(record.result)}\n`);
    for (const c of failed) process.stdout.write(`MISSED: ${c.metric}: ${c.value} (target ${c.target})\n`);
  } catch (e) {
    record.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`bench: ${suite.name} failed: ${record.error}\n`);
    process.exitCode = 1;
  }
  record.date = new Date().toISOString();
  record.seconds = (performance.now() - started) / 1000;
  record.loadavg.after = loadavg()[0] ?? 0;
  await writeFile(recordPath(suite.name), JSON.stringify(record, null, 2));
}
await writeResults(SUITES);
process.stderr.write(
  `bench: wrote bench/RESULTS.md (${missed} target${missed === 1 ? '' : 's'} missed in this run)\n`,
);
if (process.env.BENCH_ENFORCE === '1' && missed > 0) process.exitCode = 1;

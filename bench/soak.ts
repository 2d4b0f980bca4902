// `npm run soak`: `turnout dev` (built JS, as shipped) in front of a simulated primary that fails a share
// of requests and a healthy fallback, under an open loop of mixed streaming and non-streaming calls for
// a long run. Judges: zero unexplained errors, no internal error, a decision log that agrees with what
// the callers saw, RSS flat, no descriptor growth (bench/soak/verdict.ts).
// Writes bench/out/soak.json and bench/SOAK.md (SOAK_REPORT_ONLY=1 rebuilds SOAK.md from the JSON).
// Knobs: SOAK_SECONDS (600), SOAK_RPS (500), SOAK_FAULT_RATE (0.05), SOAK_CONNECTIONS (64),
// SOAK_SAMPLE_S (5), SOAK_SETTLE_S (75), SOAK_ENFORCE=1 (exit 1 on a miss).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { buildForBench } from './build.ts';
import { percentile } from './load.ts';
import { machineLine } from './machine.ts';
import { here } from './processes.ts';
import { waitForQuiet } from './quiet.ts';
import { sleep } from './rss.ts';
import { soakLoad, type LoadStatus } from './soak/load.ts';
import { startSoakSidecar, startUpstream, type SoakSidecar } from './soak/processes.ts';
import { passed, soakMarkdown, type SoakRecord } from './soak/report.ts';
import { callerClasses, disagreements, flatness, isExplained, type Sample } from './soak/verdict.ts';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const log = (line: string) => process.stderr.write(`soak: ${line}\n`);
const RECORD = here('./out/soak.json');

/** Sorting copies: fine once per run, and free of Math.max(...hugeArray)'s stack limit. */
const summary = (l: Float64Array) => ({
  p50: percentile([...l], 50),
  p99: percentile([...l], 99),
  max: l.reduce((a, b) => Math.max(a, b), 0),
});

async function run(): Promise<SoakRecord> {
  const knobs = {
    seconds: num('SOAK_SECONDS', 600),
    rps: num('SOAK_RPS', 500),
    faultRate: num('SOAK_FAULT_RATE', 0.05),
    connections: num('SOAK_CONNECTIONS', 64),
    sampleS: num('SOAK_SAMPLE_S', 5),
    settleS: num('SOAK_SETTLE_S', 75),
  };
  const quiet = await waitForQuiet(log);
  const loadBefore = loadavg()[0] ?? 0;
  const build = await buildForBench();
  const cli = build.cli ?? here('../cli/main.ts');
  log(`sidecar: ${build.cli ? 'built JS' : `TypeScript source (${build.note})`}`);
  const upstream = await startUpstream(knobs.faultRate);
  let sidecar: SoakSidecar | undefined;
  let exitCode: number | null = null;
  try {
    sidecar = await startSoakSidecar(cli, upstream.primaryUrl, upstream.secondaryUrl);
    const s = sidecar;
    await sleep(3000);
    const idleBefore = await s.sample(0, 0);
    const status: LoadStatus = { sent: 0, inflight: 0 };
    const samples: Sample[] = [];
    const t0 = performance.now();
    const sampleNow = async () =>
      samples.push(await s.sample((performance.now() - t0) / 1000, status.inflight));
    await sampleNow();
    const sampler = setInterval(() => void sampleNow().catch(() => undefined), knobs.sampleS * 1000);
    log(`${knobs.seconds} s at ${knobs.rps} req/s, faults ${knobs.faultRate * 100}%, sidecar pid ${s.pid}`);
    const totals = await soakLoad(
      `${s.url}/v1`,
      {
        ...knobs,
        onProgress: (sent) => {
          const last = samples.at(-1);
          if (sent % (knobs.rps * 60) < knobs.rps && last)
            log(
              `${Math.round(sent / knobs.rps)} s due, ${last.t.toFixed(0)} s run: RSS ${(last.rss / 2 ** 20).toFixed(1)} MB, ${last.fds} fds, ${last.inflight} in flight`,
            );
        },
      },
      status,
    );
    clearInterval(sampler);
    await sampleNow();
    // Idle again: the load's connections are closed; upstream connections expire after their keep-alive.
    const settle: Sample[] = [];
    const settleStart = performance.now();
    while (performance.now() - settleStart < knobs.settleS * 1000) {
      await sleep(knobs.sampleS * 1000);
      settle.push(await s.sample((performance.now() - t0) / 1000, 0));
    }
    exitCode = await s.stop();
    // The upstream reports its faults every 250 ms; its last report came during the settle time.
    const explained = totals.failures.filter((f) => isExplained(f, upstream.faults));
    const unexplained = totals.failures.filter((f) => !isExplained(f, upstream.faults));
    const { latencies, ...counts } = totals;
    return {
      date: new Date().toISOString(),
      machine: machineLine(),
      command: `${Object.entries(process.env)
        .filter(([k]) => k.startsWith('SOAK_') || k.startsWith('BENCH_QUIET'))
        .map(([k, v]) => `${k}=${v} `)
        .join('')}npm run soak`,
      knobs,
      sidecar: build.cli ? 'built JS (bench/out/dist)' : `TypeScript source: ${build.note}`,
      cpuBusyBefore: quiet.busy,
      loadavg: { before: loadBefore, after: loadavg()[0] ?? 0 },
      totals: counts,
      latency: { stream: summary(latencies.stream), json: summary(latencies.json) },
      explained,
      unexplained,
      injected: Object.fromEntries(upstream.injected),
      primaryRequests: upstream.primaryCount(),
      decisions: {
        byStatus: Object.fromEntries(s.decisions.byStatus),
        failedOver: s.decisions.failedOver,
        // Read once the sidecar has exited: its last decision lines were flushed on the way out.
        disagreements: disagreements(callerClasses(totals), s.decisions.byClass),
      },
      stderr: s.stderr.slice(0, 50),
      internalErrors: s.internalErrors(),
      samples,
      idle: { before: idleBefore, after: settle.at(-1) ?? idleBefore, settle },
      flat: flatness(samples, totals.seconds),
      exitCode,
    };
  } finally {
    if (sidecar && exitCode === null) await sidecar.stop();
    await upstream.stop();
    if (sidecar) await rm(sidecar.configDir, { recursive: true, force: true });
  }
}

let record: SoakRecord;
if (process.env.SOAK_REPORT_ONLY === '1') record = JSON.parse(await readFile(RECORD, 'utf8')) as SoakRecord;
else {
  record = await run();
  await mkdir(here('./out'), { recursive: true });
  await writeFile(RECORD, JSON.stringify(record));
}
const markdown = soakMarkdown(record);
await writeFile(here('./SOAK.md'), markdown);
process.stdout.write(markdown);
if (!passed(record) && process.env.SOAK_ENFORCE === '1') process.exitCode = 1;

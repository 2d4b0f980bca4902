// Sidecar under a memory limit: `turnout sidecar` as a pod runs it (pushed policy, pod settings derived
// from the limit by the injector's own code), started inside a memory cgroup limited to each of a few
// container limits, then the sidecar-rss suite's open loop. VmRSS alone does not say what limit a pod
// needs: part of it is the node binary's code, which the kernel can drop and re-read under pressure.
// This says which limits actually hold the load, and what holding it costs there.
import { execFile } from 'node:child_process';
import { chmod, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { sidecarNodeEnv, type SidecarNodeEnv } from '../../sidecar/node-options.ts';
import { buildForBench } from '../build.ts';
import { createMemoryCgroup, type CgroupStats } from '../cgroup.ts';
import { CHAT_BODY, percentile } from '../load.ts';
import { attack } from '../peers/vegeta.ts';
import { startPodSidecar } from '../pod-sidecar.ts';
import { here, startNode } from '../processes.ts';
import { waitForQuiet } from '../quiet.ts';
import { readRss, sleep } from '../rss.ts';
import { defineSuite, type BenchConfig } from '../suite.ts';
import { memoryLimitMarkdown } from './sidecar-memory-limit-report.ts';

/**
 * Container memory limits tried, MiB (BENCH_MEMORY_LIMITS_MIB, comma-separated): from below what the
 * sidecar touches up to the chart's default.
 */
function limitsMiB(): number[] {
  const text = process.env.BENCH_MEMORY_LIMITS_MIB ?? '88,96,104,112,128,160,256';
  const limits = text.split(',').map(Number);
  if (limits.some((n) => !Number.isInteger(n) || n < 16))
    throw new Error(`BENCH_MEMORY_LIMITS_MIB must be whole MiB of at least 16, comma-separated: ${text}`);
  return limits;
}
/** Each limit is tried this many times, the limits taking turns: near the edge the outcome varies. */
const ROUNDS = 3;
const CONNECTIONS = 16;
const IDLE_MS = 3_000;
const WARMUP_S = 2;
const LOAD_S = 10;
const LOAD = { connections: CONNECTIONS, idleMs: IDLE_MS, warmupS: WARMUP_S, seconds: LOAD_S };

export interface LimitRun {
  limitMiB: number;
  /** 0-based; results from before rounds were recorded have none. */
  round?: number;
  env: SidecarNodeEnv;
  /** Why the sidecar could not be started or measured at this limit. */
  failed?: string;
  ok?: number;
  errors?: number;
  /** From each request's due time, µs. */
  latency?: { p50: number; p99: number };
  /** Max VmRSS sampled during the load, bytes. */
  rssMax?: number;
  cgroup?: CgroupStats;
  /** Page faults that had to read from disk during the measured window. */
  majorFaults?: number;
  /** The process was gone after the load (killed by the kernel). */
  killed?: boolean;
}

export interface MemoryLimitResult {
  rps: number;
  /** How each run was loaded: idle first, then a warm-up and the measured window. */
  load: { connections: number; idleMs: number; warmupS: number; seconds: number };
  /** Set when this machine cannot make memory cgroups: the exact error, nothing was measured. */
  unavailable?: string;
  runs: LimitRun[];
}

/** Major faults so far (/proc/<pid>/stat field 12); undefined once the process is gone. */
async function majorFaults(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[9]);
  if (!Number.isFinite(value)) throw new Error(`cannot read major faults of ${pid} from ${stat}`);
  return value;
}

/**
 * A copy of this node binary none of whose pages are in memory (written with O_DIRECT), so the sidecar
 * in the cgroup faults its code in and is charged for it, as a pod with its own image layer is.
 */
async function coldNodeBinary(path: string): Promise<void> {
  await rm(path, { force: true });
  await promisify(execFile)('dd', [
    `if=${process.execPath}`,
    `of=${path}`,
    'bs=4M',
    'oflag=direct',
    'status=none',
  ]);
  await chmod(path, 0o755);
}

async function atLimit(
  limitMiB: number,
  round: number,
  rps: number,
  upstreamUrl: string,
  cli: string,
): Promise<LimitRun> {
  const limit = limitMiB * 2 ** 20;
  const env = sidecarNodeEnv(limit);
  const binary = here(`./out/node-cold-${process.pid}`);
  const cgroup = await createMemoryCgroup(`turnout-bench-${process.pid}-${limitMiB}`, limit);
  try {
    await coldNodeBinary(binary);
    const proc = await startPodSidecar(upstreamUrl, cli, {
      env: { ...env },
      execPath: binary,
      launcher: cgroup.launcher,
    }).catch((e: unknown) => e as Error);
    if (proc instanceof Error)
      return { limitMiB, round, env, failed: proc.message.slice(0, 300), cgroup: cgroup.stats() };
    const pid = proc.child.pid as number;
    try {
      await sleep(IDLE_MS);
      const load = {
        url: `${proc.url}/chat/completions`,
        body: CHAT_BODY,
        headers: {},
        rps,
        connections: CONNECTIONS,
      };
      let rssMax = 0;
      const sampler = setInterval(() => {
        if (proc.child.exitCode === null && proc.child.signalCode === null)
          rssMax = Math.max(rssMax, readRss(pid).rss);
      }, 250);
      await attack({ ...load, seconds: WARMUP_S });
      const faultsBefore = await majorFaults(pid);
      const run = await attack({ ...load, seconds: LOAD_S });
      clearInterval(sampler);
      const faultsAfter = await majorFaults(pid);
      const killed = proc.child.exitCode !== null || proc.child.signalCode !== null;
      return {
        limitMiB,
        round,
        env,
        ok: run.ok,
        errors: run.errors,
        latency: { p50: percentile(run.latencies, 50), p99: percentile(run.latencies, 99) },
        rssMax,
        cgroup: cgroup.stats(),
        ...(!killed &&
          faultsBefore !== undefined &&
          faultsAfter !== undefined && { majorFaults: faultsAfter - faultsBefore }),
        killed,
      };
    } finally {
      await proc.stop();
    }
  } finally {
    await rm(binary, { force: true });
    await cgroup.remove();
  }
}

async function memoryLimit(cfg: BenchConfig): Promise<MemoryLimitResult> {
  // Can this machine make a memory cgroup at all? Find out before building anything.
  const probe = await createMemoryCgroup(`turnout-bench-probe-${process.pid}`, 2 ** 30).catch((e: unknown) =>
    e instanceof Error ? e : new Error(String(e)),
  );
  if (probe instanceof Error)
    return {
      rps: cfg.rps,
      load: LOAD,
      unavailable: `this machine cannot make a memory cgroup (${probe.message})`,
      runs: [],
    };
  await probe.remove();
  const build = await buildForBench(here('./out/dist-rss'));
  if (!build.cli)
    return { rps: cfg.rps, load: LOAD, unavailable: `no built sidecar: ${build.note}`, runs: [] };
  await waitForQuiet((line) => process.stderr.write(`${line}\n`));
  const upstream = await startNode(here('./upstream-process.ts'));
  try {
    const runs: LimitRun[] = [];
    const limits = limitsMiB();
    for (let round = 0; round < ROUNDS; round++)
      for (const limitMiB of limits)
        runs.push(await atLimit(limitMiB, round, cfg.rps, upstream.url, build.cli));
    return { rps: cfg.rps, load: LOAD, runs };
  } finally {
    await upstream.stop();
  }
}

export const sidecarMemoryLimitSuite = defineSuite<MemoryLimitResult>({
  name: 'sidecar-memory-limit',
  title: 'Sidecar under a container memory limit',
  run: memoryLimit,
  markdown: memoryLimitMarkdown,
  // The issues set no target for this; it backs the chart's resource defaults (docs/install.md).
  checks: () => [],
});

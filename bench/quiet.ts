// The machine may be shared (CI runners, other jobs): before a suite, optionally wait until the CPUs are
// mostly idle, and record how busy they were, since latency tails measured next to other work mean little.
import { readFileSync } from 'node:fs';
import { sleep } from './rss.ts';

function cpuTimes(): { busy: number; total: number } {
  const fields = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '')
    .split(/\s+/)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Share of all CPUs busy over the next `ms` (0..1), while this process does nothing. */
export async function cpuBusy(ms = 2000): Promise<number> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

/**
 * With BENCH_QUIET_CPU set (a share, e.g. 0.25), waits until the CPUs are busier than that for no longer
 * than BENCH_QUIET_WAIT_S (default 600) seconds. Returns the last measured busy share and the wait.
 */
export async function waitForQuiet(log: (line: string) => void): Promise<{ busy: number; waitedS: number }> {
  const threshold = Number(process.env.BENCH_QUIET_CPU ?? NaN);
  const maxWaitS = Number(process.env.BENCH_QUIET_WAIT_S ?? 600);
  const started = performance.now();
  let busy = await cpuBusy();
  while (Number.isFinite(threshold) && busy > threshold && performance.now() - started < maxWaitS * 1000) {
    log(
      `bench: CPUs ${Math.round(busy * 100)}% busy with other work, waiting for ≤ ${Math.round(threshold * 100)}%`,
    );
    await sleep(8000);
    busy = await cpuBusy();
  }
  return { busy, waitedS: (performance.now() - started) / 1000 };
}

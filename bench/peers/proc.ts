// What the kernel says about a gateway while it runs: RSS and CPU time of its whole process tree (a
// server may fork workers), how busy one core is, and pinning the bench process itself to a core.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readRss } from '../rss.ts';

/** The pid and every descendant, from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i] as number;
    try {
      const text = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** VmRSS summed over the process tree, bytes. */
export function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    try {
      return sum + readRss(p).rss;
    } catch {
      return sum;
    }
  }, 0);
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User + system CPU seconds used so far by the process tree. */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      // Fields after the command name, which may itself hold spaces: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Busy and total jiffies of one core (cpuN line of /proc/stat). */
export function coreTimes(cpu: string): { busy: number; total: number } {
  const line = new RegExp(`^cpu${cpu}\\s+(.*)$`, 'm').exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '';
  const fields = line.split(/\s+/).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/**
 * Pins every thread of this process to `cpus` (the load generator's core) and returns a function that
 * restores the affinity it had.
 */
export function pinSelf(cpus: string): () => void {
  const before = /:\s*(\S+)\s*$/.exec(
    execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }),
  )?.[1];
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
  return () => {
    if (before !== undefined)
      execFileSync('taskset', ['-a', '-p', before, String(process.pid)], { stdio: 'ignore' });
  };
}

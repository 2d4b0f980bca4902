// A memory cgroup the bench puts one process in, so a container memory limit is enforced on it the way
// the kubelet enforces a pod's: the kernel reclaims the cgroup's page cache (including the node binary's
// code pages it faulted in) before it refuses memory, and kills the process only when nothing is left
// to reclaim. Needs a writable cgroup hierarchy (root, or a delegated subtree); cgroup v1 and v2.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CgroupLocation {
  version: 1 | 2;
  /** The directory of the cgroup this process is in, where children can be made. */
  dir: string;
}

/**
 * Where this process's memory cgroup lives, from /proc/self/cgroup: the v1 `memory` controller's line
 * when there is one, else the v2 unified line (`0::/path`). A string says why there is none.
 */
export function memoryCgroupOf(
  procSelfCgroup: string,
  mountRoot = '/sys/fs/cgroup',
): CgroupLocation | string {
  const lines = procSelfCgroup.split('\n').filter((l) => l !== '');
  for (const line of lines) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers?.split(',').includes('memory') && path !== undefined)
      return { version: 1, dir: join(mountRoot, 'memory', path) };
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (unified !== undefined) {
    // Hybrid hosts mount v2 at /sys/fs/cgroup/unified; pure v2 hosts at /sys/fs/cgroup itself.
    const base = existsSync(join(mountRoot, 'unified', 'cgroup.controllers'))
      ? join(mountRoot, 'unified')
      : mountRoot;
    return { version: 2, dir: join(base, unified.slice(3)) };
  }
  return `no memory cgroup in /proc/self/cgroup (${lines.join('; ') || 'empty'})`;
}

export interface CgroupStats {
  /** Highest memory charged to the cgroup (anonymous memory, page cache, kernel memory), bytes. */
  peakBytes: number;
  /** How often a charge hit the limit and the kernel had to reclaim (v1 failcnt, v2 events `max`). */
  limitHits: number;
  /** Processes the kernel's OOM killer killed in the cgroup. */
  oomKills: number;
}

export interface MemoryCgroup {
  dir: string;
  /** A command prefix that moves itself into the cgroup, then execs the rest of the command line. */
  launcher: readonly string[];
  stats(): CgroupStats;
  remove(): Promise<void>;
}

const V1 = { limit: 'memory.limit_in_bytes', peak: 'memory.max_usage_in_bytes' };
const V2 = { limit: 'memory.max', peak: 'memory.peak' };

/** /proc/swaps lists at least one swap device or file. */
function swapActive(): boolean {
  return readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;
}

function keyed(text: string, key: string): number {
  return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/** Makes a child memory cgroup of this process's own, limited to `limitBytes`, with no swap. */
export async function createMemoryCgroup(name: string, limitBytes: number): Promise<MemoryCgroup> {
  const where = memoryCgroupOf(readFileSync('/proc/self/cgroup', 'utf8'));
  if (typeof where === 'string') throw new Error(where);
  const dir = join(where.dir, name);
  await mkdir(dir);
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  try {
    if (where.version === 1) {
      await writeFile(join(dir, V1.limit), String(limitBytes));
      // Pods run without swap. Only limited when there is swap to limit: a memsw limit, even an equal
      // one, stops the kernel counting limit hits in memory.failcnt (seen on 6.18).
      if (swapActive() && existsSync(join(dir, 'memory.memsw.limit_in_bytes')))
        await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    } else {
      await writeFile(join(dir, V2.limit), String(limitBytes));
      await writeFile(join(dir, 'memory.swap.max'), '0');
    }
  } catch (e) {
    await rmdir(dir).catch(() => undefined);
    throw e;
  }
  return {
    dir,
    launcher: ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir],
    stats: () =>
      where.version === 1
        ? {
            peakBytes: Number(read(V1.peak)),
            // With swap accounting the memory+swap counter, limited alike, is the one charges fail on.
            limitHits:
              Number(read('memory.failcnt')) +
              (existsSync(join(dir, 'memory.memsw.failcnt')) ? Number(read('memory.memsw.failcnt')) : 0),
            oomKills: keyed(read('memory.oom_control'), 'oom_kill'),
          }
        : {
            peakBytes: Number(read(V2.peak)),
            limitHits: keyed(read('memory.events'), 'max'),
            oomKills: keyed(read('memory.events'), 'oom_kill'),
          },
    remove: () => rmdir(dir),
  };
}

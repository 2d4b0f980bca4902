// How the sidecar's Node process is sized: the environment the injector puts on the sidecar container
// (and the image sets as its default). The one source for the webhook, the image test and the memory
// benchmark, so the benchmark measures exactly what a pod runs.
//
// Why: left to its defaults, V8 sizes its heap for the machine, not the container. On a 24 GiB node a
// sidecar at 1k req/s grew to ~300 MB RSS with ~30 MB of live data (bench/RESULTS.md, "Sidecar memory"):
// the young generation grew to 3 × 16 MB semi-spaces and the old generation was collected late.
// - --max-semi-space-size=4: a small young generation. Nearly everything a proxied call allocates dies
//   young, so there is no need to let garbage pile up to 48 MB. Not smaller: at 1k req/s (turnout dev,
//   vegeta open loop, 10 s under --trace-gc) 1 MB semi-spaces meant 529 scavenges and 7 mark-compacts,
//   343 ms of pauses and a p99 of 16-60 ms: the calls in flight outlive two scavenges of so small a
//   nursery and are promoted, filling the old generation. 4 MB: 123 scavenges, 1 mark-compact, 82 ms,
//   p99 5-8 ms, for about 4 MB more RSS.
// - --max-old-space-size: the old generation's ceiling, from the container's memory limit, leaving the
//   rest of the limit for code, buffers and sockets outside the V8 heap. V8 collects harder as the
//   heap nears it rather than growing past what the pod may use.
// - MALLOC_ARENA_MAX=2: glibc otherwise keeps an arena per thread (8 × cores) for the native side (TLS,
//   llhttp, zlib) whose free pages stay resident.
// - MALLOC_MMAP_THRESHOLD_=32768: socket reads allocate 64 KiB buffers outside the V8 heap. Under glibc's
//   sliding threshold they came from the main arena, whose free space in the middle stays resident; with
//   a fixed threshold each gets its own mapping and goes back to the kernel when freed. At 1k req/s:
//   RSS 114 → 100 MB, and the bare pass-through floor 104 → 94 MB (bench/RESULTS.md, "Sidecar memory").

/** Native allocations from this size up get their own mapping, returned to the kernel when freed. */
const MMAP_THRESHOLD_BYTES = 32 * 1024;
/** Young generation per semi-space, MB. */
export const SEMI_SPACE_MB = 4;
/** Share of the container memory limit the V8 old generation may use. */
const OLD_SPACE_SHARE = 0.5;
/** Smallest old generation ceiling: the live data of a sidecar holding a large snapshot must fit. */
const MIN_OLD_SPACE_MB = 64;

export interface SidecarNodeEnv {
  NODE_OPTIONS: string;
  MALLOC_ARENA_MAX: string;
  MALLOC_MMAP_THRESHOLD_: string;
}

/** The sidecar container's Node settings for a memory limit in bytes (none: the image's defaults). */
export function sidecarNodeEnv(memoryLimitBytes?: number): SidecarNodeEnv {
  const flags = [`--max-semi-space-size=${SEMI_SPACE_MB}`];
  if (memoryLimitBytes !== undefined && Number.isFinite(memoryLimitBytes) && memoryLimitBytes > 0) {
    const oldSpaceMb = Math.max(MIN_OLD_SPACE_MB, Math.floor((memoryLimitBytes / 2 ** 20) * OLD_SPACE_SHARE));
    flags.push(`--max-old-space-size=${oldSpaceMb}`);
  }
  return {
    NODE_OPTIONS: flags.join(' '),
    MALLOC_ARENA_MAX: '2',
    MALLOC_MMAP_THRESHOLD_: String(MMAP_THRESHOLD_BYTES),
  };
}

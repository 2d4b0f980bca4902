// How the memory-limit benchmark reads its rounds: a limit counts as holding the load only when every
// round served every request with no OOM kill, limits that held only sometimes are named as such, and
// a machine without cgroups says so instead of printing an empty table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sidecarNodeEnv } from '../../sidecar/node-options.ts';
import type { LimitRun, MemoryLimitResult } from '../../bench/suites/sidecar-memory-limit.ts';
import { memoryLimitMarkdown } from '../../bench/suites/sidecar-memory-limit-report.ts';

function run(limitMiB: number, round: number, errors: number, extra: Partial<LimitRun> = {}): LimitRun {
  return {
    limitMiB,
    round,
    env: sidecarNodeEnv(limitMiB * 2 ** 20),
    ok: 10_000 - errors,
    errors,
    latency: { p50: 1200, p99: errors > 0 ? 900_000 : 8000 },
    rssMax: 90 * 2 ** 20,
    cgroup: { peakBytes: limitMiB * 2 ** 20, limitHits: errors > 0 ? 5_000_000 : 1000, oomKills: 0 },
    majorFaults: errors > 0 ? 5000 : 0,
    killed: false,
    ...extra,
  };
}

const load = { connections: 16, idleMs: 3000, warmupS: 2, seconds: 10 };

function result(runs: LimitRun[]): MemoryLimitResult {
  return { rps: 1000, load, runs };
}

describe('memory-limit report', () => {
  const rounds = [0, 1, 2].flatMap((r) => [
    run(88, r, 10_000),
    run(96, r, r === 1 ? 0 : 650),
    run(104, r, 0),
    run(256, r, 0),
  ]);
  const text = memoryLimitMarkdown(result(rounds));

  it('names the smallest limit that held in every round, not one that held once', () => {
    assert.match(text, /in all 3 rounds: \*\*104 MiB\*\*/);
    assert.match(text, /96 MiB held in 1 of 3 rounds\./);
  });

  it('says what happened at the largest limit that never held', () => {
    assert.match(text, /At 88 MiB the kernel met the limit 5,000,000 times/);
    assert.match(text, /read code pages back from disk 5,000 times in the 10 s/);
  });

  it('gives one column per limit with its rounds in order', () => {
    assert.match(text, /\| container memory limit \| 88 MiB \| 96 MiB \| 104 MiB \| 256 MiB \|/);
    assert.match(
      text,
      /\| rounds with every request served, no OOM kill \| 0 \/ 3 \| 1 \/ 3 \| 3 \/ 3 \| 3 \/ 3 \|/,
    );
    assert.match(text, /\| errors per round \| 10000, 10000, 10000 \| 650, 0, 650 \| 0, 0, 0 \| 0, 0, 0 \|/);
    assert.match(text, /\| `--max-old-space-size` \(MiB\) \| 64 \| 64 \| 64 \| 128 \|/);
  });

  it('does not count a round with an OOM kill as holding', () => {
    const killed = memoryLimitMarkdown(
      result([run(104, 0, 0), run(104, 1, 0, { cgroup: { peakBytes: 1, limitHits: 1, oomKills: 1 } })]),
    );
    assert.match(killed, /No limit tried served every request in every round\./);
    assert.match(killed, /\| OOM kills, all rounds \| 1 \|/);
  });

  it('lists runs where the sidecar never started', () => {
    const text = memoryLimitMarkdown(
      result([
        { limitMiB: 72, round: 0, env: sidecarNodeEnv(72 * 2 ** 20), failed: 'not ready' },
        run(96, 0, 0),
      ]),
    );
    assert.match(text, /At 72 MiB \(round 1\) the sidecar did not start: not ready/);
    assert.match(text, /\| 72 MiB \| 96 MiB \|/);
  });

  it('says why when the machine cannot make a cgroup', () => {
    const text = memoryLimitMarkdown({ rps: 1000, load, runs: [], unavailable: 'EACCES: permission denied' });
    assert.equal(text, 'Not measured: EACCES: permission denied.');
  });
});

// Run parameters, from the environment so a quick look can shrink a run. The recorded numbers in
// RESULTS.md use the defaults unless the command line there says otherwise.
import type { BenchConfig } from './suite.ts';

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return v;
};

export function configFromEnv(): BenchConfig {
  return {
    requests: num('BENCH_REQUESTS', 2000),
    streamRequests: num('BENCH_STREAM_REQUESTS', 200),
    rounds: num('BENCH_ROUNDS', 5),
    loadSeconds: num('BENCH_LOAD_SECONDS', 20),
    rps: num('BENCH_RPS', 1000),
    warmup: num('BENCH_WARMUP', 4000),
  };
}

/** The exact command line of this run: `npm run bench` with the BENCH_* variables that were set. */
export function commandLine(): string {
  const vars = Object.entries(process.env)
    .filter(([k, v]) => k.startsWith('BENCH_') && v !== undefined && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  return [...vars, 'npm run bench'].join(' ');
}

// `npm run bench`: runs the benchmarks and rewrites bench/RESULTS.md from what this run measured.
// BENCH_REQUESTS and BENCH_ROUNDS shrink a run for a quick look; the recorded numbers use the defaults.
import { mkdir, writeFile } from 'node:fs/promises';
import { machineLine } from './machine.ts';
import { here } from './processes.ts';
import { proxyOverhead, proxyOverheadMarkdown } from './suites/proxy-overhead.ts';

const requests = Number(process.env.BENCH_REQUESTS ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

const overhead = await proxyOverhead(requests, rounds);
const section = proxyOverheadMarkdown(overhead);
process.stdout.write(`${section}\n`);

await mkdir(here('./out'), { recursive: true });
await writeFile(here('./out/proxy-overhead.json'), JSON.stringify(overhead, null, 2));
const doc = `# Benchmark results

Machine: ${machineLine()}
Date: ${new Date().toISOString().slice(0, 10)}
Command: \`npm run bench\` (BENCH_REQUESTS=${requests}, BENCH_ROUNDS=${rounds})

Every server runs in its own process on 127.0.0.1: the fake OpenAI upstream (test/fakes), the bare
pass-through (bench/passthrough-process.ts) and the sidecar (\`turnout dev\` with a one-route policy).
The load generator is one undici keep-alive connection in the bench process. "Added" is a path's
latency minus the direct path's latency in the same run.

## Sidecar overhead (issue #2)

${section}
`;
await writeFile(here('./RESULTS.md'), doc);
if (process.env.BENCH_ENFORCE === '1' && overhead.ratioP50 > 1.5) {
  process.stderr.write(`sidecar overhead ratio ${overhead.ratioP50.toFixed(2)} exceeds 1.5\n`);
  process.exitCode = 1;
}

// Run with --expose-gc. Loads the operator's modules (reconciler and push server, so the Kubernetes client
// library is counted), then compiles issue #4's 1,000 policies × 50 providers and keeps the inputs, the
// compilation and every per-selector snapshot alive. Prints one JSON line.
import { readRss } from './rss.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const settle = () => {
  gc();
  gc();
  return { ...readRss(process.pid), heapUsed: process.memoryUsage().heapUsed };
};

const empty = settle();
await import('../operator/index.ts');
await import('../operator/push/index.ts');
const { compile } = await import('../operator/compile/index.ts');
const { scaleManifests } = await import('./fixtures/scale.ts');
const loaded = settle();
const m = scaleManifests();
const result = compile(m.providers, m.policies, m.secrets);
const compiled = settle();
// Per-selector snapshots are built on first use: build them all, so they are held too.
const held = [m, result, result.snapshots.length];
const holding = settle();
// Measured after the readings: the JSON text is garbage that would otherwise inflate them.
const snapshotBytes = result.snapshots.reduce((n, s) => n + JSON.stringify(s.snapshot).length, 0);
process.stdout.write(
  `${JSON.stringify({
    empty,
    loaded,
    compiled,
    holding,
    snapshots: result.snapshots.length,
    snapshotBytes,
    errors: result.diagnostics.filter((d) => d.severity === 'error').length,
    held: held.length,
  })}\n`,
);

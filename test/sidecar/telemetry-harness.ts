// A sidecar started in this process (so its spans can go to an in-memory exporter) on manifests the test
// writes, with two fake OpenAI upstreams. The routing code is the same as `turnout dev`'s; only the
// process boundary differs, which the OTLP export test covers with a real collector instead.
import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace';
import { loadConfigDir } from '../../cli/config-dir.ts';
import { startSidecar, type Decision, type RunningSidecar } from '../../sidecar/index.ts';
import type { SidecarState } from '../../sidecar/runtime-state.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { configDir } from '../helpers/turnout-process.ts';

export interface InProcess {
  url: string;
  sidecar: RunningSidecar;
  exporter: InMemorySpanExporter;
  primary: FakeProvider;
  secondary: FakeProvider;
  decisions: Decision[];
  /** Loads manifests (replacing the previous ones). */
  load(files: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export interface InProcessOptions {
  captureContent?: boolean;
  sampler?: Sampler;
  /** The sidecar's process-wide state (breakers, budgets, caches), for a test that reads it. */
  state?: SidecarState;
  /** The exporter spans go to; a test that reads spans after close() passes one that keeps them. */
  exporter?: InMemorySpanExporter;
}

export async function inProcessSidecar(opts: InProcessOptions = {}): Promise<InProcess> {
  const primary = await startFakeProvider({ dialect: 'openai' });
  const secondary = await startFakeProvider({ dialect: 'openai' });
  const exporter = opts.exporter ?? new InMemorySpanExporter();
  const decisions: Decision[] = [];
  const sidecar = await startSidecar({
    port: 0,
    onDecision: (d) => decisions.push(d),
    ...(opts.state && { state: opts.state }),
    telemetry: {
      env: {},
      exporter,
      ...(opts.captureContent !== undefined && { captureContent: opts.captureContent }),
      ...(opts.sampler && { sampler: opts.sampler }),
    },
  });
  const dirs: { remove(): Promise<void> }[] = [];
  return {
    url: sidecar.url,
    sidecar,
    exporter,
    primary,
    secondary,
    decisions,
    async load(files) {
      const dir = await configDir(files);
      dirs.push(dir);
      const loaded = await loadConfigDir(dir.dir, { labels: 'all' });
      if (!loaded.snapshot)
        throw new Error(`manifests do not compile: ${JSON.stringify(loaded.diagnostics)}`);
      sidecar.store.load(loaded.snapshot);
    },
    async close() {
      await sidecar.close();
      await primary.close();
      await secondary.close();
      for (const d of dirs) await d.remove();
    },
  };
}

/** A W3C traceparent for a sampled remote parent, with its ids. */
export function traceparent(sampled = true): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentId}-${sampled ? '01' : '00'}`, traceId, parentId };
}

export interface CallTree {
  call: ReadableSpan;
  /** Attempt spans in attempt order. */
  attempts: ReadableSpan[];
}

/** The call span of a trace and its children, once the call span has ended (it is recorded last). */
export async function callTree(
  exporter: InMemorySpanExporter,
  traceId: string,
  timeoutMs = 5000,
): Promise<CallTree> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const call = spans.find((s) => s.kind === SpanKind.SERVER);
    if (call) {
      const attempts = spans
        .filter((s) => s.parentSpanContext?.spanId === call.spanContext().spanId)
        .sort(
          (a, b) =>
            Number(a.attributes['turnout.attempt.number']) - Number(b.attributes['turnout.attempt.number']),
        );
      return { call, attempts };
    }
    if (Date.now() > deadline) throw new Error(`no call span for trace ${traceId}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

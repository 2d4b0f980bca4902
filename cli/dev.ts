// `turnout dev`: local mode. The same compile and sidecar code as in a cluster, fed from a directory of
// manifests instead of the apiserver. Edits reload live; an invalid edit keeps the last good snapshot.
import { watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDiagnostic } from '../api/index.ts';
import {
  DEFAULT_DRAIN_MS,
  DEFAULT_LISTEN,
  startSidecar,
  Telemetry,
  type Decision,
  type RunningSidecar,
} from '../sidecar/index.ts';
import {
  DRAIN_TIMEOUT_ENV,
  DRAIN_WINDOW_HINT,
  firstStopSignal,
  onRepeatedSignals,
  parseDrainWindow,
} from '../sidecar/health/signals.ts';
import { LiveStats, renderLive } from '../sidecar/telemetry/index.ts';
import { parseByteSize, parseFlags, parseLabels, parseListen, UsageError } from './args.ts';
import { loadConfigDir, manifestFiles, type LoadOptions } from './config-dir.ts';
import { decisionLine } from './decision-line.ts';
import { packageRoot } from './package-root.ts';
import { stdoutBatch } from './line-output.ts';

export const BUNDLED_EXAMPLES = join(packageRoot(), 'examples', 'local');

export const DEV_USAGE = `turnout dev [--config DIR] [--listen HOST:PORT] [--namespace NS] [--workload k=v,...] [--max-body-bytes N] [--metrics-listen HOST:PORT] [--drain-timeout DURATION] [--json] [--quiet] [--live]
  Serves the sidecar API locally from a directory of ModelProvider, RoutingPolicy and Secret manifests,
  reloading on change; prints one line per routing decision (--json: the JSON decision log, --quiet: none,
  --live: a live view of calls, per-provider latency and error rate, and spend, redrawn every second).
  OTEL_* variables configure tracing as in a pod (docs/telemetry.md). On SIGTERM or Ctrl-C it drains: new
  calls get a retriable 503, calls in flight get up to --drain-timeout (${DRAIN_TIMEOUT_ENV}, default
  ${DEFAULT_DRAIN_MS / 1000}s) to finish; a second signal cuts them at once.
  Default DIR: the bundled examples (simulated mock providers, works offline).`;

const OPTIONS = {
  config: { type: 'string' },
  listen: { type: 'string' },
  namespace: { type: 'string' },
  workload: { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'metrics-listen': { type: 'string' },
  'drain-timeout': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  live: { type: 'boolean' },
} as const;

const LIVE_REDRAW_MS = 1000;

const say = (line: string) => stdoutBatch().line(line);
const warn = (line: string) => process.stderr.write(`${line}\n`);

export async function devCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  const dir = values.config ?? BUNDLED_EXAMPLES;
  const listen = values.listen ? parseListen(values.listen) : DEFAULT_LISTEN;
  const drainText = values['drain-timeout'] ?? (process.env[DRAIN_TIMEOUT_ENV] || undefined);
  const drainMs = drainText === undefined ? DEFAULT_DRAIN_MS : parseDrainWindow(drainText);
  if (drainMs === undefined)
    throw new UsageError(`--drain-timeout must be ${DRAIN_WINDOW_HINT} (got "${drainText}")`);
  const load: LoadOptions = {
    labels: values.workload ? parseLabels(values.workload) : 'all',
    ...(values.namespace && { namespace: values.namespace }),
  };
  const telemetry = await Telemetry.create();
  for (const w of telemetry.warnings) warn(`telemetry: ${w}`);
  const live = values.live ? new LiveStats() : undefined;
  const onDecision = (d: Decision) => {
    const line = telemetry.redact(decisionLine(d));
    if (live) live.add(d, line);
    else say(values.json ? JSON.stringify(telemetry.decisionRecord(d)) : line);
  };
  const sidecar = await startSidecar({
    ...listen,
    telemetry,
    ...(values['max-body-bytes'] && { maxBodyBytes: parseByteSize(values['max-body-bytes']) }),
    ...(values['metrics-listen'] && { metricsListen: parseListen(values['metrics-listen']) }),
    ...((!values.quiet || live) && { onDecision }),
    onInternalError: (e) =>
      warn(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
  });
  say(`turnout dev: serving ${sidecar.url} from ${dir}`);
  if (sidecar.metricsUrl) say(`  health and metrics on ${sidecar.metricsUrl}`);
  say(
    `  OpenAI SDKs: OPENAI_BASE_URL=${sidecar.url}/v1  (any API key; provider keys come from the manifests)`,
  );
  // Baseline the watcher before the first load: an edit made while loading then still counts as a change.
  const stopWatching = await watchDir(dir, () => void reload(sidecar, dir, load));
  await reload(sidecar, dir, load);
  const stopLive = live ? showLive(live) : () => undefined;
  const signal = await firstStopSignal();
  stopWatching();
  stopLive();
  say(
    `turnout dev: ${signal}: draining, up to ${drainMs / 1000} s for calls in flight (signal again to cut them now)`,
  );
  const repeat = onRepeatedSignals(() => {
    say('turnout dev: cutting calls in flight now');
    sidecar.endDrainWindow();
  });
  const report = await sidecar.close({ drainMs });
  repeat.detach();
  say(`turnout dev: stopped after ${report.ms} ms: ${report.finished} calls finished, ${report.cut} cut`);
  return repeat.repeated() ? 1 : 0;
}

async function reload(sidecar: RunningSidecar, dir: string, load: LoadOptions): Promise<void> {
  let loaded;
  try {
    loaded = await loadConfigDir(dir, load);
  } catch (e) {
    warn(
      `cannot read ${dir}: ${e instanceof Error ? e.message : String(e)}${sidecar.store.current ? '; keeping the last good snapshot' : ''}`,
    );
    return;
  }
  for (const d of loaded.diagnostics) warn(formatDiagnostic(d));
  const { snapshot } = loaded;
  if (!snapshot) {
    const kept = sidecar.store.current;
    warn(
      kept
        ? `config has errors: keeping the last good snapshot ${short(kept.version)}`
        : 'config has errors: nothing loaded yet, fix the errors above',
    );
    return;
  }
  if (sidecar.store.current?.version === snapshot.version) return;
  sidecar.store.load(snapshot);
  const simulated = snapshot.providers.filter((p) => p.simulated).map((p) => p.name);
  say(
    `loaded snapshot ${short(snapshot.version)}: namespace ${snapshot.namespace}, ${snapshot.policies.length} policies, ` +
      `${snapshot.providers.length} providers${simulated.length > 0 ? ` (SIMULATED: ${simulated.join(', ')})` : ''}`,
  );
}

const short = (version: string) => version.slice(0, 19);

/** Redraws the live view when something changed: in place on a terminal, as successive frames otherwise. */
function showLive(live: LiveStats): () => void {
  let shown = -1;
  const draw = () => {
    if (live.version === shown) return;
    shown = live.version;
    const frame = renderLive(live.frame());
    stdoutBatch().flush();
    process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${frame}\n` : `${frame}\n\n`);
  };
  draw();
  const timer = setInterval(draw, LIVE_REDRAW_MS);
  return () => clearInterval(timer);
}

/**
 * Reloads after edits. fs.watch reacts fast but can miss events (recursive watching on Linux is done in
 * userland) or fire mid-write, so a cheap fingerprint poll (path, size, mtime) backs it: no edit is lost.
 */
async function watchDir(dir: string, onChange: () => void): Promise<() => void> {
  let timer: NodeJS.Timeout | undefined;
  let last = await fingerprint(dir).catch(() => '');
  const check = async () => {
    const current = await fingerprint(dir).catch(() => '');
    if (current !== last) {
      last = current;
      onChange();
    }
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), 150);
  };
  const watcher = watch(dir, { recursive: true }, soon);
  watcher.on('error', (e) => warn(`watching ${dir} failed (still polling): ${e.message}`));
  const poll = setInterval(() => void check(), 1000);
  return () => {
    clearTimeout(timer);
    clearInterval(poll);
    watcher.close();
  };
}

async function fingerprint(dir: string): Promise<string> {
  const files = await manifestFiles(dir);
  const stats = await Promise.all(
    files.map(async (f) => {
      const s = await stat(f);
      return `${f}:${s.size}:${s.mtimeMs}`;
    }),
  );
  return stats.join('|');
}

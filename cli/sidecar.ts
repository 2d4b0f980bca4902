// `turnout sidecar`: the in-pod proxy. Configured by the environment the injector sets (flags override,
// for running it by hand). Serves the last good snapshot from its state dir at once, then follows the
// operator's pushes. Output is one JSON object per line: decisions and sync events, for log collectors.
import { isDuration, parseDuration } from '../api/duration.ts';
import {
  DEFAULT_DRAIN_MS,
  DEFAULT_LISTEN,
  SidecarMetrics,
  startSidecar,
  Telemetry,
} from '../sidecar/index.ts';
import {
  DRAIN_TIMEOUT_ENV,
  DRAIN_WINDOW_HINT,
  firstStopSignal,
  onRepeatedSignals,
  parseDrainWindow,
} from '../sidecar/health/signals.ts';
import { createSidecarState } from '../sidecar/runtime-state.ts';
import { SnapshotStore } from '../sidecar/snapshot/store.ts';
import { startSyncClient } from '../sidecar/sync/index.ts';
import { parseByteSize, parseFlags, parseListen, UsageError } from './args.ts';
import { stdoutBatch } from './line-output.ts';

export const DEFAULT_TOKEN_FILE = '/var/run/secrets/turnout/token';

export const SIDECAR_USAGE = `turnout sidecar [--operator-url URL] [--ca-file FILE] [--token-file FILE] [--namespace NS] [--pod NAME]
                [--state-dir DIR] [--listen HOST:PORT] [--metrics-listen HOST:PORT] [--max-body-bytes N]
                [--spend-interval DURATION] [--drain-timeout DURATION] [--transparent-listen HOST:PORT --transparent-cert FILE --transparent-key FILE]
                [--refuse-web-pages]
  The in-pod proxy. Each flag defaults to an environment variable, as the injector sets them:
  TURNOUT_OPERATOR_URL (required), TURNOUT_CA_FILE (default: system roots),
  TURNOUT_TOKEN_FILE (default ${DEFAULT_TOKEN_FILE}), TURNOUT_POD_NAMESPACE and TURNOUT_POD_NAME (required),
  TURNOUT_STATE_DIR (last good snapshot; none when unset), TURNOUT_LISTEN (default 127.0.0.1:15400),
  TURNOUT_METRICS_LISTEN (a separate /healthz, /readyz, /metrics port; the routing port is loopback only),
  TURNOUT_MAX_BODY_BYTES, TURNOUT_SPEND_INTERVAL (how often budget spend is reported to the operator
  while it changes, for fleet budgets; default 1s), TURNOUT_TRANSPARENT_LISTEN (transparent egress: a loopback
  TLS listener, 127.0.0.1:443 in a pod) with TURNOUT_TRANSPARENT_CERT/KEY (PEM, re-read when rotated),
  ${DRAIN_TIMEOUT_ENV} (on SIGTERM: /readyz fails and new calls get a retriable 503 at once, calls in
  flight get this long to finish before they are cut; default ${DEFAULT_DRAIN_MS / 1000}s, the injector sets the
  pod's terminationGracePeriodSeconds less 5s; a second signal cuts them at once),
  TURNOUT_REFUSE_WEB_PAGES (true: refuse requests with Origin or a non-loopback Host, as \`turnout dev\`
  does; off by default, since only the pod's containers reach the port: turn it on when one of them runs
  a browser that opens untrusted pages).
  Prints one JSON line per routing decision and sync event.`;

const OPTIONS = {
  'operator-url': { type: 'string' },
  'ca-file': { type: 'string' },
  'token-file': { type: 'string' },
  namespace: { type: 'string' },
  pod: { type: 'string' },
  'state-dir': { type: 'string' },
  listen: { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'metrics-listen': { type: 'string' },
  'spend-interval': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'transparent-listen': { type: 'string' },
  'transparent-cert': { type: 'string' },
  'transparent-key': { type: 'string' },
  'refuse-web-pages': { type: 'boolean' },
} as const;

/** One JSON line on stdout; `time` first so lines sort and read well. */
export function logLine(msg: string, fields: Record<string, unknown> = {}): void {
  stdoutBatch().line(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));
}

export async function sidecarCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  const env = process.env;
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  const required = (flag: string | undefined, name: string, what: string) => {
    const v = pick(flag, name);
    if (!v) throw new UsageError(`${what} is required: set ${name} or its flag`);
    return v;
  };
  const operatorUrl = required(values['operator-url'], 'TURNOUT_OPERATOR_URL', 'the operator URL');
  if (!/^https:\/\//.test(operatorUrl))
    throw new UsageError(`the operator URL must be https://… (got "${operatorUrl}")`);
  const namespace = required(values.namespace, 'TURNOUT_POD_NAMESPACE', 'the pod namespace');
  const pod = required(values.pod, 'TURNOUT_POD_NAME', 'the pod name');
  const listenText = pick(values.listen, 'TURNOUT_LISTEN');
  const listen = listenText ? parseListen(listenText) : DEFAULT_LISTEN;
  const maxBody = pick(values['max-body-bytes'], 'TURNOUT_MAX_BODY_BYTES');
  const metricsListen = pick(values['metrics-listen'], 'TURNOUT_METRICS_LISTEN');
  const caFile = pick(values['ca-file'], 'TURNOUT_CA_FILE');
  const stateDir = pick(values['state-dir'], 'TURNOUT_STATE_DIR');
  const spendText = pick(values['spend-interval'], 'TURNOUT_SPEND_INTERVAL');
  const spendIntervalMs =
    spendText === undefined ? undefined : isDuration(spendText) ? parseDuration(spendText) : Number.NaN;
  if (spendIntervalMs !== undefined && !(spendIntervalMs >= 50 && spendIntervalMs <= 60_000))
    throw new UsageError(`--spend-interval must be a duration from 50ms to 60s (got "${spendText}")`);
  const drainText = pick(values['drain-timeout'], DRAIN_TIMEOUT_ENV);
  const drainMs = drainText === undefined ? DEFAULT_DRAIN_MS : parseDrainWindow(drainText);
  if (drainMs === undefined)
    throw new UsageError(`--drain-timeout must be ${DRAIN_WINDOW_HINT} (got "${drainText}")`);

  const refuseWebPages = values['refuse-web-pages'] ?? parseSwitch(env.TURNOUT_REFUSE_WEB_PAGES);

  const transparentListen = pick(values['transparent-listen'], 'TURNOUT_TRANSPARENT_LISTEN');
  const transparent = transparentListen && {
    ...parseListen(transparentListen),
    certFile: required(
      values['transparent-cert'],
      'TURNOUT_TRANSPARENT_CERT',
      'the transparent-mode certificate',
    ),
    keyFile: required(values['transparent-key'], 'TURNOUT_TRANSPARENT_KEY', 'the transparent-mode key'),
    onEvent: (event: string, fields: Record<string, unknown>) => logLine(event, fields),
  };

  const store = new SnapshotStore();
  // Created before the sync client so its events are counted from the first one.
  const metrics = new SidecarMetrics();
  const telemetry = await Telemetry.create();
  for (const detail of telemetry.warnings) logLine('warning', { detail });
  // One ledger for both: calls spend against it, the sync client reports it and feeds it the fleet's.
  const state = createSidecarState();
  if (!stateDir)
    logLine('warning', {
      detail: 'TURNOUT_STATE_DIR unset: a restart cannot serve until the operator answers',
    });
  // Restores from the state dir before anything else, so the first request can already be served.
  const sync = await startSyncClient({
    operatorUrl,
    tokenFile: pick(values['token-file'], 'TURNOUT_TOKEN_FILE') ?? DEFAULT_TOKEN_FILE,
    namespace,
    pod,
    store,
    ledger: state.ledger,
    ...(spendIntervalMs !== undefined && { spendIntervalMs }),
    ...(caFile !== undefined && { caFile }),
    ...(stateDir !== undefined && { stateDir }),
    log: (event, fields) => {
      metrics.syncEvent(event);
      logLine(event, fields);
    },
  });
  metrics.trackSync(sync);
  let sidecar;
  try {
    sidecar = await startSidecar({
      ...listen,
      store,
      state,
      metrics,
      telemetry,
      ...(maxBody !== undefined && { maxBodyBytes: parseByteSize(maxBody) }),
      ...(metricsListen !== undefined && { metricsListen: parseListen(metricsListen) }),
      ...(transparent && { transparent }),
      // The browser checks guard `turnout dev` on a developer's machine. In a pod the routing port (bound to
      // loopback) and the transparent listener are reached by the pod's own containers only, where a
      // backend that forwards its caller's Origin or Host is legitimate and no browser runs.
      refuseWebPages,
      onDecision: (d) => logLine('decision', { ...telemetry.decisionRecord(d) }),
      onInternalError: (e) =>
        logLine('internal_error', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    });
  } catch (e) {
    await sync.close();
    throw e;
  }
  logLine('serving', {
    url: sidecar.url,
    ...(sidecar.transparentUrl && { transparentUrl: sidecar.transparentUrl }),
    pod: `${namespace}/${pod}`,
    operator: operatorUrl,
  });
  const signal = await firstStopSignal();
  logLine('draining', { signal, drainMs });
  const repeat = onRepeatedSignals(() => {
    logLine('drain_window_ended', { reason: 'second signal' });
    sidecar.endDrainWindow();
  });
  // Calls in flight settle first, so the last spend report the sync client sends on close includes them.
  const report = await sidecar.close({ drainMs });
  await sync.close();
  repeat.detach();
  logLine('stopped', { ...report });
  return repeat.repeated() ? 1 : 0;
}

/** An on/off environment variable: unset is off. */
function parseSwitch(text: string | undefined): boolean {
  if (text === undefined || text === '' || text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1') return true;
  throw new UsageError(`TURNOUT_REFUSE_WEB_PAGES must be true or false (got "${text}")`);
}

// `turnout sidecar`: the in-pod proxy. Configured by the environment the injector sets (flags override,
// for running it by hand). Serves the last good snapshot from its state dir at once, then follows the
// operator's pushes. Output is one JSON object per line: decisions and sync events, for log collectors.
import { DEFAULT_LISTEN, startSidecar } from '../sidecar/index.ts';
import { SnapshotStore } from '../sidecar/snapshot/store.ts';
import { startSyncClient } from '../sidecar/sync/index.ts';
import { parseByteSize, parseFlags, parseListen, UsageError } from './args.ts';

export const DEFAULT_TOKEN_FILE = '/var/run/secrets/turnout/token';

export const SIDECAR_USAGE = `turnout sidecar [--operator-url URL] [--ca-file FILE] [--token-file FILE] [--namespace NS] [--pod NAME]
                [--state-dir DIR] [--listen HOST:PORT] [--metrics-listen HOST:PORT] [--max-body-bytes N]
  The in-pod proxy. Each flag defaults to an environment variable, as the injector sets them:
  TURNOUT_OPERATOR_URL (required), TURNOUT_CA_FILE (default: system roots),
  TURNOUT_TOKEN_FILE (default ${DEFAULT_TOKEN_FILE}), TURNOUT_POD_NAMESPACE and TURNOUT_POD_NAME (required),
  TURNOUT_STATE_DIR (last good snapshot; none when unset), TURNOUT_LISTEN (default 127.0.0.1:15400),
  TURNOUT_METRICS_LISTEN (a separate /healthz, /readyz, /metrics port; the routing port is loopback only),
  TURNOUT_MAX_BODY_BYTES. Prints one JSON line per routing decision and sync event.`;

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
} as const;

/** One JSON line on stdout; `time` first so lines sort and read well. */
export function logLine(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
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

  const store = new SnapshotStore();
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
    ...(caFile !== undefined && { caFile }),
    ...(stateDir !== undefined && { stateDir }),
    log: (event, fields) => logLine(event, fields),
  });
  let sidecar;
  try {
    sidecar = await startSidecar({
      ...listen,
      store,
      ...(maxBody !== undefined && { maxBodyBytes: parseByteSize(maxBody) }),
      ...(metricsListen !== undefined && { metricsListen: parseListen(metricsListen) }),
      onDecision: (d) => logLine('decision', { ...d }),
      onInternalError: (e) =>
        logLine('internal_error', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    });
  } catch (e) {
    await sync.close();
    throw e;
  }
  logLine('serving', { url: sidecar.url, pod: `${namespace}/${pod}`, operator: operatorUrl });
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logLine('draining', { signal });
  await sync.close();
  await sidecar.close();
  logLine('stopped');
  return 0;
}

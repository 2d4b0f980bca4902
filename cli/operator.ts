// `turnout operator`: the reconciler (watch → compile → status) plus the push server sidecars connect to.
// Operator modules are imported when the command runs, so `turnout sidecar` never loads the Kubernetes
// client it has no use for.
import { parseFlags, parseListen, UsageError } from './args.ts';

export const OPERATOR_USAGE = `turnout operator [--kubeconfig FILE] [--listen HOST:PORT] [--tls-cert FILE] [--tls-key FILE]
                 [--lease-namespace NS] [--metrics-port N] [--serve-as-follower]
  Watches RoutingPolicy/ModelProvider/Secret/Pod objects, compiles them, writes status (the Lease holder
  only), and pushes each injected pod its snapshot over HTTPS (--listen, default 0.0.0.0:15401).
  Env defaults: KUBECONFIG (else in-cluster), TURNOUT_PUSH_LISTEN, TURNOUT_TLS_CERT and TURNOUT_TLS_KEY
  (PEM files, required; re-read when they change), TURNOUT_LEASE_NAMESPACE (else $POD_NAMESPACE, else
  turnout-system), TURNOUT_METRICS_PORT. Sidecars are served by the leader only, so that its status
  counts every sidecar; --serve-as-follower (TURNOUT_SERVE_AS_FOLLOWER=true) lets every replica serve.`;

const OPTIONS = {
  kubeconfig: { type: 'string' },
  listen: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'lease-namespace': { type: 'string' },
  'metrics-port': { type: 'string' },
  'serve-as-follower': { type: 'boolean' },
} as const;

const DEFAULT_PUSH_LISTEN = '0.0.0.0:15401';

export async function operatorCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  const env = process.env;
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  const cert = pick(values['tls-cert'], 'TURNOUT_TLS_CERT');
  const key = pick(values['tls-key'], 'TURNOUT_TLS_KEY');
  if (!cert || !key)
    throw new UsageError(
      'the push server needs a certificate: set --tls-cert/--tls-key (TURNOUT_TLS_CERT/KEY)',
    );
  const listen = parseListen(pick(values.listen, 'TURNOUT_PUSH_LISTEN') ?? DEFAULT_PUSH_LISTEN);
  const kubeconfig = values.kubeconfig;
  const leaseNamespace = pick(values['lease-namespace'], 'TURNOUT_LEASE_NAMESPACE');
  const metricsText = pick(values['metrics-port'], 'TURNOUT_METRICS_PORT');
  const metricsPort = metricsText === undefined ? undefined : Number(metricsText);
  if (
    metricsPort !== undefined &&
    !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65535)
  )
    throw new UsageError(`--metrics-port must be a port number (got "${metricsText}")`);
  const serveAsFollower = values['serve-as-follower'] ?? env['TURNOUT_SERVE_AS_FOLLOWER'] === 'true';

  const { startOperator } = await import('../operator/index.ts');
  const { startPushServer, SyncTracker, kubeTokenReviewer } = await import('../operator/push/index.ts');
  const { loadKubeConfig } = await import('../operator/kube/kubeconfig.ts');
  const { jsonLogger } = await import('../operator/kube/log.ts');

  // The tracker exists before either half: the reconciler reads it, the push server fills it.
  const tracker = new SyncTracker();
  const operator = await startOperator({
    syncReporter: tracker,
    ...(kubeconfig !== undefined && { kubeconfig }),
    ...(leaseNamespace !== undefined && { namespace: leaseNamespace }),
    ...(metricsPort !== undefined && { metricsPort }),
  });
  const log = jsonLogger('push');
  let push;
  try {
    push = await startPushServer({
      desired: operator.desiredState,
      tokenReviewer: kubeTokenReviewer(loadKubeConfig(kubeconfig)),
      tls: { cert, key },
      ...listen,
      tracker,
      ...(!serveAsFollower && { acceptStreams: () => operator.isLeader() }),
      log: (event, fields) => log.info(event, fields),
    });
  } catch (e) {
    await operator.stop();
    throw e;
  }
  log.info('serving', { url: push.url, leaderOnly: !serveAsFollower });
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info('stopping', { signal });
  await push.close();
  await operator.stop();
  return 0;
}

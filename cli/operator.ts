// `turnout operator`: the reconciler (watch → compile → status) plus the push server sidecars connect to.
// Operator modules are imported when the command runs, so `turnout sidecar` never loads the Kubernetes
// client it has no use for.
import { parseFlags, parseListen, UsageError } from './args.ts';

export const OPERATOR_USAGE = `turnout operator [--kubeconfig FILE] [--listen HOST:PORT] [--tls-cert FILE] [--tls-key FILE]
                 [--lease-namespace NS] [--metrics-port N] [--serve-as-follower] [--config FILE] [--tls-dir DIR]
  Watches RoutingPolicy/ModelProvider/Secret/Pod objects, compiles them, writes status (the Lease holder
  only), and pushes each injected pod its snapshot over HTTPS (--listen, default 0.0.0.0:15401).
  Env defaults: KUBECONFIG (else in-cluster), TURNOUT_PUSH_LISTEN, TURNOUT_TLS_CERT and TURNOUT_TLS_KEY
  (PEM files, required; re-read when they change), TURNOUT_LEASE_NAMESPACE (else $POD_NAMESPACE, else
  turnout-system), TURNOUT_METRICS_PORT. Sidecars are served by the leader only, so that its status
  counts every sidecar; --serve-as-follower (TURNOUT_SERVE_AS_FOLLOWER=true) lets every replica serve.
  With POD_NAME and POD_NAMESPACE set (the chart sets them), the leader labels its own pod
  turnout.dev/leader=true and the others false: the chart's push Service selects that label.
  --config (TURNOUT_CONFIG): the injector's JSON config (the Helm chart renders it; operator/webhook/README.md).
  With it the operator also serves the injection webhook, manages its serving certificate (tls.crt/tls.key
  in --tls-dir, used by the push server too unless --tls-cert/--tls-key say otherwise) and the mesh CA.`;

const OPTIONS = {
  kubeconfig: { type: 'string' },
  listen: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'lease-namespace': { type: 'string' },
  'metrics-port': { type: 'string' },
  'serve-as-follower': { type: 'boolean' },
  config: { type: 'string' },
  'tls-dir': { type: 'string' },
} as const;

const DEFAULT_PUSH_LISTEN = '0.0.0.0:15401';

export async function operatorCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  const env = process.env;
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  const cert = pick(values['tls-cert'], 'TURNOUT_TLS_CERT');
  const key = pick(values['tls-key'], 'TURNOUT_TLS_KEY');
  const configPath = pick(values.config, 'TURNOUT_CONFIG');
  if ((!cert || !key) && !configPath)
    throw new UsageError(
      'the push server needs a certificate: set --tls-cert/--tls-key (TURNOUT_TLS_CERT/KEY), or --config (TURNOUT_CONFIG) to have the operator manage one',
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
  const { FleetBudgets, withFleetSpend } = await import('../operator/budgets/index.ts');
  // Serving certificates first: the push server cannot start without them.
  const { prepareInjector } = await import('../operator/webhook/index.ts');
  const injector = configPath
    ? await prepareInjector({
        configPath,
        ...(kubeconfig !== undefined && { kubeconfig }),
        ...(values['tls-dir'] !== undefined && { tlsDir: values['tls-dir'] }),
        log: jsonLogger('injector'),
      })
    : undefined;
  const tls = { cert: cert ?? injector?.tls.cert ?? '', key: key ?? injector?.tls.key ?? '' };

  // The tracker and fleet budgets exist before either half: the reconciler reads them (status, spend),
  // the push server fills them (ACKs, spend reports).
  const tracker = new SyncTracker();
  const fleet = new FleetBudgets();
  const operator = await startOperator({
    syncReporter: withFleetSpend(tracker, fleet),
    ...(kubeconfig !== undefined && { kubeconfig }),
    ...(leaseNamespace !== undefined && { namespace: leaseNamespace }),
    ...(metricsPort !== undefined && { metricsPort }),
  });
  const log = jsonLogger('push');
  // Spend is aggregated per leadership term: a new term starts over from what status holds.
  const offLeader = operator.onLeaderChange(() => fleet.reset());
  let push;
  try {
    push = await startPushServer({
      desired: operator.desiredState,
      tokenReviewer: kubeTokenReviewer(loadKubeConfig(kubeconfig)),
      tls,
      ...listen,
      tracker,
      spend: fleet,
      ...(!serveAsFollower && { acceptStreams: () => operator.isLeader() }),
      log: (event, fields) => log.info(event, fields),
    });
  } catch (e) {
    offLeader();
    fleet.close();
    await operator.stop();
    throw e;
  }
  log.info('serving', { url: push.url, leaderOnly: !serveAsFollower });
  try {
    await injector?.start(operator);
  } catch (e) {
    await injector?.close();
    await push.close();
    offLeader();
    fleet.close();
    await operator.stop();
    throw e;
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info('stopping', { signal });
  await injector?.close();
  await push.close();
  offLeader();
  fleet.close();
  await operator.stop();
  return 0;
}

// Wires the injection side of `turnout operator`: serving certificates (before anything serves), the
// admission webhook, and the mesh CA with its per-namespace objects. Every replica serves admission;
// only the Lease holder runs the periodic mesh refresh (a webhook-triggered refresh may run anywhere:
// writes are optimistic, so replicas cannot clobber each other).
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { snapshotFor } from '../compile/index.ts';
import { ControlTls } from '../certs/control-tls.ts';
import { transparentHosts } from '../certs/hosts.ts';
import { MeshCertificates } from '../certs/mesh.ts';
import type { Operator } from '../index.ts';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { errorText, type Logger } from '../kube/log.ts';
import type { Reviewed } from './admission.ts';
import { loadInjectorConfig, type InjectorConfig } from './config.ts';
import type { InjectionContext } from './inject.ts';
import { WebhookMetrics } from './metrics.ts';
import { startWebhookServer, type RunningWebhookServer } from './server.ts';

export interface InjectorOptions {
  configPath: string;
  kubeconfig?: string;
  /** Overrides the config's tls.dir (running the operator outside a pod). */
  tlsDir?: string;
  log: Logger;
}

export interface Injector {
  config: InjectorConfig;
  /** The serving certificate files, present once prepareInjector resolves: the push server uses them too. */
  tls: { cert: string; key: string; ca: string };
  start(operator: Operator): Promise<{ url: string }>;
  close(): Promise<void>;
}

/** Loads the config and makes sure serving certificates exist; serves nothing yet. */
export async function prepareInjector(opts: InjectorOptions): Promise<Injector> {
  const config = await loadInjectorConfig(opts.configPath, process.env['POD_NAMESPACE']);
  const namespace = config.namespace as string;
  const kc = loadKubeConfig(opts.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const log = opts.log;
  const tls = new ControlTls({
    core,
    admission: kc.makeApiClient(AdmissionregistrationV1Api),
    namespace,
    secretName: config.tls.secretName,
    dir: opts.tlsDir ?? config.tls.dir,
    dnsNames: config.tls.dnsNames,
    ipAddresses: config.tls.ipAddresses,
    authority: { lifetimeMs: config.tls.caLifetime, promoteAfterMs: config.tls.promoteAfter },
    leafLifetimeMs: config.tls.certLifetime,
    webhookConfiguration: config.tls.secretName ? config.webhook.configurationName : undefined,
    syncIntervalMs: config.tls.syncInterval,
    log,
  });
  await tls.start();
  let server: RunningWebhookServer | undefined;
  let meshTimer: NodeJS.Timeout | undefined;
  return {
    config,
    tls: tls.files,
    start: async (operator) => {
      const compiled = (ns: string) => operator.desiredState.compiled(ns);
      const mesh = new MeshCertificates({
        core,
        namespace,
        caSecret: config.mesh.caSecret,
        configMap: config.mesh.configMap,
        leafSecret: config.mesh.leafSecret,
        authority: { lifetimeMs: config.mesh.caLifetime, promoteAfterMs: config.mesh.promoteAfter },
        leafLifetimeMs: config.mesh.leafLifetime,
        controlBundle: () => tls.caBundle(),
        hostsFor: (ns) =>
          transparentHosts([...(compiled(ns)?.providers.values() ?? [])].map((c) => c.provider)),
        log,
      });
      const context: InjectionContext = {
        config,
        names: { caConfigMap: config.mesh.configMap, leafSecret: config.mesh.leafSecret },
        excludedNamespaces: new Set([...config.injection.excludedNamespaces, namespace]),
        hostsFor: (ns, labels) => transparentHosts(snapshotFor(compiled(ns), ns, labels).providers),
      };
      const ensured = new NamespaceDebounce((ns, transparent) => mesh.ensureNamespace(ns, transparent), log);
      const [host = '0.0.0.0', port = '9443'] = splitListen(config.webhook.listen);
      server = await startWebhookServer({
        host,
        port: Number(port),
        tls: tls.files,
        context,
        metrics: new WebhookMetrics(operator.metrics.registry),
        log,
        ready: () => operator.hasSynced(),
        onReviewed: (r: Reviewed) => {
          // Dry runs must have no side effects (the configuration declares sideEffects: NoneOnDryRun).
          if (r.plan?.kind === 'patch' && !r.dryRun)
            ensured.request(r.namespace, r.plan.mode === 'transparent');
        },
      });
      const refresh = () => {
        meshTimer = setTimeout(() => {
          const work = operator.isLeader() ? mesh.reconcileAll() : Promise.resolve();
          void work
            .catch((e: unknown) => log.warn('mesh refresh failed', { error: errorText(e) }))
            .finally(refresh);
        }, config.mesh.syncInterval);
        meshTimer.unref();
      };
      refresh();
      log.info('webhook serving', { url: server.url });
      return { url: server.url };
    },
    close: async () => {
      clearTimeout(meshTimer);
      tls.stop();
      await server?.close();
    },
  };
}

function splitListen(listen: string): [string, string] {
  const i = listen.lastIndexOf(':');
  return [listen.slice(0, i).replace(/^\[|\]$/g, ''), listen.slice(i + 1)];
}

/** Runs the namespace refresh at most once per minute per namespace (admissions come in bursts). */
class NamespaceDebounce {
  readonly #run: (ns: string, transparent: boolean) => Promise<void>;
  readonly #log: Logger;
  readonly #last = new Map<string, number>();

  constructor(run: (ns: string, transparent: boolean) => Promise<void>, log: Logger) {
    this.#run = run;
    this.#log = log;
  }

  request(namespace: string, transparent: boolean, attempt = 0): void {
    const key = `${namespace}/${transparent}`;
    const last = this.#last.get(key);
    if (attempt === 0 && last !== undefined && Date.now() - last < 60_000) return;
    this.#last.set(key, Date.now());
    this.#run(namespace, transparent).catch((e: unknown) => {
      this.#last.delete(key);
      this.#log.warn('publishing namespace CA files failed', { namespace, attempt, error: errorText(e) });
      // The injected pod cannot start without these objects: retry for a while, not only on the next admission.
      if (attempt < 10)
        setTimeout(
          () => this.request(namespace, transparent, attempt + 1),
          2000 * 2 ** Math.min(attempt, 4),
        ).unref();
    });
  }
}

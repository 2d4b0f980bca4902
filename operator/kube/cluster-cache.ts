// Everything the reconciler reads, cached from five watches: ModelProviders, RoutingPolicies, the
// Secrets those providers reference, injected Pods, and the Namespaces that opt their pods in.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, Watch } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type Secret } from '../../api/index.ts';
import type { PodIdentity } from '../contract.ts';
import type { BackoffOptions } from './backoff.ts';
import type { Logger } from './log.ts';
import {
  type CachedPod,
  type CachedPolicy,
  type CachedProvider,
  isInjected,
  podProjector,
  projectNamespace,
  projectPolicy,
  projectProvider,
  referencedSecrets,
  secretProjector,
} from './objects.ts';
import { type ListPage, Reflector, type ReflectorOptions } from './reflector.ts';

export type ChangeKind = 'config' | 'pods';
export type Resource = 'modelproviders' | 'routingpolicies' | 'secrets' | 'pods' | 'namespaces';

export interface ClusterCacheOptions {
  kubeConfig: KubeConfig;
  log?: Logger;
  backoff?: BackoffOptions;
  onRestart?(resource: Resource, reason: string): void;
}

/**
 * Objects per list page. A page is held several times over while it is read (the body's bytes, the
 * decoded text, the parsed objects) before projection drops all but what the operator uses. With
 * kubectl's annotation, managedFields and status, a RoutingPolicy is ~14 KB as served, so a page of 500
 * is ~7 MB in each form at once; 100 keeps a relist's transient peak to a fifth of that.
 */
const PAGE = 100;

export class ClusterCache {
  readonly #providers: Reflector<CachedProvider>;
  readonly #policies: Reflector<CachedPolicy>;
  readonly #secrets: Reflector<Secret>;
  readonly #namespaces: Reflector<string>;
  readonly #pods: Reflector<CachedPod>;
  readonly #listeners = new Set<(namespace: string, kind: ChangeKind) => void>();
  /** "namespace/name" of every Secret a ModelProvider's auth.secretRef names. */
  #referenced = new Set<string>();
  /** Namespaces with a newly referenced Secret the Secret cache is still fetching: relists under way for each. */
  readonly #awaitingSecrets = new Map<string, number>();

  constructor(opts: ClusterCacheOptions) {
    const watch = new Watch(opts.kubeConfig);
    const custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const core = opts.kubeConfig.makeApiClient(CoreV1Api);
    const common = <T>(resource: Resource, path: string) =>
      ({
        resource,
        watch,
        path,
        ...(opts.log && { log: opts.log }),
        ...(opts.backoff && { backoff: opts.backoff }),
        onRestart: (reason: string) => opts.onRestart?.(resource, reason),
      }) satisfies Partial<ReflectorOptions<T>>;
    const customList = (plural: string) => async (token: string | undefined) =>
      pageOf(
        (await custom.listClusterCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          plural,
          limit: PAGE,
          ...(token && { _continue: token }),
        })) as RawList,
      );
    const crPath = (plural: string) => `/apis/${API_GROUP}/${API_VERSION}/${plural}`;
    this.#providers = new Reflector({
      ...common('modelproviders', crPath('modelproviders')),
      listPage: customList('modelproviders'),
      project: projectProvider,
      onChange: (ns) => this.#providersChanged(ns),
    });
    this.#policies = new Reflector({
      ...common('routingpolicies', crPath('routingpolicies')),
      listPage: customList('routingpolicies'),
      project: projectPolicy,
      onChange: (ns) => this.#emit(ns, 'config'),
    });
    this.#secrets = new Reflector({
      ...common('secrets', '/api/v1/secrets'),
      listPage: async (token) =>
        pageOf(await core.listSecretForAllNamespaces({ limit: PAGE, _continue: token })),
      project: secretProjector((ns, name) => this.#referenced.has(`${ns}/${name}`)),
      onChange: (ns) => this.#emit(ns, 'config'),
    });
    this.#namespaces = new Reflector({
      ...common('namespaces', '/api/v1/namespaces'),
      listPage: async (token) => pageOf(await core.listNamespace({ limit: PAGE, _continue: token })),
      project: projectNamespace,
      onChange: (_, name) => this.#namespaceChanged(name),
    });
    this.#pods = new Reflector({
      ...common('pods', '/api/v1/pods'),
      listPage: async (token) =>
        pageOf(await core.listPodForAllNamespaces({ limit: PAGE, _continue: token })),
      project: podProjector((ns) => this.#namespaces.store.get('', ns) !== undefined),
      onChange: (ns) => this.#emit(ns, 'pods'),
    });
  }

  /** Starts every watch; Secrets and Pods once Providers and Namespaces have synced, as they filter by them. */
  async start(): Promise<void> {
    this.#providers.start();
    this.#policies.start();
    this.#namespaces.start();
    await Promise.all([this.#providers.waitForSync(), this.#namespaces.waitForSync()]);
    this.#referenced = referencedSecrets(this.#providers.store.list());
    this.#secrets.start();
    this.#pods.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all().map((r) => r.stop()));
  }

  hasSynced(): boolean {
    return this.#all().every((r) => r.hasSynced());
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.#all().map((r) => r.waitForSync()));
  }

  onChange(listener: (namespace: string, kind: ChangeKind) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  providers = (namespace: string): CachedProvider[] => this.#providers.store.list(namespace);
  policies = (namespace: string): CachedPolicy[] => this.#policies.store.list(namespace);
  secrets = (namespace: string): Secret[] => this.#secrets.store.list(namespace);
  /** Selected pods that run the sidecar: the ones status counts and fleet budgets lease to. */
  pods = (namespace: string): PodIdentity[] =>
    this.#pods.store.list(namespace).flatMap((p) => (p.sidecar ? [p.identity] : []));
  /** Pods injection selects that run no sidecar (created before opting in, or while the webhook was down). */
  podsWithoutSidecar = (namespace: string): PodIdentity[] =>
    this.#pods.store.list(namespace).flatMap((p) => (p.sidecar ? [] : [p.identity]));
  /** Any pod injection selects, whether or not it runs the sidecar (the push server's identity check). */
  pod = (namespace: string, name: string): PodIdentity | undefined =>
    this.#pods.store.get(namespace, name)?.identity;

  /**
   * Whether a ModelProvider of the namespace names a Secret the cache is still fetching: compiling the
   * namespace now would report that Secret missing (and serve the namespace without the provider's
   * policies) only because the cache had not read it yet. The namespace gets a 'config' change when done.
   */
  awaitingSecrets = (namespace: string): boolean => this.#awaitingSecrets.has(namespace);

  /** Namespaces holding anything the operator reconciles. */
  namespaces(): Set<string> {
    return new Set([this.#providers, this.#policies, this.#pods].flatMap((r) => r.store.namespaces()));
  }

  /** Breaks one resource's watch as a dropped connection would (tests of the recovery path). */
  injectWatchError(resource: Resource): void {
    this.#byName(resource).injectWatchError();
  }

  #providersChanged(namespace: string): void {
    const next = referencedSecrets(this.#providers.store.list());
    const added = [...next].filter((k) => !this.#referenced.has(k));
    const shrank = [...this.#referenced].some((k) => !next.has(k));
    this.#referenced = next;
    // A newly referenced Secret was filtered out so far: only a relist can bring it in consistently.
    if (added.length > 0 && this.#secrets.started) this.#fetchSecrets(added);
    if (shrank) {
      for (const [ns] of this.#secrets.store.prune((_, ns, name) => next.has(`${ns}/${name}`))) {
        this.#emit(ns, 'config');
      }
    }
    this.#emit(namespace, 'config');
  }

  /**
   * Relists Secrets, holding the namespaces of `keys` ("namespace/name") until that relist is done:
   * until then their compilation stays as it was, so a rotated key never shows as a missing Secret.
   * A relist that fails is retried with backoff, and the namespaces wait for it (sidecars keep what
   * they run, as they would with the operator down).
   */
  #fetchSecrets(keys: readonly string[]): void {
    const namespaces = new Set(keys.map((k) => k.slice(0, k.indexOf('/'))));
    for (const ns of namespaces) this.#awaitingSecrets.set(ns, (this.#awaitingSecrets.get(ns) ?? 0) + 1);
    void this.#secrets.resync().then(() => {
      for (const ns of namespaces) {
        const left = (this.#awaitingSecrets.get(ns) ?? 1) - 1;
        if (left > 0) this.#awaitingSecrets.set(ns, left);
        else this.#awaitingSecrets.delete(ns);
        this.#emit(ns, 'config');
      }
    });
  }

  #namespaceChanged(namespace: string): void {
    const labelled = this.#namespaces.store.get('', namespace) !== undefined;
    if (labelled && this.#pods.started) void this.#pods.resync();
    if (!labelled)
      this.#pods.store.prune((pod, ns) => ns !== namespace || isInjected(pod.identity.labels, false));
    this.#emit(namespace, 'pods');
  }

  #emit(namespace: string, kind: ChangeKind): void {
    for (const l of this.#listeners) l(namespace, kind);
  }

  #all() {
    return [this.#providers, this.#policies, this.#secrets, this.#namespaces, this.#pods];
  }

  #byName(resource: Resource): { injectWatchError(): void } {
    const map = {
      modelproviders: this.#providers,
      routingpolicies: this.#policies,
      secrets: this.#secrets,
      namespaces: this.#namespaces,
      pods: this.#pods,
    } as const;
    return map[resource];
  }
}

interface RawList {
  items?: unknown[];
  metadata?: { resourceVersion?: string; continue?: string; _continue?: string };
}

function pageOf(list: RawList): ListPage {
  return {
    items: list.items ?? [],
    resourceVersion: list.metadata?.resourceVersion ?? '',
    continue: list.metadata?.continue ?? list.metadata?._continue,
  };
}

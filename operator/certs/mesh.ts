// The mesh CAs and what each injected namespace gets from them. Every namespace has its own CA
// (namespace-authority.ts says why and where it is kept). Per namespace:
//   ConfigMap <configMap>: ca.crt (the control CA bundle: the sidecar's TURNOUT_CA_FILE), mesh-ca.crt
//     (the namespace's mesh CA, for NODE_EXTRA_CA_CERTS), bundle.crt (public roots + that CA, for
//     SSL_CERT_FILE and REQUESTS_CA_BUNDLE, which replace rather than extend a client's trust store) and
//     hosts (the sidecar's own /etc/hosts, free of the pod's hostAliases: see operator/webhook/README.md).
//   Secret <leafSecret> (transparent namespaces): the namespace's leaf, signed by its own CA, for the
//     provider hostnames its ModelProviders use; the sidecar serves it on :443 and re-reads it when
//     the kubelet updates it.
import { rootCertificates } from 'node:tls';
import type { CoreV1Api } from '@kubernetes/client-node';
import { errorText, httpStatusOf, type Logger } from '../kube/log.ts';
import { createAuthority, issueLeaf, type KeyPair } from './authority.ts';
import { fromSecret, toSecret } from './authority-secret.ts';
import { PLACEHOLDER_HOST } from './hosts.ts';
import {
  deleteSecret,
  readConfigMap,
  readSecret,
  sameData,
  writeConfigMap,
  writeSecret,
} from './kube-objects.ts';
import {
  authoritySecretName,
  belongsTo,
  MESH_NAMESPACE_LABEL,
  namespaceOwner,
} from './namespace-authority.ts';
import {
  leafProblem,
  planAuthority,
  trustBundle,
  type AuthorityState,
  type AuthorityTiming,
} from './rotation.ts';

export const SIDECAR_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';

export interface MeshOptions {
  core: CoreV1Api;
  /** The operator's namespace, holding every namespace's mesh CA Secret. */
  namespace: string;
  /**
   * Namespace N's CA is the Secret `<caSecret>-N`. A Secret named exactly `caSecret` is the one CA that
   * earlier versions shared between all namespaces: the leader deletes it.
   */
  caSecret: string;
  configMap: string;
  leafSecret: string;
  authority: AuthorityTiming;
  leafLifetimeMs: number;
  /** The control CA bundle, for the sidecars' TURNOUT_CA_FILE. */
  controlBundle: () => string;
  /** Hostnames the namespace's leaf must cover. */
  hostsFor: (namespace: string) => string[];
  log: Logger;
  now?: () => number;
}

export class MeshCertificates {
  readonly #o: MeshOptions;
  readonly #now: () => number;
  #sharedDeleteForbidden = false;

  constructor(opts: MeshOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Reads the namespace's mesh CA, creating or rotating it as due. Undefined when another writer won a race. */
  async authorityFor(namespace: string): Promise<AuthorityState | undefined> {
    const { core, namespace: home, caSecret } = this.#o;
    const owner = await namespaceOwner(core, namespace);
    const name = authoritySecretName(caSecret, namespace);
    const now = this.#now();
    const stored = await readSecret(core, home, name);
    const reused = stored !== undefined && !belongsTo(stored, owner);
    const before = stored && !reused ? fromSecret(stored.data, stored.annotations).authority : {};
    const plan = planAuthority(before, this.#o.authority, now, () =>
      createAuthority(
        `turnout mesh CA ${namespace} ${new Date(now).toISOString()}`,
        this.#o.authority.lifetimeMs,
        now,
      ),
    );
    if (plan.steps.length === 0) return before;
    const req = {
      namespace: home,
      name,
      ...toSecret({ authority: plan.state }),
      labels: { [MESH_NAMESPACE_LABEL]: namespace },
      ownerReferences: [owner],
      resourceVersion: stored?.resourceVersion,
    };
    if ((await writeSecret(core, req)) === 'conflict') return undefined;
    this.#o.log.info('mesh CA updated', {
      namespace,
      secret: `${home}/${name}`,
      steps: plan.steps,
      ...(reused && { reason: "the namespace was recreated: its predecessor's CA is not reused" }),
    });
    return plan.state;
  }

  /** Creates or refreshes what the namespace's injected pods mount. Idempotent. */
  async ensureNamespace(namespace: string, transparent: boolean): Promise<void> {
    const authority = (await this.authorityFor(namespace)) ?? (await this.authorityFor(namespace));
    if (!authority?.current) throw new Error(`the mesh CA of namespace ${namespace} is not available yet`);
    const mesh = trustBundle(authority);
    await this.#ensureConfigMap(namespace, mesh);
    if (transparent) await this.#ensureLeaf(namespace, authority.current, mesh);
  }

  /** Leader work: rotate each namespace's CA and refresh every namespace that has our objects. */
  async reconcileAll(): Promise<void> {
    await this.#deleteSharedAuthority();
    const named = (name: string) => ({ fieldSelector: `metadata.name=${name}` });
    // Listing by name works with RBAC restricted to these resourceNames (see the chart's ClusterRole).
    const maps = await this.#o.core.listConfigMapForAllNamespaces(named(this.#o.configMap));
    const leaves = await this.#o.core.listSecretForAllNamespaces(named(this.#o.leafSecret));
    const transparent = new Set(leaves.items.map((s) => s.metadata?.namespace ?? ''));
    const namespaces = new Set([...maps.items.map((c) => c.metadata?.namespace ?? ''), ...transparent]);
    for (const ns of namespaces) {
      if (!ns) continue;
      try {
        await this.ensureNamespace(ns, transparent.has(ns));
      } catch (e) {
        this.#o.log.warn('mesh refresh failed', { namespace: ns, error: errorText(e) });
      }
    }
  }

  /**
   * Earlier versions signed every namespace's leaf with one CA that every namespace trusted. Tried on
   * every pass, not once: during a rolling upgrade a replica of the old version may write it again.
   * Never throws: the namespaces are refreshed either way.
   */
  async #deleteSharedAuthority(): Promise<void> {
    if (this.#sharedDeleteForbidden) return;
    const { core, namespace, caSecret } = this.#o;
    try {
      if (await deleteSecret(core, namespace, caSecret))
        this.#o.log.info('deleted the mesh CA shared by all namespaces (each has its own now)', {
          secret: `${namespace}/${caSecret}`,
        });
    } catch (e) {
      // Forbidden: RBAC from an older chart. Said once; anything else is retried on the next pass.
      if (httpStatusOf(e) === 403) this.#sharedDeleteForbidden = true;
      this.#o.log.warn('cannot delete the mesh CA an earlier version shared between namespaces', {
        secret: `${namespace}/${caSecret}`,
        error: errorText(e),
        ...(this.#sharedDeleteForbidden && { action: 'delete it by hand' }),
      });
    }
  }

  async #ensureConfigMap(namespace: string, mesh: string): Promise<void> {
    const { core, configMap: name } = this.#o;
    const want = {
      'ca.crt': this.#o.controlBundle(),
      'mesh-ca.crt': mesh,
      'bundle.crt': `${rootCertificates.join('\n')}\n${mesh}`,
      hosts: SIDECAR_HOSTS,
    };
    const stored = await readConfigMap(core, namespace, name);
    if (sameData(stored?.data, want)) return;
    const result = await writeConfigMap(core, {
      namespace,
      name,
      data: want,
      resourceVersion: stored?.resourceVersion,
    });
    if (result === 'written') this.#o.log.info('mesh CA bundle published', { namespace, configMap: name });
  }

  async #ensureLeaf(namespace: string, ca: KeyPair, mesh: string): Promise<void> {
    const { core, leafSecret: name } = this.#o;
    const now = this.#now();
    const hosts = this.#o.hostsFor(namespace);
    const names = hosts.length > 0 ? hosts : [PLACEHOLDER_HOST];
    const stored = await readSecret(core, namespace, name);
    const have = stored?.data;
    const leaf =
      have?.['tls.crt'] && have['tls.key'] ? { cert: have['tls.crt'], key: have['tls.key'] } : undefined;
    const problem = leafProblem(leaf, ca, { names, lifetimeMs: this.#o.leafLifetimeMs }, now);
    if (!problem && have?.['ca.crt'] === mesh) return;
    const next =
      leaf && !problem
        ? leaf
        : issueLeaf(
            ca,
            { commonName: `${namespace}.mesh.turnout`, dnsNames: names, lifetimeMs: this.#o.leafLifetimeMs },
            now,
          );
    const data = { 'tls.crt': next.cert, 'tls.key': next.key, 'ca.crt': mesh };
    const req = { namespace, name, data, resourceVersion: stored?.resourceVersion };
    if ((await writeSecret(core, req, 'kubernetes.io/tls')) === 'written')
      this.#o.log.info('mesh leaf issued', {
        namespace,
        secret: name,
        reason: problem ?? 'bundle changed',
        hosts: names,
      });
  }
}

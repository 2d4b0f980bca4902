// The mesh CA and what each injected namespace gets from it. Per namespace:
//   ConfigMap <configMap>: ca.crt (the control CA bundle: the sidecar's TURNOUT_CA_FILE), mesh-ca.crt
//     (for NODE_EXTRA_CA_CERTS), bundle.crt (public roots + mesh CA, for SSL_CERT_FILE and
//     REQUESTS_CA_BUNDLE, which replace rather than extend a client's trust store) and hosts (the
//     sidecar's own /etc/hosts, free of the pod's hostAliases: see operator/webhook/README.md).
//   Secret <leafSecret> (transparent namespaces): the namespace's leaf for the provider hostnames its
//     ModelProviders use, which the sidecar serves on :443 and re-reads when the kubelet updates it.
import { rootCertificates } from 'node:tls';
import type { CoreV1Api } from '@kubernetes/client-node';
import { errorText, type Logger } from '../kube/log.ts';
import { createAuthority, issueLeaf, type KeyPair } from './authority.ts';
import { fromSecret, toSecret } from './authority-secret.ts';
import { PLACEHOLDER_HOST } from './hosts.ts';
import { readConfigMap, readSecret, sameData, writeConfigMap, writeSecret } from './kube-objects.ts';
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
  /** The operator's namespace, holding the mesh CA Secret. */
  namespace: string;
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

  constructor(opts: MeshOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Reads the mesh CA, creating or rotating it as due. Undefined when another writer won a race. */
  async authority(): Promise<AuthorityState | undefined> {
    const { core, namespace, caSecret } = this.#o;
    const now = this.#now();
    const stored = await readSecret(core, namespace, caSecret);
    const before = fromSecret(stored?.data, stored?.annotations).authority;
    const plan = planAuthority(before, this.#o.authority, now, () =>
      createAuthority(`turnout mesh CA ${new Date(now).toISOString()}`, this.#o.authority.lifetimeMs, now),
    );
    if (plan.steps.length === 0) return before;
    const next = toSecret({ authority: plan.state });
    const req = { namespace, name: caSecret, ...next, resourceVersion: stored?.resourceVersion };
    if ((await writeSecret(core, req)) === 'conflict') return undefined;
    this.#o.log.info('mesh CA updated', { secret: `${namespace}/${caSecret}`, steps: plan.steps });
    return plan.state;
  }

  /** Creates or refreshes what the namespace's injected pods mount. Idempotent. */
  async ensureNamespace(namespace: string, transparent: boolean, ca?: AuthorityState): Promise<void> {
    const authority = ca ?? (await this.authority()) ?? (await this.authority());
    if (!authority?.current) throw new Error('mesh CA not available yet');
    const mesh = trustBundle(authority);
    await this.#ensureConfigMap(namespace, mesh);
    if (transparent) await this.#ensureLeaf(namespace, authority.current, mesh);
  }

  /** Leader work: rotate the CA, then refresh every namespace that has our objects. */
  async reconcileAll(): Promise<void> {
    const ca = await this.authority();
    if (!ca) return;
    const named = (name: string) => ({ fieldSelector: `metadata.name=${name}` });
    // Listing by name works with RBAC restricted to these resourceNames (see the chart's ClusterRole).
    const maps = await this.#o.core.listConfigMapForAllNamespaces(named(this.#o.configMap));
    const leaves = await this.#o.core.listSecretForAllNamespaces(named(this.#o.leafSecret));
    const transparent = new Set(leaves.items.map((s) => s.metadata?.namespace ?? ''));
    const namespaces = new Set([...maps.items.map((c) => c.metadata?.namespace ?? ''), ...transparent]);
    for (const ns of namespaces) {
      if (!ns) continue;
      try {
        await this.ensureNamespace(ns, transparent.has(ns), ca);
      } catch (e) {
        this.#o.log.warn('mesh refresh failed', { namespace: ns, error: errorText(e) });
      }
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

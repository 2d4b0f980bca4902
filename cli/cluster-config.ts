// `turnout explain --namespace NS` without --config: the namespace's ModelProviders and RoutingPolicies
// as the apiserver holds them, validated, planned and compiled by the operator's own code (last
// accepted versions included, from the annotation the operator keeps on each policy), for a pod with the
// given labels. No Secret is read: explain never calls a provider, so each referenced key compiles from
// a placeholder, and a provider whose status says its Secret or key is missing is compiled without it,
// as the operator compiles it. Reading needs get/list on the turnout.dev resources only.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type Secret, type Snapshot } from '../api/index.ts';
import { snapshotFor } from '../operator/compile/index.ts';
import { loadKubeConfig } from '../operator/kube/kubeconfig.ts';
import { type CachedProvider, projectPolicy, projectProvider } from '../operator/kube/objects.ts';
import type { RawObject } from '../operator/kube/store.ts';
import { conditionOf } from '../operator/reconcile/conditions.ts';
import { LastAccepted } from '../operator/reconcile/last-accepted.ts';
import { planNamespace } from '../operator/reconcile/plan.ts';
import { describeIssues, policyStatus } from '../operator/reconcile/policy-status.ts';

export interface ClusterConfig {
  snapshot: Snapshot;
  /** One line per object the operator does not serve as written: why, and what it serves instead. */
  warnings: string[];
  providers: number;
  policies: number;
}

/** Stands in for every API key: never sent anywhere, never printed. */
const PLACEHOLDER_KEY = Buffer.from('explain-placeholder-not-a-key').toString('base64');

export async function loadClusterNamespace(
  namespace: string,
  labels: Record<string, string>,
  kubeconfig?: string,
): Promise<ClusterConfig> {
  const custom = loadKubeConfig(kubeconfig).makeApiClient(CustomObjectsApi);
  const list = async (plural: string) =>
    (
      (await custom.listNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural,
      })) as {
        items?: RawObject[];
      }
    ).items ?? [];
  const [rawProviders, rawPolicies] = await Promise.all([list('modelproviders'), list('routingpolicies')]);
  const providers = rawProviders.map((raw) => projectProvider(raw));
  const policies = rawPolicies.map((raw) => projectPolicy(raw));
  const history = new LastAccepted();
  const plan = planNamespace(namespace, providers, policies, placeholderSecrets(namespace, providers), (p) =>
    history.recall(p),
  );
  const warnings: string[] = [];
  for (const p of plan.providers) {
    if (p.errors.length > 0)
      warnings.push(
        `ModelProvider ${namespace}/${p.cached.ref.name} is not ready: ${describeIssues(p.errors)}`,
      );
  }
  for (const p of plan.policies) {
    if (p.verdict.accepted) continue;
    const noCounts = { selected: 0, synced: 0, stale: 0, rejected: 0, rejections: [] };
    const accepted = conditionOf(policyStatus(p.cached, p.verdict, noCounts, undefined, ''), 'Accepted');
    warnings.push(
      `RoutingPolicy ${namespace}/${p.cached.ref.name} is not accepted: ${accepted?.message ?? ''}`,
    );
  }
  return {
    snapshot: snapshotFor(plan.compiled, namespace, labels),
    warnings,
    providers: providers.length,
    policies: policies.length,
  };
}

/**
 * A Secret per name the providers reference, holding a placeholder for each key they read, except
 * what a provider's own status (for its current generation) reports missing: the operator read the
 * real Secret, so its verdict stands in for reading it here.
 */
function placeholderSecrets(namespace: string, providers: readonly CachedProvider[]): Secret[] {
  const keys = new Map<string, Set<string>>();
  const missing = new Set<string>();
  for (const p of providers) {
    const ref = p.valid?.spec.auth?.secretRef;
    if (!ref) continue;
    const ready = conditionOf(p.status, 'Ready');
    const known = ready?.observedGeneration === p.ref.generation ? ready.reason : undefined;
    if (known === 'SecretNotFound') missing.add(ref.name);
    const held = keys.get(ref.name) ?? new Set<string>();
    if (known !== 'SecretKeyNotFound') held.add(ref.key);
    keys.set(ref.name, held);
  }
  return [...keys]
    .filter(([name]) => !missing.has(name))
    .map(([name, held]) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace },
      data: Object.fromEntries([...held].map((k) => [k, PLACEHOLDER_KEY])),
    }));
}

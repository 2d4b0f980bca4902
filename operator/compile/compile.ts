// compile(providers, policies, secrets) → snapshots + diagnostics. Pure: no I/O, no clock, no randomness,
// so the operator, `turnout dev` and `turnout explain` all get the same answer for the same manifests.
import type {
  Diagnostic,
  ModelProvider,
  RoutingPolicy,
  Secret,
  Snapshot,
  SnapshotPolicy,
  SnapshotProvider,
} from '../../api/index.ts';
import { SNAPSHOT_SCHEMA, withVersion } from '../../api/index.ts';
import { Diagnostics } from './diagnostics.ts';
import { compilePolicy, type ProviderIndex } from './policy.ts';
import { compileProvider, type CompiledProvider } from './provider.ts';

export interface CompiledNamespace {
  namespace: string;
  providers: ReadonlyMap<string, CompiledProvider>;
  /** Accepted policies in precedence order (see {@link byPrecedence}). */
  policies: readonly SnapshotPolicy[];
}

export interface WorkloadSnapshot {
  namespace: string;
  selector: Record<string, string>;
  snapshot: Snapshot;
}

export interface CompileResult {
  diagnostics: Diagnostic[];
  namespaces: ReadonlyMap<string, CompiledNamespace>;
  /** One snapshot per distinct workload selector: what a pod carrying exactly those labels runs (built on first use). */
  snapshots: WorkloadSnapshot[];
  /** Names ("ns/name") of the objects compiled without errors. */
  accepted: { providers: ReadonlySet<string>; policies: ReadonlySet<string> };
}

const nsOf = (o: { metadata: { namespace?: string | undefined } }) => o.metadata.namespace ?? 'default';
const keyOf = (o: { metadata: { name: string; namespace?: string | undefined } }) =>
  `${nsOf(o)}/${o.metadata.name}`;

export function compile(
  providers: readonly ModelProvider[],
  policies: readonly RoutingPolicy[],
  secrets: readonly Secret[],
): CompileResult {
  const diagnostics = new Diagnostics();
  const secretIndex = new Map(secrets.map((s) => [keyOf(s), s]));
  const namespaces = new Map<string, CompiledNamespace>();
  const acceptedProviders = new Set<string>();
  const acceptedPolicies = new Set<string>();
  const allNamespaces = [...new Set([...providers, ...policies].map(nsOf))].sort();
  for (const namespace of allNamespaces) {
    const ready = new Map<string, CompiledProvider>();
    const refused = new Set<string>();
    for (const mp of sortByName(providers.filter((p) => nsOf(p) === namespace))) {
      if (ready.has(mp.metadata.name) || refused.has(mp.metadata.name)) {
        diagnostics
          .forObject('ModelProvider', namespace, mp.metadata.name)
          .error('metadata.name', 'defined twice');
        continue;
      }
      const compiled = compileProvider(mp, secretIndex, diagnostics);
      if (compiled) {
        ready.set(mp.metadata.name, compiled);
        acceptedProviders.add(keyOf(mp));
      } else refused.add(mp.metadata.name);
    }
    const index: ProviderIndex = { ready: mapValues(ready, (c) => c.provider), refused };
    const compiledPolicies: SnapshotPolicy[] = [];
    const seenPolicies = new Set<string>();
    for (const rp of sortByName(policies.filter((p) => nsOf(p) === namespace))) {
      if (seenPolicies.has(rp.metadata.name)) {
        diagnostics
          .forObject('RoutingPolicy', namespace, rp.metadata.name)
          .error('metadata.name', 'defined twice');
        continue;
      }
      seenPolicies.add(rp.metadata.name);
      const compiled = compilePolicy(rp, index, diagnostics);
      if (compiled) {
        compiledPolicies.push(compiled);
        acceptedPolicies.add(keyOf(rp));
      }
    }
    namespaces.set(namespace, { namespace, providers: ready, policies: compiledPolicies.sort(byPrecedence) });
  }
  // Per-selector snapshots are built on first use: the operator builds each pod's snapshot itself
  // (snapshotFor), so hashing every selector's snapshot up front would be work nobody reads.
  let snapshots: WorkloadSnapshot[] | undefined;
  return {
    diagnostics: diagnostics.list,
    namespaces,
    get snapshots() {
      return (snapshots ??= workloadSnapshots(namespaces));
    },
    accepted: { providers: acceptedProviders, policies: acceptedPolicies },
  };
}

/** Policies that select specific workloads come before namespace-wide ones; ties break by name. */
export function byPrecedence(a: SnapshotPolicy, b: SnapshotPolicy): number {
  const specificity = Object.keys(b.selector).length - Object.keys(a.selector).length;
  return specificity !== 0 ? specificity : compareText(a.name, b.name);
}

export function selects(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  // No allocation: this runs pods × policies times.
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

/**
 * The snapshot for a pod in `namespace` with `labels`: the accepted policies selecting it and only the
 * providers and credentials those policies reference. `labels: 'all'` takes every policy (local mode).
 */
export function snapshotFor(
  compiled: CompiledNamespace | undefined,
  namespace: string,
  labels: Readonly<Record<string, string>> | 'all',
): Snapshot {
  const policies = (compiled?.policies ?? []).filter((p) => labels === 'all' || selects(p.selector, labels));
  const referenced = new Set<string>();
  for (const p of policies) {
    for (const r of p.routes) {
      for (const t of [...r.targets, ...r.fallbacks]) referenced.add(t.provider);
      if (r.shadow) referenced.add(r.shadow.provider);
    }
  }
  const providers: SnapshotProvider[] = [];
  const credentials: Record<string, string> = {};
  for (const name of [...referenced].sort()) {
    const c = compiled?.providers.get(name);
    if (!c) continue;
    providers.push(c.provider);
    if (c.provider.credential !== undefined && c.apiKey !== undefined)
      credentials[c.provider.credential] = c.apiKey;
  }
  return withVersion({ schema: SNAPSHOT_SCHEMA, namespace, policies, providers, credentials });
}

function workloadSnapshots(namespaces: ReadonlyMap<string, CompiledNamespace>): WorkloadSnapshot[] {
  const out: WorkloadSnapshot[] = [];
  for (const ns of namespaces.values()) {
    const key = (selector: Record<string, string>) => JSON.stringify(Object.entries(selector).sort());
    const selectors = new Map<string, Record<string, string>>([[key({}), {}]]);
    for (const p of ns.policies) selectors.set(key(p.selector), p.selector);
    for (const selector of selectors.values()) {
      out.push({ namespace: ns.namespace, selector, snapshot: snapshotFor(ns, ns.namespace, selector) });
    }
  }
  return out;
}

function sortByName<T extends { metadata: { name: string } }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => compareText(a.metadata.name, b.metadata.name));
}

function mapValues<K, V, W>(m: ReadonlyMap<K, V>, f: (v: V) => W): Map<K, W> {
  return new Map([...m].map(([k, v]) => [k, f(v)]));
}

/** Code-unit order, not locale order: the version hash must not depend on the machine's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// What one namespace compiles to, without I/O: each object's verdict, and the compilation sidecars get.
// A policy whose current generation is refused is compiled from its last accepted version instead, so
// sidecars keep running that while its status reports the refusal.
import type { Diagnostic, RoutingPolicy, Secret } from '../../api/index.ts';
import { compile, type CompiledNamespace } from '../compile/index.ts';
import type { CachedPolicy, CachedProvider, Issue } from '../kube/objects.ts';
import { LAST_ACCEPTED_ANNOTATION } from './last-accepted.ts';
import type { PolicyVerdict } from './policy-status.ts';

export interface ProviderPlan {
  cached: CachedProvider;
  errors: Issue[];
  warnings: Issue[];
}

export interface PolicyPlan {
  cached: CachedPolicy;
  verdict: PolicyVerdict;
  /** The workload selector of the version sidecars get, if any version is served. */
  selector?: Record<string, string> | undefined;
}

export interface NamespacePlan {
  namespace: string;
  compiled: CompiledNamespace | undefined;
  providers: ProviderPlan[];
  policies: PolicyPlan[];
}

export function planNamespace(
  namespace: string,
  providers: readonly CachedProvider[],
  policies: readonly CachedPolicy[],
  secrets: readonly Secret[],
  recall: (policy: CachedPolicy) => RoutingPolicy | undefined,
): NamespacePlan {
  const validProviders = providers.flatMap((p) => (p.valid ? [p.valid] : []));
  const validPolicies = policies.flatMap((p) => (p.valid ? [p.valid] : []));
  const first = compile(validProviders, validPolicies, secrets);
  const key = (name: string) => `${namespace}/${name}`;
  const served: RoutingPolicy[] = [];
  const fallbacks = new Map<string, RoutingPolicy>();
  for (const p of policies) {
    if (p.valid && first.accepted.policies.has(key(p.ref.name))) served.push(p.valid);
    else {
      const previous = recall(p);
      if (previous) fallbacks.set(p.ref.name, previous);
    }
  }
  const result =
    fallbacks.size > 0 ? compile(validProviders, [...served, ...fallbacks.values()], secrets) : first;
  return {
    namespace,
    compiled: result.namespaces.get(namespace),
    providers: providers.map((cached) => ({
      cached,
      ...issuesOf(cached, 'ModelProvider', first.diagnostics),
    })),
    policies: policies.map((cached) => {
      const accepted = first.accepted.policies.has(key(cached.ref.name)) && cached.valid !== undefined;
      const fallback = fallbacks.get(cached.ref.name);
      const servedVersion = accepted
        ? cached.valid
        : fallback && result.accepted.policies.has(key(cached.ref.name))
          ? fallback
          : undefined;
      const { errors, warnings } = issuesOf(cached, 'RoutingPolicy', first.diagnostics);
      const verdict: PolicyVerdict = {
        accepted,
        errors,
        warnings,
        routes: cached.valid?.spec.routes.length ?? 0,
        servedGeneration: servedVersion?.metadata.generation,
      };
      return { cached, verdict, selector: servedVersion && selectorOf(servedVersion) };
    }),
  };
}

const selectorOf = (p: RoutingPolicy): Record<string, string> => p.spec.workloadSelector?.matchLabels ?? {};

function issuesOf(
  cached: CachedProvider | CachedPolicy,
  kind: string,
  diagnostics: readonly Diagnostic[],
): { errors: Issue[]; warnings: Issue[] } {
  if (!cached.valid) return { errors: cached.issues, warnings: [] };
  const mine = diagnostics.filter((d) => d.kind === kind && d.name === cached.ref.name);
  const pick = (severity: Diagnostic['severity']) =>
    mine.filter((d) => d.severity === severity).map((d) => ({ path: d.path, message: d.message }));
  return { errors: pick('error'), warnings: pick('warning') };
}

/**
 * What a namespace's plan is computed from, as a list of primitives: two equal lists give equal plans.
 * Spec edits move `generation`; status patches (the operator's own, a few per policy per push) move
 * only `resourceVersion` and status, which compile never reads, so their watch events need no compile.
 * The last-accepted annotation is included as it feeds a refused policy's fallback. Undefined when an
 * object has no generation (nothing then says whether its spec changed).
 */
export function planInputs(
  providers: readonly CachedProvider[],
  policies: readonly CachedPolicy[],
  secrets: readonly Secret[],
): (string | number)[] | undefined {
  const out: (string | number)[] = [providers.length, policies.length, secrets.length];
  for (const p of [...providers, ...policies]) {
    if (!(p.ref.generation > 0)) return undefined;
    out.push(p.ref.uid, p.ref.generation, p.annotations[LAST_ACCEPTED_ANNOTATION] ?? '');
  }
  for (const s of secrets) {
    const { uid, resourceVersion } = s.metadata;
    if (!resourceVersion) return undefined;
    out.push(uid ?? '', resourceVersion);
  }
  return out;
}

export function sameInputs(a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

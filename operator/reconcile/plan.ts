// What one namespace compiles to, without I/O: each object's verdict, and the compilation sidecars get.
// A policy whose current generation is refused is compiled from its last accepted version instead, so
// sidecars keep running that while its status reports the refusal. When that version no longer compiles
// because something it references broke since (a Secret or ModelProvider deleted, a model removed), it
// is served without the targets that no longer resolve, as long as every route keeps a target.
import type { Diagnostic, RoutingPolicy, Secret } from '../../api/index.ts';
import { compile, type CompileResult, type CompiledNamespace } from '../compile/index.ts';
import type { CachedPolicy, CachedProvider, Issue } from '../kube/objects.ts';
import { LAST_ACCEPTED_ANNOTATION } from './last-accepted.ts';
import type { PolicyVerdict } from './policy-status.ts';
import { withoutUnresolvedTargets } from './unresolved-targets.ts';

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

/** The version served in place of a refused generation, and the targets left out of it. */
interface StandIn {
  policy: RoutingPolicy;
  /** The generation recalled, kept even when nothing of it can be served (for a truthful message). */
  recalled: number;
  /** It is the current generation: accepted once, refused now for a reference that broke since. */
  current: boolean;
  dropped: string[];
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
  const standIns = new Map<string, StandIn>();
  for (const p of policies) {
    if (p.valid && first.accepted.policies.has(key(p.ref.name))) served.push(p.valid);
    else {
      const previous = recall(p);
      const recalled = previous?.metadata.generation;
      if (previous && recalled !== undefined) {
        const current = p.valid !== undefined && recalled === p.ref.generation;
        standIns.set(p.ref.name, { policy: previous, recalled, current, dropped: [] });
      }
    }
  }
  const result = compileStandIns(namespace, first, standIns, (ins) =>
    compile(validProviders, [...served, ...ins], secrets),
  );
  return {
    namespace,
    compiled: result.namespaces.get(namespace),
    providers: providers.map((cached) => ({
      cached,
      ...issuesOf(cached, 'ModelProvider', first.diagnostics),
    })),
    policies: policies.map((cached) => {
      const accepted = first.accepted.policies.has(key(cached.ref.name)) && cached.valid !== undefined;
      const standIn = standIns.get(cached.ref.name);
      const standInServed = standIn && result.accepted.policies.has(key(cached.ref.name));
      const servedVersion = accepted ? cached.valid : standInServed ? standIn.policy : undefined;
      const { errors, warnings } = issuesOf(cached, 'RoutingPolicy', first.diagnostics);
      const verdict: PolicyVerdict = {
        accepted,
        errors,
        warnings,
        routes: cached.valid?.spec.routes.length ?? 0,
        servedGeneration: servedVersion?.metadata.generation,
        ...(standInServed && standIn.dropped.length > 0 && { dropped: standIn.dropped }),
        ...(!accepted && !standInServed && standIn && { lastAcceptedGeneration: standIn.recalled }),
      };
      return { cached, verdict, selector: servedVersion && selectorOf(servedVersion) };
    }),
  };
}

/**
 * Compiles the served policies with the stand-ins. A stand-in was accepted once, and compile depends
 * only on a policy's spec and the namespace's providers: whatever refuses it now is a reference that
 * broke since. One refused for its targets alone is compiled once more without them. A stand-in of the
 * current generation has the spec `first` refused, so it is trimmed by `first`'s diagnostics up front.
 */
function compileStandIns(
  namespace: string,
  first: CompileResult,
  standIns: ReadonlyMap<string, StandIn>,
  compileWith: (standIns: RoutingPolicy[]) => CompileResult,
): CompileResult {
  if (standIns.size === 0) return first;
  const trim = (from: CompileResult, which: (s: StandIn) => boolean): boolean => {
    let trimmed = false;
    for (const [name, s] of standIns) {
      if (!which(s) || from.accepted.policies.has(`${namespace}/${name}`)) continue;
      const without = withoutUnresolvedTargets(s.policy, errorsOf(from.diagnostics, name));
      if (!without) continue;
      s.policy = without.policy;
      s.dropped = without.dropped;
      trimmed = true;
    }
    return trimmed;
  };
  trim(first, (s) => s.current);
  // A current one `first` refused and trimming could not help would be refused again: not compiled.
  const compilable = [...standIns.values()].filter((s) => !s.current || s.dropped.length > 0);
  if (compilable.length === 0) return first;
  const all = () => compilable.map((s) => s.policy);
  const result = compileWith(all());
  return trim(result, (s) => compilable.includes(s) && s.dropped.length === 0) ? compileWith(all()) : result;
}

function errorsOf(diagnostics: readonly Diagnostic[], name: string): Issue[] {
  return diagnostics
    .filter((d) => d.kind === 'RoutingPolicy' && d.name === name && d.severity === 'error')
    .map((d) => ({ path: d.path, message: d.message }));
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

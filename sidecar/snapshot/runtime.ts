// A Snapshot made ready for the hot path: globs compiled, header/tag matches flattened to entry lists,
// providers bound to their adapter and transport. Built once per snapshot, read by every request.
import type {
  Snapshot,
  SnapshotModel,
  SnapshotPolicy,
  SnapshotProvider,
  SnapshotRoute,
} from '../../api/index.ts';
import { modelMatcher } from '../routing/glob.ts';
import { routeIndex, type ModelRoutes } from '../routing/route-index.ts';
import type { ProviderAdapter, Transport } from '../providers/types.ts';

export interface RuntimeRoute {
  policy: SnapshotPolicy;
  route: SnapshotRoute;
  matchModel: (model: string) => boolean;
  headerEntries: [string, string][];
  tagEntries: [string, string][];
}

export interface RuntimeProvider {
  spec: SnapshotProvider;
  models: ReadonlyMap<string, SnapshotModel>;
  /** Absent when this sidecar has no adapter for the provider's type; `unsupported` says why. */
  adapter?: ProviderAdapter;
  transport?: Transport;
  unsupported?: string;
  apiKey: string | undefined;
}

export interface RuntimeSnapshot {
  version: string;
  namespace: string;
  policies: readonly SnapshotPolicy[];
  routes: readonly RuntimeRoute[];
  defaultRoute: RuntimeRoute | undefined;
  providers: ReadonlyMap<string, RuntimeProvider>;
  /** Model names a caller may ask for: literal route matches, plus every target model when a default route exists. */
  modelNames: readonly string[];
  /** The routes whose model patterns accept `model`, in precedence order, indexed for first match (cached per model name). */
  routesFor(model: string): ModelRoutes;
}

export type ProviderBinder = (
  spec: SnapshotProvider,
) => Pick<RuntimeProvider, 'adapter' | 'transport' | 'unsupported'>;

export function buildRuntime(snapshot: Snapshot, bind: ProviderBinder): RuntimeSnapshot {
  const routes: RuntimeRoute[] = [];
  let defaultRoute: RuntimeRoute | undefined;
  for (const policy of snapshot.policies) {
    for (const route of policy.routes) {
      const rr: RuntimeRoute = {
        policy,
        route,
        matchModel: modelMatcher(route.match.models),
        headerEntries: Object.entries(route.match.headers),
        tagEntries: Object.entries(route.match.tags),
      };
      routes.push(rr);
      if (defaultRoute === undefined && policy.defaultRoute === route.name) defaultRoute = rr;
    }
  }
  const providers = new Map<string, RuntimeProvider>();
  for (const spec of snapshot.providers) {
    providers.set(spec.name, {
      spec,
      models: new Map(spec.models.map((m) => [m.name, m])),
      apiKey: spec.credential === undefined ? undefined : snapshot.credentials[spec.credential],
      ...bind(spec),
    });
  }
  return {
    version: snapshot.version,
    namespace: snapshot.namespace,
    policies: snapshot.policies,
    routes,
    defaultRoute,
    providers,
    modelNames: modelNames(snapshot.policies, defaultRoute !== undefined),
    routesFor: routeIndex(routes),
  };
}

function modelNames(policies: readonly SnapshotPolicy[], hasDefault: boolean): string[] {
  const names = new Set<string>();
  for (const p of policies) {
    for (const r of p.routes) {
      for (const m of r.match.models) if (!/[*?]/.test(m)) names.add(m);
      if (hasDefault) for (const t of [...r.targets, ...r.fallbacks]) names.add(t.model);
    }
  }
  return [...names].sort();
}

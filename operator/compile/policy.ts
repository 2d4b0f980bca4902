import type {
  Capability,
  Route,
  RoutingPolicy,
  SnapshotPolicy,
  SnapshotProvider,
  SnapshotRoute,
  Target,
} from '../../api/index.ts';
import { parseDuration } from '../../api/index.ts';
import { ROUTE_DEFAULTS } from './defaults.ts';
import type { Diagnostics, ObjectReporter } from './diagnostics.ts';

/** Providers of one namespace, plus why any of them was refused (so a policy can say what to fix). */
export interface ProviderIndex {
  ready: ReadonlyMap<string, SnapshotProvider>;
  refused: ReadonlySet<string>;
}

export function compilePolicy(
  rp: RoutingPolicy,
  providers: ProviderIndex,
  diagnostics: Diagnostics,
): SnapshotPolicy | undefined {
  const namespace = rp.metadata.namespace ?? 'default';
  const d = diagnostics.forObject('RoutingPolicy', namespace, rp.metadata.name);
  const spec = rp.spec;
  checkUniqueNames(
    spec.routes.map((r) => r.name),
    'spec.routes',
    'route',
    d,
  );
  checkUniqueNames(
    (spec.budgets ?? []).map((b) => b.name),
    'spec.budgets',
    'budget',
    d,
  );
  const routeNames = new Set(spec.routes.map((r) => r.name));
  if (spec.defaultRoute !== undefined && !routeNames.has(spec.defaultRoute)) {
    d.error(
      'spec.defaultRoute',
      `defaultRoute "${spec.defaultRoute}" is not one of the routes: ${[...routeNames].join(', ')}`,
    );
  }
  const routes = spec.routes.map((r, i) => compileRoute(r, `spec.routes[${i}]`, providers, d));
  checkUnreachable(spec.routes, d);
  checkBudgets(rp, routeNames, d);
  checkRedirectConstraints(rp, providers, d);
  checkRateLimits(rp, d);
  if (d.errorCount() > 0) return undefined;
  return {
    name: rp.metadata.name,
    namespace,
    generation: rp.metadata.generation ?? 0,
    selector: spec.workloadSelector?.matchLabels ?? {},
    routes: routes as SnapshotRoute[],
    ...(spec.defaultRoute !== undefined && { defaultRoute: spec.defaultRoute }),
    budgets: (spec.budgets ?? []).map((b) => ({
      name: b.name,
      limitUSD: b.limitUSD,
      window: b.window,
      scope: normaliseScope(b.scope),
      action: b.action ?? 'reject',
    })),
    rateLimits: (spec.rateLimits ?? []).map((l) => ({ ...l, scope: normaliseScope(l.scope) })),
  };
}

const normaliseScope = (scope: string | undefined): string =>
  scope === undefined || scope === 'policy' ? 'policy' : scope.toLowerCase();

function compileRoute(
  r: Route,
  path: string,
  providers: ProviderIndex,
  d: ObjectReporter,
): SnapshotRoute | undefined {
  const strategy = r.strategy ?? 'priority';
  const requires = r.match?.requires ?? [];
  const providerTags = r.constraints?.providerTags ?? {};
  const targets = checkTargets(r.targets, `${path}.targets`, requires, providers, d);
  const fallbacks = checkTargets(r.fallbacks ?? [], `${path}.fallbacks`, requires, providers, d);
  checkStrategy(r, strategy, path, providers, d);
  checkConstraints([...targets, ...fallbacks], providerTags, path, providers, d);
  if (r.shadow) {
    checkTargets([r.shadow], `${path}.shadow`, [], providers, d);
    checkShadowConstraints(r.shadow, providerTags, `${path}.shadow`, providers, d);
  }
  const pt = r.match?.promptTokens;
  if (pt?.min !== undefined && pt.max !== undefined && pt.min > pt.max) {
    d.error(`${path}.match.promptTokens`, `min (${pt.min}) is above max (${pt.max}): no request could match`);
  }
  const backoffBaseMs = ms(r.retry?.backoff?.base, ROUTE_DEFAULTS.backoffBaseMs);
  const backoffMaxMs = ms(r.retry?.backoff?.max, ROUTE_DEFAULTS.backoffMaxMs);
  if (backoffBaseMs > backoffMaxMs) d.error(`${path}.retry.backoff`, 'base is above max');
  const firstTokenMs = optionalMs(r.timeouts?.firstToken);
  const totalMs = optionalMs(r.timeouts?.total);
  if (firstTokenMs !== undefined && totalMs !== undefined && firstTokenMs > totalMs) {
    d.error(
      `${path}.timeouts.firstToken`,
      'firstToken is longer than total: no answer could ever arrive in time',
    );
  }
  return {
    name: r.name,
    match: {
      models: r.match?.model ?? [],
      headers: lowerKeys(r.match?.headers ?? {}),
      ...(pt?.min !== undefined && { promptTokensMin: pt.min }),
      ...(pt?.max !== undefined && { promptTokensMax: pt.max }),
      requires: [...new Set(requires)].sort(),
      tags: r.match?.tags ?? {},
    },
    strategy,
    targets: targets.map(withWeight),
    fallbacks: fallbacks.map(withWeight),
    retry: {
      attempts: r.retry?.attempts ?? ROUTE_DEFAULTS.attempts,
      backoffBaseMs,
      backoffMaxMs,
      on: [...(r.retry?.on ?? ROUTE_DEFAULTS.on)],
    },
    timeouts: {
      ...(firstTokenMs !== undefined && { firstTokenMs }),
      ...(totalMs !== undefined && { totalMs }),
    },
    providerTags,
    ...(r.affinity && {
      affinity: {
        header: r.affinity.header.toLowerCase(),
        ttlMs: ms(r.affinity.ttl, ROUTE_DEFAULTS.affinityTtlMs),
      },
    }),
    ...(r.cascade && { cascade: r.cascade.accept }),
    ...(r.cache && {
      cache: {
        ttlMs: parseDuration(r.cache.ttl),
        maxEntries: r.cache.maxEntries ?? ROUTE_DEFAULTS.cacheMaxEntries,
      },
    }),
    ...(r.shadow && { shadow: r.shadow }),
  };
}

const ms = (d: string | undefined, fallback: number) => (d === undefined ? fallback : parseDuration(d));
const optionalMs = (d: string | undefined) => (d === undefined ? undefined : parseDuration(d));
const withWeight = (t: Target) => ({ provider: t.provider, model: t.model, weight: t.weight ?? 1 });
const lowerKeys = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

function checkTargets(
  targets: readonly Target[],
  path: string,
  requires: readonly Capability[],
  providers: ProviderIndex,
  d: ObjectReporter,
): Target[] {
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    const at = `${path}[${i}]`;
    const key = `${t.provider}/${t.model}`;
    if (seen.has(key)) d.error(at, `${key} is listed twice`);
    seen.add(key);
    const provider = providers.ready.get(t.provider);
    if (!provider) {
      const why = providers.refused.has(t.provider)
        ? `ModelProvider "${t.provider}" is not ready (see its diagnostics)`
        : `no ModelProvider "${t.provider}" in this namespace (have: ${[...providers.ready.keys()].join(', ') || 'none'})`;
      d.error(`${at}.provider`, why);
      return;
    }
    const model = provider.models.find((m) => m.name === t.model);
    if (!model) {
      d.error(
        `${at}.model`,
        `ModelProvider "${t.provider}" has no model "${t.model}" (has: ${provider.models.map((m) => m.name).join(', ')})`,
      );
      return;
    }
    const missing = requires.filter((c) => !model.capabilities.includes(c));
    if (missing.length > 0) {
      d.error(
        at,
        `${key} lacks ${missing.join(', ')}, which this route requires (it has: ${model.capabilities.join(', ')})`,
      );
    }
  });
  return [...targets];
}

function checkStrategy(
  r: Route,
  strategy: string,
  path: string,
  providers: ProviderIndex,
  d: ObjectReporter,
): void {
  const hasWeights = r.targets.some((t) => t.weight !== undefined);
  if (strategy === 'weighted' && hasWeights && r.targets.every((t) => (t.weight ?? 1) === 0)) {
    d.error(`${path}.targets`, 'weighted strategy needs at least one target with weight > 0');
  }
  if (strategy !== 'weighted' && hasWeights) {
    d.warning(`${path}.targets`, `weights only matter for strategy weighted (this route uses ${strategy})`);
  }
  if (strategy === 'cascade' && !r.cascade) {
    d.error(`${path}.cascade`, 'strategy cascade needs cascade.accept: how to tell an acceptable answer');
  }
  if (strategy !== 'cascade' && r.cascade)
    d.warning(`${path}.cascade`, `ignored: strategy is ${strategy}, not cascade`);
  if (strategy === 'least-cost' || strategy === 'cascade') {
    r.targets.forEach((t, i) => {
      const model = providers.ready.get(t.provider)?.models.find((m) => m.name === t.model);
      if (model && !model.pricing) {
        d.error(
          `${path}.targets[${i}]`,
          `${strategy} ranks by price, but ${t.provider}/${t.model} has no pricing`,
        );
      }
    });
  }
}

function checkConstraints(
  targets: readonly Target[],
  tags: Record<string, string>,
  path: string,
  providers: ProviderIndex,
  d: ObjectReporter,
): void {
  if (Object.keys(tags).length === 0) return;
  const bad = targets.filter((t) => providers.ready.has(t.provider) && !hasTags(providers, t, tags));
  if (bad.length === targets.length && targets.length > 0) {
    d.error(
      `${path}.constraints.providerTags`,
      'no target satisfies these provider tags: every request would be refused',
    );
  } else if (bad.length > 0) {
    d.warning(
      `${path}.constraints.providerTags`,
      `never used, as their providers lack the required tags: ${bad.map((t) => `${t.provider}/${t.model}`).join(', ')}`,
    );
  }
}

const hasTags = (providers: ProviderIndex, t: Target, tags: Record<string, string>): boolean => {
  const p = providers.ready.get(t.provider);
  return p !== undefined && Object.entries(tags).every(([k, v]) => p.tags[k] === v);
};
const tagList = (tags: Record<string, string>) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** A shadow copy carries the route's requests: it may only go where the route's constraints allow. */
function checkShadowConstraints(
  shadow: Target,
  tags: Record<string, string>,
  path: string,
  providers: ProviderIndex,
  d: ObjectReporter,
): void {
  if (Object.keys(tags).length === 0 || !providers.ready.has(shadow.provider)) return;
  if (!hasTags(providers, shadow, tags)) {
    d.error(
      `${path}.provider`,
      `${shadow.provider}/${shadow.model} lacks the provider tags this route requires (${tagList(tags)}): shadow copies would send its requests where constraints.providerTags forbids; shadow to a provider with those tags, or drop shadow`,
    );
  }
}

/**
 * A budget's route:<name> moves calls of every route of the policy to that route, and they keep the
 * providerTags of the route they matched: the route they land on must have a target that honours them.
 */
function checkRedirectConstraints(rp: RoutingPolicy, providers: ProviderIndex, d: ObjectReporter): void {
  const routes = new Map(rp.spec.routes.map((r) => [r.name, r]));
  (rp.spec.budgets ?? []).forEach((b, i) => {
    const action = b.action ?? 'reject';
    const to = action.startsWith('route:') ? routes.get(action.slice('route:'.length)) : undefined;
    if (!to) return;
    const targets = [...to.targets, ...(to.fallbacks ?? [])].filter((t) => providers.ready.has(t.provider));
    for (const from of rp.spec.routes) {
      const tags = from.constraints?.providerTags ?? {};
      if (from === to || Object.keys(tags).length === 0 || targets.length === 0) continue;
      const bad = targets.filter((t) => !hasTags(providers, t, tags));
      if (bad.length === targets.length) {
        d.error(
          `spec.budgets[${i}].action`,
          `"${action}" would move calls of route "${from.name}" to route "${to.name}", whose targets all lack the provider tags "${from.name}" requires (${tagList(tags)}): give "${to.name}" a target with those tags, or use action reject`,
        );
      } else if (bad.length > 0) {
        d.warning(
          `spec.budgets[${i}].action`,
          `calls of route "${from.name}" moved to route "${to.name}" never use ${bad.map((t) => `${t.provider}/${t.model}`).join(', ')}, which lack the provider tags "${from.name}" requires (${tagList(tags)})`,
        );
      }
    }
  });
}

function checkUnreachable(routes: readonly Route[], d: ObjectReporter): void {
  const catchAll = routes.findIndex((r) => r.match === undefined || Object.keys(r.match).length === 0);
  if (catchAll >= 0 && catchAll < routes.length - 1) {
    d.warning(
      `spec.routes[${catchAll}].match`,
      `matches every request, so routes after "${routes[catchAll]?.name}" are never used`,
    );
  }
}

function checkUniqueNames(names: readonly string[], path: string, what: string, d: ObjectReporter): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) d.error(`${path}[${i}].name`, `${what} name "${n}" is used twice`);
    seen.add(n);
  });
}

function checkBudgets(rp: RoutingPolicy, routeNames: ReadonlySet<string>, d: ObjectReporter): void {
  (rp.spec.budgets ?? []).forEach((b, i) => {
    const action = b.action ?? 'reject';
    if (action.startsWith('route:') && !routeNames.has(action.slice('route:'.length))) {
      d.error(`spec.budgets[${i}].action`, `"${action}" names no route of this policy`);
    }
  });
  const seen = new Map<string, number>();
  (rp.spec.budgets ?? []).forEach((b, i) => {
    const key = `${b.window}/${normaliseScope(b.scope)}/${b.action ?? 'reject'}`;
    const earlier = seen.get(key);
    if (earlier !== undefined)
      d.warning(
        `spec.budgets[${i}]`,
        `same window, scope and action as budgets[${earlier}]: only the smaller limit matters`,
      );
    seen.set(key, i);
  });
}

function checkRateLimits(rp: RoutingPolicy, d: ObjectReporter): void {
  const seen = new Map<string, number>();
  (rp.spec.rateLimits ?? []).forEach((l, i) => {
    const scope = normaliseScope(l.scope);
    const earlier = seen.get(scope);
    if (earlier !== undefined)
      d.warning(
        `spec.rateLimits[${i}].scope`,
        `scope "${scope}" is limited twice (also rateLimits[${earlier}])`,
      );
    seen.set(scope, i);
  });
}

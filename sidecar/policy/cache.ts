// The route's exact-match response cache: a hit is replayed in the caller's dialect with no upstream
// call and no cost; only complete, successful answers are stored.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { canonicalJson } from '../../api/index.ts';
import { cacheable, cacheKey, type CachedAnswer, type ResponseCache } from '../cache/index.ts';
import type { RuntimeRoute, RuntimeSnapshot } from '../snapshot/runtime.ts';
import type { Call } from '../upstream/call.ts';
import { headerValue } from '../upstream/candidates.ts';
import type { DispatchOutcome } from '../upstream/dispatch.ts';

export interface RouteCache {
  cache: ResponseCache;
  key: string;
}

/**
 * The cache for this call, or undefined when the route caches nothing or the caller opted out.
 *
 * The key hashes what the upstream is sent: the canonical (OpenAI-shaped) body for OpenAI callers, and
 * for Anthropic callers their own body — an Anthropic upstream receives the caller's bytes, with fields
 * the canonical form drops (thinking, top_k, service_tier…) that change the answer. The caller's dialect
 * is part of the key, and so is the route's fingerprint: what about the route can change an answer.
 */
export function routeCache(call: Call, api: string): RouteCache | undefined {
  const settings = call.route.route.cache;
  if (!settings || !cacheable(call.body)) return undefined;
  if (/no-store|no-cache/i.test(headerValue(call.features.headers['x-turnout-cache']) ?? ''))
    return undefined;
  const routeKey = cachedRouteKey(call.route, call.runtime);
  const body = call.caller === 'openai' ? call.body : call.callerBody;
  return {
    cache: call.state.caches.forRoute(routeKey, settings),
    key: cacheKey(routeKey, `${api}|${call.caller}`, body),
  };
}

/**
 * A route's cache in the sidecar's CacheRegistry: the route and its fingerprint. A reload that changes
 * what the route answers with gives it a new, empty cache, and CacheRegistry.retain lets go of the old one.
 */
function cachedRouteKey(route: RuntimeRoute, runtime: RuntimeSnapshot): string {
  const { policy, route: r } = route;
  return `${policy.namespace}/${policy.name}/${r.name}@${routeFingerprint(route, runtime)}`;
}

/** The registry keys of the snapshot's routes that cache: what CacheRegistry.retain keeps once it is loaded. */
export function cachedRouteKeys(runtime: RuntimeSnapshot): string[] {
  return runtime.routes.filter((r) => r.route.cache !== undefined).map((r) => cachedRouteKey(r, runtime));
}

const fingerprints = new WeakMap<RuntimeRoute, string>();

/**
 * A hash of what can change the answers a route gives: its targets and fallbacks, strategy, cascade
 * rules and providerTags, and for each provider it names the type, endpoint, tags and settings of the
 * models used (deployment, context window…). A reload that leaves all of that alone — another route's
 * edit, a budget, a limit, a timeout, a rotated key, prices — keeps the route's cached answers; a change
 * to any of it makes them misses. Computed once per route per snapshot.
 */
export function routeFingerprint(route: RuntimeRoute, runtime: RuntimeSnapshot): string {
  let fp = fingerprints.get(route);
  if (fp !== undefined) return fp;
  const r = route.route;
  const used = [...r.targets, ...r.fallbacks];
  const providers = [...new Set(used.map((t) => t.provider))].sort().map((name) => {
    const spec = runtime.providers.get(name)?.spec;
    if (!spec) return { name };
    const models = spec.models
      .filter((m) => used.some((t) => t.provider === name && t.model === m.name))
      .map(({ pricing: _pricing, ...answerShaping }) => answerShaping);
    const { type, endpoint, tags, azure, mock, simulated } = spec;
    return { name, type, endpoint, tags, azure, mock, simulated, models };
  });
  const identity = {
    strategy: r.strategy,
    targets: r.targets,
    fallbacks: r.fallbacks,
    providerTags: r.providerTags,
    cascade: r.cascade,
    providers,
  };
  fp = createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 32);
  fingerprints.set(route, fp);
  return fp;
}

export function replay(res: ServerResponse, answer: CachedAnswer, attemptsHeader = '0'): void {
  const headers: Record<string, string> = {
    ...answer.headers,
    'x-turnout-cache': 'hit',
    'x-turnout-attempts': attemptsHeader,
  };
  delete headers['x-turnout-cost-usd'];
  if (answer.stream) {
    res.writeHead(answer.status, headers);
    for (const e of answer.events) res.write(e);
    res.end();
  } else {
    res.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) });
    res.end(answer.body);
  }
}

export function store(rc: RouteCache, out: DispatchOutcome): void {
  const rec = out.recorded;
  if (!rec || out.status !== 200 || out.streamError !== undefined) return;
  const common = {
    status: 200,
    headers: rec.headers,
    model: out.model,
    provider: out.provider,
    ...(out.usage && { usage: out.usage }),
  };
  if (rec.body) rc.cache.set(rc.key, { ...common, stream: false, body: rec.body });
  else if (rec.frames) rc.cache.set(rc.key, { ...common, stream: true, events: rec.frames });
}

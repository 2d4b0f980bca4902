// The route's exact-match response cache: a hit is replayed in the caller's dialect with no upstream
// call and no cost; only complete, successful answers are stored.
import type { ServerResponse } from 'node:http';
import { cacheable, cacheKey, type CachedAnswer, type ResponseCache } from '../cache/index.ts';
import type { Call } from '../upstream/call.ts';
import { headerValue, routeKeyOf } from '../upstream/candidates.ts';
import type { DispatchOutcome } from '../upstream/dispatch.ts';

export interface RouteCache {
  cache: ResponseCache;
  key: string;
}

/** The cache for this call, or undefined when the route caches nothing or the caller opted out. */
export function routeCache(call: Call, api: string): RouteCache | undefined {
  const settings = call.route.route.cache;
  if (!settings || !cacheable(call.body)) return undefined;
  if (/no-store|no-cache/i.test(headerValue(call.features.headers['x-turnout-cache']) ?? ''))
    return undefined;
  const routeKey = `${routeKeyOf(call)}@${call.runtime.version}`;
  return {
    cache: call.state.caches.forRoute(routeKeyOf(call), settings),
    key: cacheKey(routeKey, api, call.body),
  };
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

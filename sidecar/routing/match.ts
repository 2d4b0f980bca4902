import type { RequestFeatures } from './features.ts';
import type { RuntimeRoute, RuntimeSnapshot } from '../snapshot/runtime.ts';

/** First route (in policy precedence, then declaration order) whose match accepts the request. */
export function matchRoute(snapshot: RuntimeSnapshot, f: RequestFeatures): RuntimeRoute | undefined {
  // Only routes whose model patterns accept the name can match; that set is indexed per model name.
  return snapshot.routesFor(f.model).first(f) ?? snapshot.defaultRoute;
}

/** One route's verdict, checked the plain way (explain, and the reference the index is tested against). */
export function routeAccepts(r: RuntimeRoute, f: RequestFeatures): boolean {
  return r.matchModel(f.model) && acceptsBesidesModel(r, f);
}

function acceptsBesidesModel(r: RuntimeRoute, f: RequestFeatures): boolean {
  const m = r.route.match;
  for (const [name, value] of r.headerEntries) if (f.headers[name] !== value) return false;
  for (const [key, value] of r.tagEntries) if (f.tags[key] !== value) return false;
  if (m.promptTokensMax !== undefined && f.promptTokens > m.promptTokensMax) return false;
  if (m.promptTokensMin !== undefined && f.promptTokens < m.promptTokensMin) return false;
  for (const c of m.requires) if (!f.requires.includes(c)) return false;
  return true;
}

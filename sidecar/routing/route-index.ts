// The first-match lookup behind matchRoute. Per model name: the routes whose model patterns accept it
// (in precedence order), split into lanes by one header or tag each route requires, so a request only
// checks the routes that could accept its header/tag value instead of every route for that model. With
// many routes told apart by a header (one per team, say) a decision checks one route, not all of them.
import type { Capability } from '../../api/index.ts';
import type { RuntimeRoute } from '../snapshot/runtime.ts';
import type { RequestFeatures } from './features.ts';
import { MAX_MODEL_NAME_LENGTH } from './match.ts';

/** A route's match conditions besides the model, flattened once so checking them allocates nothing. */
interface Conditions {
  headers: readonly { name: string; value: string }[];
  tags: readonly { name: string; value: string }[];
  /** -Infinity / Infinity when unbounded: the comparisons below then never reject. */
  minTokens: number;
  maxTokens: number;
  requires: readonly Capability[];
}

function conditionsOf(r: RuntimeRoute): Conditions {
  const m = r.route.match;
  return {
    headers: r.headerEntries.map(([name, value]) => ({ name, value })),
    tags: r.tagEntries.map(([name, value]) => ({ name, value })),
    minTokens: m.promptTokensMin ?? Number.NEGATIVE_INFINITY,
    maxTokens: m.promptTokensMax ?? Number.POSITIVE_INFINITY,
    requires: m.requires,
  };
}

/** Same verdict as routeAccepts in match.ts once the model has matched. */
function accepts(c: Conditions, f: RequestFeatures): boolean {
  for (const h of c.headers) if (f.headers[h.name] !== h.value) return false;
  for (const t of c.tags) if (f.tags[t.name] !== t.value) return false;
  if (f.promptTokens > c.maxTokens || f.promptTokens < c.minTokens) return false;
  for (const cap of c.requires) if (!f.requires.includes(cap)) return false;
  return true;
}

/** Routes that require `header`/tag `name` to have one value; positions into ModelRoutes.routes by value. */
interface Lane {
  header: boolean;
  name: string;
  byValue: ReadonlyMap<string, readonly number[]>;
}

/** One header or tag value a route requires; `key` names its lane ("h:x-team", "t:tier"). */
interface Requirement {
  key: string;
  header: boolean;
  name: string;
  value: string;
}

const requirementsOf = (c: Conditions): Requirement[] => [
  ...c.headers.map((h) => ({ key: `h:${h.name}`, header: true, ...h })),
  ...c.tags.map((t) => ({ key: `t:${t.name}`, header: false, ...t })),
];

/** Splits routes (by position) into lanes, each route in the lane of one of its requirements, or unkeyed. */
function lanesOf(conditions: readonly Conditions[]): { unkeyed: number[]; lanes: Lane[] } {
  const counts = new Map<string, number>();
  for (const c of conditions)
    for (const r of requirementsOf(c)) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
  const count = (r: Requirement) => counts.get(r.key) ?? 0;
  const unkeyed: number[] = [];
  const lanes = new Map<string, { header: boolean; name: string; byValue: Map<string, number[]> }>();
  conditions.forEach((c, position) => {
    // The route's most widely shared requirement (the first on a tie), so there are few lanes to look in.
    const best = requirementsOf(c).reduce<Requirement | undefined>(
      (a, r) => (a === undefined || count(r) > count(a) ? r : a),
      undefined,
    );
    if (best === undefined) {
      unkeyed.push(position);
      return;
    }
    let lane = lanes.get(best.key);
    if (!lane) lanes.set(best.key, (lane = { header: best.header, name: best.name, byValue: new Map() }));
    const positions = lane.byValue.get(best.value);
    if (positions) positions.push(position);
    else lane.byValue.set(best.value, [position]);
  });
  return { unkeyed, lanes: [...lanes.values()] };
}

export class ModelRoutes {
  /** Every route whose model patterns accept the name, in precedence order. */
  readonly routes: readonly RuntimeRoute[];
  readonly #conditions: readonly Conditions[];
  /** Positions of the routes that require no header or tag: any request may match them. */
  readonly #unkeyed: readonly number[];
  readonly #lanes: readonly Lane[];

  constructor(routes: readonly RuntimeRoute[], conditions: readonly Conditions[]) {
    this.routes = routes;
    this.#conditions = conditions;
    const { unkeyed, lanes } = lanesOf(conditions);
    this.#unkeyed = unkeyed;
    this.#lanes = lanes;
  }

  /** The first route (by precedence) that accepts the request, as a scan of `routes` would find it. */
  first(f: RequestFeatures): RuntimeRoute | undefined {
    let best = this.#firstAccepting(this.#unkeyed, f, this.routes.length);
    for (const lane of this.#lanes) {
      const value = lane.header ? f.headers[lane.name] : f.tags[lane.name];
      // A route keyed here requires exactly this string; anything else (absent, repeated) fails them all.
      if (typeof value !== 'string') continue;
      const positions = lane.byValue.get(value);
      if (positions !== undefined) best = this.#firstAccepting(positions, f, best);
    }
    return this.routes[best];
  }

  /** The smallest position in `positions` (ascending) below `best` whose route accepts, else `best`. */
  #firstAccepting(positions: readonly number[], f: RequestFeatures, best: number): number {
    for (const p of positions) {
      if (p >= best) return best;
      if (accepts(this.#conditions[p] as Conditions, f)) return p;
    }
    return best;
  }
}

/** Distinct model names remembered per snapshot; beyond this the cache starts over (callers use few names). */
const MODEL_CACHE_LIMIT = 1024;

/** What every name that no route's model patterns accept gets (the default route may still serve it). */
const NO_ROUTES = new ModelRoutes([], []);

/**
 * The routes for a model name, built on first use and cached per name. Only names some route accepts
 * are cached, and only those no longer than a model id can be: the cache then holds at most
 * MODEL_CACHE_LIMIT × MAX_MODEL_NAME_LENGTH characters, however many names callers invent.
 */
export function routeIndex(routes: readonly RuntimeRoute[]): (model: string) => ModelRoutes {
  const conditions = routes.map(conditionsOf);
  let cache = new Map<string, ModelRoutes>();
  return (model) => {
    let hit = cache.get(model);
    if (hit === undefined) {
      const positions: number[] = [];
      for (let i = 0; i < routes.length; i++)
        if ((routes[i] as RuntimeRoute).matchModel(model)) positions.push(i);
      if (positions.length === 0) return NO_ROUTES;
      hit = new ModelRoutes(
        positions.map((i) => routes[i] as RuntimeRoute),
        positions.map((i) => conditions[i] as Conditions),
      );
      if (model.length <= MAX_MODEL_NAME_LENGTH) {
        if (cache.size >= MODEL_CACHE_LIMIT) cache = new Map();
        cache.set(model, hit);
      }
    }
    return hit;
  };
}

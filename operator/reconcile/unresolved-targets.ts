// A policy version that compiled once, less the targets whose references broke since. Chosen over
// serving the last compiled snapshot unchanged: it follows only from the objects in the cluster now, so
// every replica (and a restarted operator) serves the same thing, and a deleted Secret or ModelProvider
// stops being used at once, as whoever deleted it meant, while the policy's other targets keep serving.
import type { RoutingPolicy, Target } from '../../api/index.ts';
import type { Issue } from '../kube/objects.ts';

/** An error located at one target (or the shadow) of a route, with what it refers to. */
const TARGET_PATH = /^spec\.routes\[(\d+)\]\.(targets|fallbacks)\[(\d+)\](?:\.provider|\.model)?$/;
const SHADOW_PATH = /^spec\.routes\[(\d+)\]\.shadow(?:\[0\])?(?:\.provider|\.model)?$/;

export interface TrimmedPolicy {
  policy: RoutingPolicy;
  /** "provider/model" of every target left out. */
  dropped: string[];
}

/**
 * `policy` without the targets `errors` name, or undefined when an error is about anything else, or a
 * route would be left without a target (its requests would have nowhere to go: better to say so than to
 * serve a route that fails every call). Fallbacks and shadows may all go.
 */
export function withoutUnresolvedTargets(
  policy: RoutingPolicy,
  errors: readonly Issue[],
): TrimmedPolicy | undefined {
  if (errors.length === 0) return undefined;
  const drop = new Set<string>();
  for (const e of errors) {
    const target = TARGET_PATH.exec(e.path);
    const shadow = target ? undefined : SHADOW_PATH.exec(e.path);
    if (target) drop.add(`${target[1]}/${target[2]}/${target[3]}`);
    else if (shadow) drop.add(`${shadow[1]}/shadow`);
    else return undefined;
  }
  const dropped = new Set<string>();
  const keep = (list: readonly Target[], route: number, kind: string) =>
    list.filter((t, i) => {
      if (!drop.has(`${route}/${kind}/${i}`)) return true;
      dropped.add(`${t.provider}/${t.model}`);
      return false;
    });
  const routes = policy.spec.routes.map((r, i) => {
    const { shadow, ...rest } = r;
    const keepShadow = shadow !== undefined && !drop.has(`${i}/shadow`);
    if (shadow && !keepShadow) dropped.add(`${shadow.provider}/${shadow.model}`);
    return {
      ...rest,
      targets: keep(r.targets, i, 'targets'),
      ...(r.fallbacks !== undefined && { fallbacks: keep(r.fallbacks, i, 'fallbacks') }),
      ...(keepShadow && { shadow }),
    };
  });
  if (routes.some((r) => r.targets.length === 0)) return undefined;
  return { policy: { ...policy, spec: { ...policy.spec, routes } }, dropped: [...dropped].sort() };
}

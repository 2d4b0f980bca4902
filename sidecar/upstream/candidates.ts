import type { SnapshotModel, SnapshotTarget } from '../../api/index.ts';
import { orderTargets, type Random } from '../routing/strategy.ts';
import type { RuntimeProvider } from '../snapshot/runtime.ts';
import type { Call, SkipRecord } from './call.ts';

export interface Candidate {
  target: SnapshotTarget;
  provider: RuntimeProvider;
  model: SnapshotModel;
}

/**
 * The targets this call may use, in the order to try them, and why any was left out. providerTags
 * constraints are hard: a non-compliant target is never used, failover included.
 */
export function candidatesFor(
  call: Call,
  random?: Random,
): { candidates: Candidate[]; skipped: SkipRecord[] } {
  const route = call.route.route;
  const tagEntries = Object.entries(route.providerTags);
  const candidates: Candidate[] = [];
  const skipped: SkipRecord[] = [];
  for (const target of orderTargets(route, random)) {
    const skip = (reason: string) => skipped.push({ provider: target.provider, model: target.model, reason });
    const provider = call.runtime.providers.get(target.provider);
    const model = provider?.models.get(target.model);
    if (!provider || !model) skip('not in the snapshot');
    else if (provider.unsupported !== undefined) skip(provider.unsupported);
    else if (tagEntries.some(([k, v]) => provider.spec.tags[k] !== v))
      skip('constraint: provider tags do not match');
    else candidates.push({ target, provider, model });
  }
  if (route.strategy === 'least-cost') sortByEstimatedCost(candidates, route.targets.length, call);
  return { candidates, skipped };
}

/**
 * least-cost: primary targets cheapest first for this request's estimated tokens (prompt estimate plus
 * max_tokens, or 256 output tokens when the caller sets no cap). Fallbacks keep their place at the end.
 */
function sortByEstimatedCost(candidates: Candidate[], primaryCount: number, call: Call): void {
  const body = call.body as { max_tokens?: unknown; max_completion_tokens?: unknown };
  const cap = Number(body.max_completion_tokens ?? body.max_tokens ?? 256) || 256;
  const estimate = (c: Candidate) => {
    const p = c.model.pricing;
    return p ? call.features.promptTokens * p.input + cap * p.output : Number.POSITIVE_INFINITY;
  };
  const primary = candidates
    .filter((c) => !call.route.route.fallbacks.includes(c.target))
    .slice(0, primaryCount);
  const rest = candidates.slice(primary.length);
  primary.sort((a, b) => estimate(a) - estimate(b));
  candidates.splice(0, candidates.length, ...primary, ...rest);
}

import type { SnapshotModel, SnapshotTarget } from '../../api/index.ts';
import { orderTargets } from '../routing/strategy.ts';
import type { RuntimeProvider } from '../snapshot/runtime.ts';
import { targetKey, type Call, type SkipRecord } from './call.ts';

export interface Candidate {
  target: SnapshotTarget;
  provider: RuntimeProvider;
  model: SnapshotModel;
  fallback: boolean;
}

/**
 * The targets this call may use, in the order to try them, and why any was left out. providerTags
 * constraints are hard: a non-compliant target is never used, failover included.
 */
export function candidatesFor(call: Call): { candidates: Candidate[]; skipped: SkipRecord[] } {
  const route = call.route.route;
  const tagEntries = Object.entries(route.providerTags);
  const needed = call.features.promptTokens + (explicitOutputCap(call) ?? 0);
  const fallbacks = new Set(route.fallbacks);
  const candidates: Candidate[] = [];
  const skipped: SkipRecord[] = [];
  for (const target of orderTargets(route, call.state.random)) {
    const skip = (reason: string) => skipped.push({ provider: target.provider, model: target.model, reason });
    const provider = call.runtime.providers.get(target.provider);
    const model = provider?.models.get(target.model);
    if (!provider || !model) skip('not in the snapshot');
    else if (provider.unsupported !== undefined) skip(provider.unsupported);
    else if (tagEntries.some(([k, v]) => provider.spec.tags[k] !== v))
      skip('constraint: provider tags do not match');
    else if (call.operation !== 'chat' && !model.capabilities.includes(call.operation))
      skip(`the model does not declare the ${call.operation} capability`);
    else if (model.contextWindow !== undefined && needed > model.contextWindow) {
      skip(`context window: the request needs ~${needed} tokens, the model has ${model.contextWindow}`);
    } else candidates.push({ target, provider, model, fallback: fallbacks.has(target) });
  }
  const primary = candidates.filter((c) => !c.fallback);
  const rest = candidates.filter((c) => c.fallback);
  const ordered = [...orderPrimary(call, primary), ...rest];
  return { candidates: pinAffinity(call, ordered), skipped };
}

function orderPrimary(call: Call, primary: Candidate[]): Candidate[] {
  const strategy = call.route.route.strategy;
  if (strategy === 'least-cost' || strategy === 'cascade')
    return [...primary].sort((a, b) => estimateUSD(call, a) - estimateUSD(call, b));
  if (strategy === 'least-latency') {
    return call.state.latency.orderByLatency(primary, (c) => targetKey(c.target), {
      stream: call.features.stream,
      random: call.state.random,
    });
  }
  return primary;
}

/** A returning session goes back to the target that served it, while that target remains a candidate. */
function pinAffinity(call: Call, ordered: Candidate[]): Candidate[] {
  const affinity = call.route.route.affinity;
  const session = affinity && headerValue(call.features.headers[affinity.header]);
  if (!session) return ordered;
  const pinned = call.state.affinity.get(routeKeyOf(call), session);
  const index = pinned === undefined ? -1 : ordered.findIndex((c) => targetKey(c.target) === pinned);
  if (index <= 0) return ordered;
  call.affinityHit = true;
  return [ordered[index] as Candidate, ...ordered.slice(0, index), ...ordered.slice(index + 1)];
}

export const routeKeyOf = (call: Call) =>
  `${call.route.policy.namespace}/${call.route.policy.name}/${call.route.route.name}`;

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function explicitOutputCap(call: Call): number | undefined {
  const body = call.body as {
    max_tokens?: unknown;
    max_completion_tokens?: unknown;
    max_output_tokens?: unknown;
  };
  const cap = Number(body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens);
  return Number.isFinite(cap) && cap > 0 ? cap : undefined;
}

/** Output tokens the request may produce: its own cap, else a conservative default for admission. */
export function requestedOutputTokens(call: Call, model?: SnapshotModel): number {
  return (
    explicitOutputCap(call) ??
    (model?.maxOutputTokens !== undefined ? Math.min(model.maxOutputTokens, 4096) : 4096)
  );
}

/** The most this call could cost on a candidate: the prompt estimate plus the output cap at list prices. */
export function estimateUSD(call: Call, c: Pick<Candidate, 'model'>): number {
  const p = c.model.pricing;
  if (!p) return 0;
  return (call.features.promptTokens * p.input + requestedOutputTokens(call, c.model) * p.output) / 1_000_000;
}

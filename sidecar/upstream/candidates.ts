import type { SnapshotModel, SnapshotRoute, SnapshotTarget } from '../../api/index.ts';
import { weightedOrder } from '../routing/strategy.ts';
import type { RuntimeProvider, RuntimeRoute, RuntimeSnapshot } from '../snapshot/runtime.ts';
import { InvalidRequest } from '../translate/index.ts';
import { targetKey, type Call, type SkipRecord, type TargetKey } from './call.ts';

/** One target a call may use. Shared by every call on its route (resolved once per snapshot): read-only. */
export interface Candidate {
  readonly target: SnapshotTarget;
  readonly provider: RuntimeProvider;
  readonly model: SnapshotModel;
  readonly fallback: boolean;
}

/** A candidate with its latency/affinity key computed once, not per call. */
interface KeyedCandidate extends Candidate {
  key: TargetKey;
}

/** One of a route's targets resolved against the snapshot once: everything about it that no call changes. */
type PlannedTarget = { target: SnapshotTarget; weight: number } & (
  { never: string; candidate?: undefined } | { never?: undefined; candidate: KeyedCandidate }
);

interface RoutePlan {
  /** The providers the plan was resolved against: a route is only ever used with its own snapshot's. */
  providers: RuntimeSnapshot['providers'];
  weighted: boolean;
  primary: readonly PlannedTarget[];
  fallbacks: readonly PlannedTarget[];
}

// Keyed by the route object, so a plan lives exactly as long as the snapshot its route belongs to.
const plans = new WeakMap<RuntimeRoute, RoutePlan>();

function planFor(call: Call): RoutePlan {
  const cached = plans.get(call.route);
  if (cached !== undefined && cached.providers === call.runtime.providers) return cached;
  const plan = buildPlan(call.route.route, call.runtime.providers);
  plans.set(call.route, plan);
  return plan;
}

function buildPlan(route: SnapshotRoute, providers: RuntimeSnapshot['providers']): RoutePlan {
  const tagEntries = Object.entries(route.providerTags);
  const fallbacks = new Set(route.fallbacks);
  const planned = (target: SnapshotTarget): PlannedTarget => {
    const weight = target.weight;
    const provider = providers.get(target.provider);
    const model = provider?.models.get(target.model);
    if (!provider || !model) return { target, weight, never: 'not in the snapshot' };
    if (provider.unsupported !== undefined) return { target, weight, never: provider.unsupported };
    if (tagEntries.some(([k, v]) => provider.spec.tags[k] !== v))
      return { target, weight, never: 'constraint: provider tags do not match' };
    const fallback = fallbacks.has(target);
    return { target, weight, candidate: { target, provider, model, fallback, key: targetKey(target) } };
  };
  return {
    providers,
    weighted: route.strategy === 'weighted',
    primary: route.targets.map(planned),
    fallbacks: route.fallbacks.map(planned),
  };
}

/**
 * The targets this call may use, in the order to try them, and why any was left out. providerTags
 * constraints are hard: a non-compliant target is never used, failover included.
 */
export function candidatesFor(call: Call): { candidates: Candidate[]; skipped: SkipRecord[] } {
  const plan = planFor(call);
  const cap = explicitOutputCap(call);
  const needed = call.features.promptTokens + (cap ?? 0);
  const skipped: SkipRecord[] = [];
  const primary: KeyedCandidate[] = [];
  // A target listed both as a target and as a fallback is tried with the fallbacks.
  let demoted: KeyedCandidate[] | undefined;
  for (const p of plan.weighted ? weightedOrder(plan.primary, call.state.random) : plan.primary) {
    const c = eligible(call, p, needed, skipped);
    if (c === undefined) continue;
    if (c.fallback) (demoted ??= []).push(c);
    else primary.push(c);
  }
  const ordered = orderPrimary(call, primary, cap);
  if (demoted) ordered.push(...demoted);
  for (const p of plan.fallbacks) {
    const c = eligible(call, p, needed, skipped);
    if (c !== undefined) ordered.push(c);
  }
  return { candidates: pinAffinity(call, ordered), skipped };
}

/** The target's candidate if this call may use it; else records why not. */
function eligible(
  call: Call,
  p: PlannedTarget,
  needed: number,
  skipped: SkipRecord[],
): KeyedCandidate | undefined {
  const reason =
    p.candidate === undefined
      ? p.never
      : (whyNotCarried(call, p.candidate.provider) ?? whyNot(call, p.candidate.model, needed));
  if (reason === undefined) return p.candidate;
  skipped.push({ provider: p.target.provider, model: p.target.model, reason });
  return undefined;
}

/** A redirected call still honours the providerTags of the route it first matched. */
function whyNotCarried(call: Call, provider: RuntimeProvider): string | undefined {
  const carried = call.carriedProviderTags;
  if (carried === undefined) return undefined;
  const tags = provider.spec.tags;
  return carried.some((required) => Object.entries(required).some(([k, v]) => tags[k] !== v))
    ? 'constraint: provider tags of the route the call was redirected from do not match'
    : undefined;
}

/** What keeps this call off a model the route may otherwise use. */
function whyNot(call: Call, model: SnapshotModel, needed: number): string | undefined {
  if (call.operation !== 'chat' && !model.capabilities.includes(call.operation))
    return `the model does not declare the ${call.operation} capability`;
  if (model.contextWindow !== undefined && needed > model.contextWindow)
    return `context window: the request needs ~${needed} tokens, the model has ${model.contextWindow}`;
  return undefined;
}

/** `primary` in the route strategy's order; a fresh array the caller may extend. */
function orderPrimary(call: Call, primary: KeyedCandidate[], cap: number | undefined): KeyedCandidate[] {
  const strategy = call.route.route.strategy;
  if (strategy === 'least-cost' || strategy === 'cascade') {
    const prompt = call.features.promptTokens;
    return sortByKey(
      primary,
      primary.map((c) => costOf(prompt, cap, c.model)),
    );
  }
  if (strategy === 'least-latency') {
    return call.state.latency.orderByLatency(primary, keyOf, {
      stream: call.features.stream,
      random: call.state.random,
    });
  }
  return primary;
}

const keyOf = (c: KeyedCandidate) => c.key;

/** Stable insertion sort of `items` (in place) by `keys`, cheaper than Array#sort for a route's few targets. */
function sortByKey<T>(items: T[], keys: number[]): T[] {
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as T;
    const key = keys[i] as number;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as number) > key; j--) {
      items[j + 1] = items[j] as T;
      keys[j + 1] = keys[j] as number;
    }
    items[j + 1] = item;
    keys[j + 1] = key;
  }
  return items;
}

/** A returning session goes back to the target that served it, while that target remains a candidate. */
function pinAffinity(call: Call, ordered: KeyedCandidate[]): Candidate[] {
  const affinity = call.route.route.affinity;
  const session = affinity && headerValue(call.features.headers[affinity.header]);
  if (!session) return ordered;
  const pinned = call.state.affinity.get(routeKeyOf(call), session);
  const index = pinned === undefined ? -1 : ordered.findIndex((c) => c.key === pinned);
  if (index <= 0) return ordered;
  call.affinityHit = true;
  return [ordered[index] as Candidate, ...ordered.slice(0, index), ...ordered.slice(index + 1)];
}

export const routeKeyOf = (call: Call) =>
  `${call.route.policy.namespace}/${call.route.policy.name}/${call.route.route.name}`;

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The fields that cap a request's output, the first one set winning (chat's current, chat's old, Responses). */
const OUTPUT_CAPS = ['max_completion_tokens', 'max_tokens', 'max_output_tokens'] as const;

/**
 * The request's own output cap; undefined when it sets none (or one the upstream will refuse, such as 0).
 * Budgets and limits are charged by it, so a cap that is not a number is refused here, naming it.
 */
export function explicitOutputCap(call: Call): number | undefined {
  const body = call.body as Partial<Record<(typeof OUTPUT_CAPS)[number], unknown>>;
  let cap: number | undefined;
  for (const param of OUTPUT_CAPS) {
    const value = body[param];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number') throw new InvalidRequest(param, 'must be a number');
    cap ??= value;
  }
  return cap !== undefined && Number.isFinite(cap) && cap > 0 ? cap : undefined;
}

/** Output tokens the request may produce: its own cap, else a conservative default for rate limits. */
export function requestedOutputTokens(call: Call, model?: SnapshotModel): number {
  return outputTokens(explicitOutputCap(call), model);
}

function outputTokens(cap: number | undefined, model: SnapshotModel | undefined): number {
  return cap ?? (model?.maxOutputTokens !== undefined ? Math.min(model.maxOutputTokens, 4096) : 4096);
}

/** Output tokens a budget reserves for a call without max_tokens on a model that declares no maxOutputTokens. */
const DEFAULT_OUTPUT_RESERVATION = 4096;

/**
 * Output tokens a budget reserves: the call's cap, bounded by the model's maxOutputTokens — the most it
 * can ever produce, and what it may produce when the call sets no cap. Only a model that declares
 * nothing falls back to the default, which a long answer can exceed (docs/routing.md says by how much).
 */
function reservedOutputTokens(cap: number | undefined, model: SnapshotModel): number {
  const max = model.maxOutputTokens;
  if (cap === undefined) return max ?? DEFAULT_OUTPUT_RESERVATION;
  return max === undefined ? cap : Math.min(cap, max);
}

/** The most this call could cost on a candidate: the prompt estimate plus the output it may produce, at list prices. */
export function estimateUSD(call: Call, c: Pick<Candidate, 'model'>): number {
  const p = c.model.pricing;
  if (!p) return 0;
  const output = reservedOutputTokens(explicitOutputCap(call), c.model);
  return (call.features.promptTokens * p.input + output * p.output) / 1_000_000;
}

/**
 * A candidate's cost for ranking (least-cost, cascade), on the output the rate limits assume rather
 * than the budget's worst case: a model that allows longer answers does not rank as dearer for it.
 */
function costOf(promptTokens: number, cap: number | undefined, model: SnapshotModel): number {
  const p = model.pricing;
  if (!p) return 0;
  return (promptTokens * p.input + outputTokens(cap, model) * p.output) / 1_000_000;
}

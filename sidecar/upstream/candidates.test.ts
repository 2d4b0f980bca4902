// candidatesFor resolves each route's targets once per snapshot and reuses them; it must give exactly
// what resolving them afresh on every call gives. `reference` below is that plain per-call version
// (the one it replaced), and generated routes, providers and calls must agree with it in candidates,
// skip records, affinity and the random draws consumed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type {
  Capability,
  Snapshot,
  SnapshotProvider,
  SnapshotRoute,
  SnapshotTarget,
} from '../../api/index.ts';
import { orderTargets } from '../routing/strategy.ts';
import { AffinityStore, LatencyTracker } from '../health/index.ts';
import type { SidecarState } from '../runtime-state.ts';
import { buildRuntime } from '../snapshot/runtime.ts';
import { targetKey, type Call, type SkipRecord } from './call.ts';
import { candidatesFor, explicitOutputCap, headerValue, routeKeyOf, type Candidate } from './candidates.ts';
import { InvalidRequest } from '../translate/index.ts';

function reference(call: Call): { candidates: Candidate[]; skipped: SkipRecord[] } {
  const route = call.route.route;
  const body = call.body as { max_tokens?: unknown };
  const capRaw = Number(body.max_tokens);
  const cap = Number.isFinite(capRaw) && capRaw > 0 ? capRaw : undefined;
  const needed = call.features.promptTokens + (cap ?? 0);
  const fallbacks = new Set(route.fallbacks);
  const candidates: Candidate[] = [];
  const skipped: SkipRecord[] = [];
  for (const target of orderTargets(route, call.state.random)) {
    const skip = (reason: string) => skipped.push({ provider: target.provider, model: target.model, reason });
    const provider = call.runtime.providers.get(target.provider);
    const model = provider?.models.get(target.model);
    if (!provider || !model) skip('not in the snapshot');
    else if (provider.unsupported !== undefined) skip(provider.unsupported);
    else if (Object.entries(route.providerTags).some(([k, v]) => provider.spec.tags[k] !== v))
      skip('constraint: provider tags do not match');
    else if (call.operation !== 'chat' && !model.capabilities.includes(call.operation))
      skip(`the model does not declare the ${call.operation} capability`);
    else if (model.contextWindow !== undefined && needed > model.contextWindow)
      skip(`context window: the request needs ~${needed} tokens, the model has ${model.contextWindow}`);
    else candidates.push({ target, provider, model, fallback: fallbacks.has(target) });
  }
  const cost = (c: Candidate) => {
    const p = c.model.pricing;
    const out =
      cap ?? (c.model.maxOutputTokens !== undefined ? Math.min(c.model.maxOutputTokens, 4096) : 4096);
    return p ? (call.features.promptTokens * p.input + out * p.output) / 1_000_000 : 0;
  };
  let primary = candidates.filter((c) => !c.fallback);
  if (route.strategy === 'least-cost' || route.strategy === 'cascade')
    primary = [...primary].sort((a, b) => cost(a) - cost(b));
  else if (route.strategy === 'least-latency')
    primary = call.state.latency.orderByLatency(primary, (c) => targetKey(c.target), {
      stream: call.features.stream,
      random: call.state.random,
    });
  const ordered = [...primary, ...candidates.filter((c) => c.fallback)];
  const session = route.affinity && headerValue(call.features.headers[route.affinity.header]);
  if (!session) return { candidates: ordered, skipped };
  const pinned = call.state.affinity.get(routeKeyOf(call), session);
  const index = pinned === undefined ? -1 : ordered.findIndex((c) => targetKey(c.target) === pinned);
  if (index <= 0) return { candidates: ordered, skipped };
  call.affinityHit = true;
  return { candidates: [ordered[index]!, ...ordered.slice(0, index), ...ordered.slice(index + 1)], skipped };
}

const PROVIDERS = ['p0', 'p1', 'p2'];
const MODELS = ['a', 'b', 'c'];

const provider = (name: string) =>
  fc
    .record({
      models: fc.uniqueArray(
        fc.record({
          name: fc.constantFrom(...MODELS),
          pricing: fc.option(fc.record({ input: fc.integer({ max: 10 }), output: fc.integer({ max: 10 }) }), {
            nil: undefined,
          }),
          contextWindow: fc.constantFrom(undefined, undefined, 100, 1000, 100_000),
          maxOutputTokens: fc.option(fc.constantFrom(50, 8192), { nil: undefined }),
          capabilities: fc.subarray<Capability>(['chat', 'embeddings']),
        }),
        { selector: (m) => m.name, minLength: 2, maxLength: 3 },
      ),
      region: fc.constantFrom('eu', 'us'),
      unsupported: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    })
    .map((p): SnapshotProvider => ({
      name,
      type: p.unsupported ? 'gemini' : 'openai',
      simulated: true,
      models: p.models.map((m) => ({
        name: m.name,
        capabilities: m.capabilities,
        ...(m.pricing && { pricing: { ...m.pricing, cachedInput: 0 } }),
        ...(m.contextWindow !== undefined && { contextWindow: m.contextWindow }),
        ...(m.maxOutputTokens !== undefined && { maxOutputTokens: m.maxOutputTokens }),
      })),
      tags: { region: p.region },
      limits: {},
      timeouts: { connectMs: 1, firstTokenMs: 1, idleMs: 1, totalMs: 1 },
      circuitBreaker: { consecutiveFailures: 1, openForMs: 1 },
    }));

const target = fc.record({
  provider: fc.constantFrom(...PROVIDERS, 'gone'),
  model: fc.constantFrom(...MODELS),
  weight: fc.integer({ min: 0, max: 3 }),
});

const route = fc
  .record({
    strategy: fc.constantFrom<SnapshotRoute['strategy'][]>(
      'priority',
      'weighted',
      'least-cost',
      'least-latency',
      'cascade',
    ),
    targets: fc.array(target, { minLength: 1, maxLength: 5 }),
    fallbacks: fc.array(target, { maxLength: 2 }),
    alsoFallback: fc.boolean(), // the first target object listed as a fallback too
    region: fc.constantFrom(undefined, undefined, 'eu', 'us'),
    affinity: fc.boolean(),
  })
  .map((r): SnapshotRoute => ({
    name: 'r',
    match: { models: [], headers: {}, requires: [], tags: {} },
    strategy: r.strategy,
    targets: r.targets,
    fallbacks: r.alsoFallback ? [...r.fallbacks, r.targets[0] as SnapshotTarget] : r.fallbacks,
    retry: { attempts: 0, backoffBaseMs: 1, backoffMaxMs: 1, on: [] },
    timeouts: {},
    providerTags: r.region ? { region: r.region } : {},
    ...(r.affinity && { affinity: { header: 'x-session', ttlMs: 60_000 } }),
  }));

const request = fc.record({
  operation: fc.constantFrom<Call['operation'][]>('chat', 'chat', 'embeddings'),
  promptTokens: fc.constantFrom(0, 60, 60, 900, 200_000),
  maxTokens: fc.option(fc.constantFrom(30, 2000), { nil: undefined }),
  stream: fc.boolean(),
  session: fc.option(fc.constantFrom('s1', 's2'), { nil: undefined }),
  pinned: fc.option(fc.tuple(fc.constantFrom(...PROVIDERS), fc.constantFrom(...MODELS)), { nil: undefined }),
  measured: fc.subarray(PROVIDERS.flatMap((p) => MODELS.map((m) => `${p}/${m}`))),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 2 }),
});

describe('candidatesFor', () => {
  it('gives what resolving every target afresh gives, draw for draw', () => {
    let ordered = 0;
    fc.assert(
      fc.property(
        fc.tuple(...PROVIDERS.map(provider)),
        route,
        fc.array(request, { minLength: 1, maxLength: 5 }),
        (providers, r, requests) => {
          const snapshot: Snapshot = {
            schema: 1,
            version: 'v',
            namespace: 'ns',
            policies: [
              {
                name: 'pol',
                namespace: 'ns',
                generation: 1,
                selector: {},
                routes: [r],
                budgets: [],
                rateLimits: [],
              },
            ],
            providers,
            credentials: {},
          };
          const runtime = buildRuntime(snapshot, (spec) =>
            spec.type === 'gemini' ? { unsupported: 'no adapter here' } : {},
          );
          const routeOf = runtime.routes[0]!;
          for (const q of requests) {
            const callFor = () => {
              let seed = q.seed;
              // Only what candidatesFor reads; a full createSidecarState preallocates far too much per run.
              const state = {
                latency: new LatencyTracker({ maxKeys: 16 }),
                affinity: new AffinityStore({ maxEntries: 16 }),
                random: () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646,
              } as Partial<SidecarState> as SidecarState;
              q.measured.forEach((key, i) =>
                state.latency.record(key, { totalMs: 100 + ((i * 37) % 5), ttftMs: i }),
              );
              if (q.session && q.pinned)
                state.affinity.set('ns/pol/r', q.session, q.pinned.join('/'), 60_000);
              return {
                runtime,
                route: routeOf,
                body: { model: 'x', ...(q.maxTokens !== undefined && { max_tokens: q.maxTokens }) },
                operation: q.operation,
                features: {
                  model: 'x',
                  stream: q.stream,
                  promptTokens: q.promptTokens,
                  requires: ['chat'],
                  tags: {},
                  headers: q.session ? { 'x-session': q.session } : {},
                },
                state,
                attempts: [],
                skipped: [],
              } as Partial<Call> as Call;
            };
            const [planned, plain] = [callFor(), callFor()];
            const got = candidatesFor(planned);
            if (r.strategy !== 'priority' && got.candidates.filter((c) => !c.fallback).length > 1) ordered++;
            const want = reference(plain);
            const shape = (cs: Candidate[]) =>
              cs.map((c) => ({
                target: c.target,
                provider: c.provider,
                model: c.model,
                fallback: c.fallback,
              }));
            assert.deepEqual(shape(got.candidates), shape(want.candidates));
            got.candidates.forEach((c, i) =>
              assert.equal(c.target, want.candidates[i]!.target, 'same target object'),
            );
            assert.deepEqual(got.skipped, want.skipped);
            assert.equal(planned.affinityHit, plain.affinityHit);
            assert.equal(planned.state.random(), plain.state.random(), 'the same number of draws');
          }
        },
      ),
      { numRuns: 1000 },
    );
    // The generator must reach what can go wrong: several candidates put in order by a strategy.
    assert.ok(ordered > 100, `only ${ordered} calls had several candidates to order`);
  });
});

describe('explicitOutputCap', () => {
  const cap = (body: Record<string, unknown>) => explicitOutputCap({ body } as unknown as Call);

  it('takes the first cap set: max_completion_tokens, max_tokens, then Responses max_output_tokens', () => {
    assert.equal(cap({ max_completion_tokens: 10, max_tokens: 20 }), 10);
    assert.equal(cap({ max_tokens: 20, max_output_tokens: 30 }), 20);
    assert.equal(cap({ max_output_tokens: 30 }), 30);
    assert.equal(cap({ max_tokens: null }), undefined);
    assert.equal(
      cap({ max_tokens: 0 }),
      undefined,
      "one the upstream will refuse: not the sidecar's to charge",
    );
  });

  it('refuses a cap that is not a number with a 400 naming it (budgets are charged by it)', () => {
    for (const param of ['max_completion_tokens', 'max_tokens', 'max_output_tokens'])
      for (const value of [{ toString: 1 }, { valueOf: 1 }, '100', [5], true])
        assert.throws(
          () => cap({ [param]: value }),
          (e: unknown) => e instanceof InvalidRequest && e.param === param && e.status === 400,
          `${param}: ${JSON.stringify(value)}`,
        );
  });
});

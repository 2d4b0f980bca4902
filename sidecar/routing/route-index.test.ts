// The route index must pick exactly the route a plain first-match scan picks: checked on generated
// route sets and requests that share model names, header and tag values, so lanes, unkeyed routes,
// several lanes per model and the default route all come up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Capability, Snapshot, SnapshotPolicy, SnapshotRoute } from '../../api/index.ts';
import { buildRuntime, type RuntimeRoute, type RuntimeSnapshot } from '../snapshot/runtime.ts';
import type { RequestFeatures } from './features.ts';
import { matchRoute, MAX_MODEL_NAME_LENGTH, routeAccepts } from './match.ts';

const MODELS = ['m1', 'm2', 'gpt-4o', 'gpt-4o-mini'];
const PATTERNS = [...MODELS, 'gpt-*', '*-mini', 'm?', '*'];
const NAMES = ['x-team', 'x-env'];
const TAGS = ['tier', 'team'];
const VALUES = ['a', 'b', 'c'];
const CAPS: Capability[] = ['chat', 'streaming', 'tools', 'vision'];

const values = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...VALUES));
const bound = fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined });

const routeMatch = fc.record({
  models: fc.subarray(PATTERNS, { maxLength: 2 }),
  headers: values(NAMES),
  tags: values(TAGS),
  promptTokensMin: bound,
  promptTokensMax: bound,
  requires: fc.subarray(CAPS, { maxLength: 2 }),
});

function route(name: string, match: SnapshotRoute['match']): SnapshotRoute {
  return {
    name,
    match,
    strategy: 'priority',
    targets: [{ provider: 'p', model: 'm', weight: 1 }],
    fallbacks: [],
    retry: { attempts: 0, backoffBaseMs: 1, backoffMaxMs: 1, on: [] },
    timeouts: {},
    providerTags: {},
  };
}

const policies = fc
  .array(fc.record({ routes: fc.array(routeMatch, { maxLength: 12 }), withDefault: fc.boolean() }), {
    minLength: 1,
    maxLength: 3,
  })
  .map((ps) =>
    ps.map((p, i): SnapshotPolicy => ({
      name: `pol${i}`,
      namespace: 'ns',
      generation: 1,
      selector: {},
      routes: p.routes.map((m, j) => route(`r${j}`, m)),
      ...(p.withDefault && p.routes.length > 0 && { defaultRoute: `r${p.routes.length - 1}` }),
      budgets: [],
      rateLimits: [],
    })),
  );

const headerValue = fc.oneof(
  fc.constantFrom(...VALUES),
  fc.constant<string[]>(['a', 'b']), // a repeated header: never equal to a single required value
);

const request = fc.record({
  model: fc.constantFrom(...MODELS, 'other', 'constructor'),
  headers: fc.dictionary(fc.constantFrom(...NAMES, 'toString'), headerValue),
  tags: values([...TAGS, 'constructor']),
  promptTokens: fc.integer({ min: 0, max: 120 }),
  requires: fc.subarray(CAPS),
});

function runtimeOf(ps: SnapshotPolicy[]): RuntimeSnapshot {
  const snapshot: Snapshot = {
    schema: 1,
    version: 'v',
    namespace: 'ns',
    policies: ps,
    providers: [],
    credentials: {},
  };
  return buildRuntime(snapshot, () => ({}));
}

function linearScan(runtime: RuntimeSnapshot, f: RequestFeatures): RuntimeRoute | undefined {
  return runtime.routes.find((r) => routeAccepts(r, f)) ?? runtime.defaultRoute;
}

describe('route index', () => {
  it('returns the route a plain first-match scan returns', () => {
    fc.assert(
      fc.property(policies, fc.array(request, { minLength: 1, maxLength: 20 }), (ps, requests) => {
        const runtime = runtimeOf(ps);
        for (const r of requests) {
          const f: RequestFeatures = { ...r, stream: false };
          assert.equal(matchRoute(runtime, f), linearScan(runtime, f));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('checks only the lane of the request header, yet keeps precedence over earlier unkeyed routes', () => {
    const teams = Array.from({ length: 50 }, (_, i) =>
      route(`team${i}`, { models: ['gpt-*'], headers: { 'x-team': `t${i}` }, tags: {}, requires: [] }),
    );
    const catchAll = route('big', {
      models: ['*'],
      headers: {},
      tags: {},
      promptTokensMin: 1000,
      requires: [],
    });
    const runtime = runtimeOf([
      {
        name: 'p',
        namespace: 'ns',
        generation: 1,
        selector: {},
        routes: [...teams.slice(0, 10), catchAll, ...teams.slice(10)],
        budgets: [],
        rateLimits: [],
      },
    ]);
    const f = (team: string, promptTokens: number): RequestFeatures => ({
      model: 'gpt-4o',
      stream: false,
      promptTokens,
      requires: ['chat'],
      tags: {},
      headers: { 'x-team': team },
    });
    assert.equal(matchRoute(runtime, f('t42', 10))?.route.name, 'team42');
    assert.equal(matchRoute(runtime, f('t42', 5000))?.route.name, 'big', 'an earlier route wins');
    assert.equal(matchRoute(runtime, f('t3', 5000))?.route.name, 'team3');
    assert.equal(matchRoute(runtime, f('nobody', 10)), undefined);
    assert.equal(runtime.routesFor('gpt-4o').routes.length, 51);
  });

  it('refuses a model name longer than any model id with invalid_request naming the model param', () => {
    const runtime = runtimeOf([
      {
        name: 'p',
        namespace: 'ns',
        generation: 1,
        selector: {},
        routes: [route('all', { models: ['*'], headers: {}, tags: {}, requires: [] })],
        defaultRoute: 'all',
        budgets: [],
        rateLimits: [],
      },
    ]);
    const f = (model: string): RequestFeatures => ({
      model,
      stream: false,
      promptTokens: 1,
      requires: ['chat'],
      tags: {},
      headers: {},
    });
    const longest = `ft:gpt-4o-mini-2024-07-18:org:${'s'.repeat(MAX_MODEL_NAME_LENGTH - 30)}`;
    assert.equal(longest.length, MAX_MODEL_NAME_LENGTH);
    assert.equal(matchRoute(runtime, f(longest))?.route.name, 'all');
    assert.throws(
      () => matchRoute(runtime, f(`${longest}x`)),
      (e: { code?: string; status?: number; param?: string }) =>
        e.code === 'invalid_request' && e.status === 400 && e.param === 'model',
    );
  });

  it('keeps no memory of model names that no route accepts, however many and however long', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const runtime = runtimeOf([
      {
        name: 'p',
        namespace: 'ns',
        generation: 1,
        selector: {},
        routes: [route('mini', { models: ['*mini*', 'gpt-4o'], headers: {}, tags: {}, requires: [] })],
        budgets: [],
        rateLimits: [],
      },
    ]);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 40; i++) {
      // A fresh 1 MB string per call, as JSON.parse hands a caller's name over.
      const model = JSON.parse(`"${i}-${'a'.repeat(1 << 20)}"`) as string;
      assert.equal(runtime.routesFor(model).routes.length, 0);
    }
    gc();
    const retainedMB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    assert.ok(retainedMB < 8, `${retainedMB.toFixed(1)} MB of model names still held`);
    assert.equal(runtime.routesFor('gpt-4o').routes.length, 1, 'names that match are still indexed');
  });
});

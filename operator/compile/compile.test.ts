import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelProvider, RoutingPolicy, Secret } from '../../api/index.ts';
import { compile, snapshotFor } from './index.ts';

const secret = (name: string, key: string, value: string, namespace = 'team-a'): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  stringData: { [key]: value },
});

const provider = (
  name: string,
  spec: Partial<ModelProvider['spec']> = {},
  namespace = 'team-a',
): ModelProvider => ({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'ModelProvider',
  metadata: { name, namespace },
  spec: {
    type: 'openai',
    endpoint: `https://${name}.example.com/v1`,
    auth: { secretRef: { name: `${name}-key`, key: 'apiKey' } },
    models: [
      { name: 'm1', pricing: { input: 1, output: 2 }, capabilities: ['chat', 'streaming', 'tools'] },
      { name: 'm2' },
    ],
    tags: { hipaa: 'true' },
    ...spec,
  },
});

const policy = (
  name: string,
  spec: Partial<RoutingPolicy['spec']> = {},
  namespace = 'team-a',
): RoutingPolicy => ({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'RoutingPolicy',
  metadata: { name, namespace, generation: 3 },
  spec: {
    routes: [{ name: 'r1', match: { model: ['smart'] }, targets: [{ provider: 'a', model: 'm1' }] }],
    ...spec,
  },
});

const base = () => ({
  providers: [provider('a'), provider('b')],
  policies: [policy('p1')],
  secrets: [secret('a-key', 'apiKey', 'sk-a'), secret('b-key', 'apiKey', 'sk-b')],
});

const errorsOf = (r: ReturnType<typeof compile>) => r.diagnostics.filter((d) => d.severity === 'error');

describe('compile', () => {
  it('accepts a valid namespace and resolves credentials into the snapshot', () => {
    const { providers, policies, secrets } = base();
    const r = compile(providers, policies, secrets);
    assert.deepEqual(errorsOf(r), []);
    const snap = snapshotFor(r.namespaces.get('team-a'), 'team-a', {});
    assert.match(snap.version, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(
      snap.providers.map((p) => p.name),
      ['a'],
      'only referenced providers travel',
    );
    assert.deepEqual(snap.credentials, { a: 'sk-a' }, 'only referenced credentials travel');
    assert.equal(snap.policies[0]?.routes[0]?.retry.attempts, 0);
    assert.equal(snap.providers[0]?.timeouts.totalMs, 600_000);
  });

  it('is deterministic: same input in any order gives the same version', () => {
    const one = base();
    const two = base();
    two.providers.reverse();
    two.secrets.reverse();
    const v1 = compile(one.providers, one.policies, one.secrets).snapshots.map((s) => s.snapshot.version);
    const v2 = compile(two.providers, two.policies, two.secrets).snapshots.map((s) => s.snapshot.version);
    assert.deepEqual(v1, v2);
  });

  it('changes the version when a referenced secret rotates, and not when an unreferenced one does', () => {
    const { providers, policies, secrets } = base();
    const v = (s: Secret[]) =>
      snapshotFor(compile(providers, policies, s).namespaces.get('team-a'), 'team-a', {}).version;
    const original = v(secrets);
    assert.notEqual(v([secret('a-key', 'apiKey', 'sk-a2'), secrets[1] as Secret]), original);
    assert.equal(v([secrets[0] as Secret, secret('b-key', 'apiKey', 'sk-b2')]), original);
  });

  const cases: {
    name: string;
    mutate: (b: ReturnType<typeof base>) => void;
    path: string;
    message: RegExp;
  }[] = [
    {
      name: 'unknown provider',
      mutate: (b) => (b.policies[0]!.spec.routes[0]!.targets = [{ provider: 'zz', model: 'm1' }]),
      path: 'spec.routes[0].targets[0].provider',
      message: /no ModelProvider "zz" in this namespace \(have: a, b\)/,
    },
    {
      name: 'unknown model',
      mutate: (b) => (b.policies[0]!.spec.routes[0]!.targets = [{ provider: 'a', model: 'nope' }]),
      path: 'spec.routes[0].targets[0].model',
      message: /has no model "nope" \(has: m1, m2\)/,
    },
    {
      name: 'missing capability',
      mutate: (b) => {
        b.policies[0]!.spec.routes[0]!.match = { requires: ['tools'] };
        b.policies[0]!.spec.routes[0]!.targets = [{ provider: 'a', model: 'm2' }];
      },
      path: 'spec.routes[0].targets[0]',
      message: /lacks tools, which this route requires/,
    },
    {
      name: 'duplicate route',
      mutate: (b) => b.policies[0]!.spec.routes.push({ ...b.policies[0]!.spec.routes[0]! }),
      path: 'spec.routes[1].name',
      message: /route name "r1" is used twice/,
    },
    {
      name: 'duplicate target',
      mutate: (b) => b.policies[0]!.spec.routes[0]!.targets.push({ provider: 'a', model: 'm1' }),
      path: 'spec.routes[0].targets[1]',
      message: /a\/m1 is listed twice/,
    },
    {
      name: 'unknown default route',
      mutate: (b) => (b.policies[0]!.spec.defaultRoute = 'zz'),
      path: 'spec.defaultRoute',
      message: /not one of the routes: r1/,
    },
    {
      name: 'budget to unknown route',
      mutate: (b) =>
        (b.policies[0]!.spec.budgets = [{ name: 'd', limitUSD: 5, window: 'day', action: 'route:zz' }]),
      path: 'spec.budgets[0].action',
      message: /names no route/,
    },
    {
      name: 'unresolved secret',
      mutate: (b) => b.secrets.splice(0, 1),
      path: 'spec.auth.secretRef.name',
      message: /Secret "a-key" not found in namespace team-a/,
    },
    {
      name: 'secret lacks key',
      mutate: (b) => (b.secrets[0] = secret('a-key', 'other', 'x')),
      path: 'spec.auth.secretRef.key',
      message: /has no non-empty key "apiKey"/,
    },
    {
      name: 'keyed type without auth',
      mutate: (b) => delete b.providers[0]!.spec.auth,
      path: 'spec.auth.secretRef',
      message: /needs an API key/,
    },
    {
      name: 'least-cost without pricing',
      mutate: (b) => {
        const r = b.policies[0]!.spec.routes[0]!;
        r.strategy = 'least-cost';
        r.targets = [{ provider: 'a', model: 'm2' }];
      },
      path: 'spec.routes[0].targets[0]',
      message: /least-cost ranks by price/,
    },
    {
      name: 'constraints nobody meets',
      mutate: (b) => (b.policies[0]!.spec.routes[0]!.constraints = { providerTags: { hipaa: 'false' } }),
      path: 'spec.routes[0].constraints.providerTags',
      message: /no target satisfies/,
    },
    {
      name: 'shadow outside the providerTags',
      mutate: (b) => {
        const r = b.policies[0]!.spec.routes[0]!;
        r.constraints = { providerTags: { hipaa: 'true' } };
        r.shadow = { provider: 'b', model: 'm1', percent: 5 };
        b.providers[1]!.spec.tags = {};
      },
      path: 'spec.routes[0].shadow.provider',
      message: /b\/m1 lacks the provider tags this route requires \(hipaa=true\): shadow copies would send/,
    },
    {
      name: 'budget redirect outside the providerTags',
      mutate: (b) => {
        const spec = b.policies[0]!.spec;
        spec.routes[0]!.constraints = { providerTags: { hipaa: 'true' } };
        spec.routes.push({
          name: 'cheap',
          match: { model: ['cheap'] },
          targets: [{ provider: 'b', model: 'm1' }],
        });
        spec.budgets = [{ name: 'd', limitUSD: 5, window: 'day', action: 'route:cheap' }];
        b.providers[1]!.spec.tags = {};
      },
      path: 'spec.budgets[0].action',
      message:
        /would move calls of route "r1" to route "cheap", whose targets all lack the provider tags "r1" requires \(hipaa=true\)/,
    },
    {
      name: 'cascade without accept',
      mutate: (b) => (b.policies[0]!.spec.routes[0]!.strategy = 'cascade'),
      path: 'spec.routes[0].cascade',
      message: /needs cascade.accept/,
    },
    {
      name: 'all weights zero',
      mutate: (b) => {
        const r = b.policies[0]!.spec.routes[0]!;
        r.strategy = 'weighted';
        r.targets = [{ provider: 'a', model: 'm1', weight: 0 }];
      },
      path: 'spec.routes[0].targets',
      message: /at least one target with weight > 0/,
    },
    {
      name: 'prompt bounds inverted',
      mutate: (b) => (b.policies[0]!.spec.routes[0]!.match = { promptTokens: { min: 10, max: 5 } }),
      path: 'spec.routes[0].match.promptTokens',
      message: /min \(10\) is above max \(5\)/,
    },
    {
      name: 'first token beyond total',
      mutate: (b) => (b.providers[0]!.spec.timeouts = { firstToken: '2m', total: '1m' }),
      path: 'spec.timeouts.firstToken',
      message: /longer than total/,
    },
    {
      name: 'duplicate model',
      mutate: (b) => b.providers[0]!.spec.models.push({ name: 'm1' }),
      path: 'spec.models[2].name',
      message: /listed twice/,
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name} at ${c.path}`, () => {
      const b = base();
      c.mutate(b);
      const r = compile(b.providers, b.policies, b.secrets);
      const found = errorsOf(r).find((d) => d.path === c.path);
      assert.ok(found, `expected an error at ${c.path}, got ${JSON.stringify(r.diagnostics)}`);
      assert.match(found.message, c.message);
    });
  }

  it('rejects a policy whose provider is not ready, naming the provider', () => {
    const b = base();
    b.secrets.splice(0, 1);
    const r = compile(b.providers, b.policies, b.secrets);
    const d = errorsOf(r).find((x) => x.kind === 'RoutingPolicy');
    assert.match(d?.message ?? '', /ModelProvider "a" is not ready/);
    assert.equal(r.accepted.policies.has('team-a/p1'), false);
  });

  it('accepts a shadow and a budget redirect that honour the providerTags; warns about targets a redirect skips', () => {
    const b = base();
    b.providers.push(provider('c', { tags: {} }));
    b.secrets.push(secret('c-key', 'apiKey', 'sk-c'));
    const spec = b.policies[0]!.spec;
    spec.routes[0]!.constraints = { providerTags: { hipaa: 'true' } };
    spec.routes[0]!.shadow = { provider: 'b', model: 'm1', percent: 5 };
    spec.routes.push({
      name: 'cheap',
      match: { model: ['cheap'] },
      targets: [
        { provider: 'b', model: 'm1' },
        { provider: 'c', model: 'm1' },
      ],
    });
    spec.budgets = [{ name: 'd', limitUSD: 5, window: 'day', action: 'route:cheap' }];
    const r = compile(b.providers, b.policies, b.secrets);
    assert.deepEqual(errorsOf(r), []);
    const warning = r.diagnostics.find((d) => d.path === 'spec.budgets[0].action');
    assert.equal(warning?.severity, 'warning');
    assert.match(warning?.message ?? '', /calls of route "r1" moved to route "cheap" never use c\/m1/);
  });

  it('warns about routes made unreachable by a catch-all', () => {
    const b = base();
    b.policies[0]!.spec.routes = [
      { name: 'all', targets: [{ provider: 'a', model: 'm1' }] },
      { name: 'never', match: { model: ['x'] }, targets: [{ provider: 'a', model: 'm1' }] },
    ];
    const r = compile(b.providers, b.policies, b.secrets);
    assert.ok(r.diagnostics.some((d) => d.severity === 'warning' && /never used/.test(d.message)));
    assert.deepEqual(errorsOf(r), []);
  });

  it('orders policies by selector specificity and selects by labels', () => {
    const b = base();
    b.policies = [policy('wide'), policy('narrow', { workloadSelector: { matchLabels: { app: 'bot' } } })];
    const r = compile(b.providers, b.policies, b.secrets);
    const ns = r.namespaces.get('team-a');
    assert.deepEqual(
      snapshotFor(ns, 'team-a', { app: 'bot' }).policies.map((p) => p.name),
      ['narrow', 'wide'],
    );
    assert.deepEqual(
      snapshotFor(ns, 'team-a', { app: 'web' }).policies.map((p) => p.name),
      ['wide'],
    );
    assert.equal(r.snapshots.length, 2, 'one snapshot per distinct selector');
  });

  it("keeps namespaces apart: a policy cannot reference another namespace's provider", () => {
    const b = base();
    b.policies = [policy('p1', {}, 'team-b')];
    const r = compile(b.providers, b.policies, b.secrets);
    assert.match(errorsOf(r).find((d) => d.namespace === 'team-b')?.message ?? '', /no ModelProvider "a"/);
  });
});

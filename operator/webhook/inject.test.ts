import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseInjectorConfig } from './config.ts';
import { planInjection, type InjectionContext } from './inject.ts';
import type { AddOp } from './json-patch.ts';
import type { PodLike } from './pod.ts';

const config = parseInjectorConfig(
  {
    tls: {},
    sidecar: { image: 'turnout-sidecar:test', operatorUrl: 'https://turnout.turnout-system.svc:15401' },
  },
  'turnout-system',
);
const ctx = (hosts: string[] = ['api.openai.com']): InjectionContext => ({
  config,
  names: { caConfigMap: 'turnout-ca', leafSecret: 'turnout-mesh-tls' },
  excludedNamespaces: new Set(['kube-system', 'kube-public', 'turnout-system']),
  hostsFor: () => hosts,
});

/** RFC 6902 `add` only, as the apiserver applies it (arrays: index or "-"; objects: set key). */
export function applyAdds<T>(doc: T, ops: readonly AddOp[]): T {
  const out = structuredClone(doc) as unknown;
  for (const op of ops) {
    assert.equal(op.op, 'add');
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let target = out as Record<string, unknown>;
    for (const p of parts) {
      const next: unknown = Array.isArray(target) ? (target as unknown[])[Number(p)] : target[p];
      assert.ok(next !== undefined && next !== null, `${op.path}: parent ${p} missing`);
      target = next as Record<string, unknown>;
    }
    if (Array.isArray(target)) {
      if (last === '-') target.push(op.value);
      else target.splice(Number(last), 0, op.value);
    } else {
      assert.ok(!(last in target), `${op.path} would replace an existing value`);
      target[last] = op.value;
    }
  }
  return out as T;
}

const pod = (extra: Partial<NonNullable<PodLike['spec']>> = {}, meta: PodLike['metadata'] = {}): PodLike => ({
  metadata: { name: 'p', labels: { app: 'chat' }, ...meta },
  spec: { containers: [{ name: 'app' }], ...extra },
});

function inject(p: PodLike, namespace = 'team-a', c = ctx()) {
  const plan = planInjection(p, namespace, c);
  assert.equal(plan.kind, 'patch', JSON.stringify(plan));
  if (plan.kind !== 'patch') throw new Error('unreachable');
  return { plan, pod: applyAdds(p, plan.ops) };
}

const envOf = (c: { env?: { name: string; value?: string }[] } | undefined) =>
  Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));

describe('planInjection', () => {
  it('adds a native sidecar first among init containers, restricted-compliant, with token and state volumes', () => {
    const { pod: out } = inject(pod({ initContainers: [{ name: 'migrate' }] }));
    const [sidecar, migrate] = out.spec?.initContainers ?? [];
    assert.equal(sidecar?.name, 'turnout-proxy');
    assert.equal(sidecar?.restartPolicy, 'Always');
    assert.equal(migrate?.name, 'migrate');
    const s = sidecar as unknown as { securityContext: Record<string, unknown>; resources: unknown };
    assert.deepEqual(s.securityContext, {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const volumes = Object.fromEntries((out.spec?.volumes ?? []).map((v) => [v.name, v]));
    assert.deepEqual(volumes['turnout-token']?.projected?.sources?.[0]?.serviceAccountToken, {
      audience: 'turnout',
      expirationSeconds: 3600,
      path: 'token',
    });
    assert.deepEqual(volumes['turnout-state']?.emptyDir, { medium: 'Memory', sizeLimit: '16Mi' });
    assert.equal(envOf(migrate).OPENAI_BASE_URL, 'http://127.0.0.1:15400/v1');
  });

  it("sets the sidecar's drain window from the pod's grace period, less a margin", () => {
    const drainOf = (p: PodLike) => envOf(inject(p).pod.spec?.initContainers?.[0]).TURNOUT_DRAIN_TIMEOUT;
    assert.equal(drainOf(pod()), '25s', "Kubernetes' default 30 s");
    assert.equal(drainOf(pod({ terminationGracePeriodSeconds: 120 })), '115s');
    assert.equal(drainOf(pod({ terminationGracePeriodSeconds: 3 })), '0s');
  });

  it('sizes the sidecar heap from its memory limit; chart env overrides it', () => {
    const sidecarEnv = (sidecar: Record<string, unknown> = {}) => {
      const cfg = parseInjectorConfig(
        {
          tls: {},
          sidecar: { image: 'i:t', operatorUrl: 'https://turnout.turnout-system.svc:15401', ...sidecar },
        },
        'turnout-system',
      );
      return envOf(inject(pod(), 'team-a', { ...ctx(), config: cfg }).pod.spec?.initContainers?.[0]);
    };
    const defaults = sidecarEnv();
    assert.equal(defaults.NODE_OPTIONS, '--max-semi-space-size=4 --max-old-space-size=128', '256Mi default');
    assert.equal(defaults.MALLOC_ARENA_MAX, '2');
    assert.equal(defaults.MALLOC_MMAP_THRESHOLD_, '32768');
    const custom = sidecarEnv({ resources: { limits: { memory: '1Gi' } }, env: { MALLOC_ARENA_MAX: '4' } });
    assert.equal(custom.NODE_OPTIONS, '--max-semi-space-size=4 --max-old-space-size=512');
    assert.equal(custom.MALLOC_ARENA_MAX, '4');
  });

  it('points app SDKs at the sidecar in explicit mode, keeping what the app sets itself', () => {
    const app = { name: 'app', env: [{ name: 'OPENAI_BASE_URL', value: 'https://mine.example/v1' }] };
    const { pod: out, plan } = inject(pod({ containers: [app, { name: 'second' }] }));
    assert.equal(plan.mode, 'explicit');
    const [first, second] = out.spec?.containers ?? [];
    assert.equal(envOf(first).OPENAI_BASE_URL, 'https://mine.example/v1');
    assert.equal(envOf(first).ANTHROPIC_BASE_URL, 'http://127.0.0.1:15400');
    assert.equal(envOf(second).OPENAI_BASE_URL, 'http://127.0.0.1:15400/v1');
    assert.equal(out.metadata?.annotations?.['turnout.dev/injected'], 'explicit');
    assert.equal(out.spec?.hostAliases, undefined);
  });

  it('transparent mode: hostAliases to loopback, the port sysctl, CA trust for the apps, a private /etc/hosts for the sidecar', () => {
    const p = pod({ securityContext: {} }, { annotations: { 'turnout.dev/mode': 'transparent' } });
    const { pod: out, plan } = inject(p, 'team-a', ctx(['api.anthropic.com', 'api.openai.com']));
    assert.deepEqual(out.spec?.hostAliases, [
      { ip: '127.0.0.1', hostnames: ['api.anthropic.com', 'api.openai.com'] },
    ]);
    assert.deepEqual(out.spec?.securityContext?.sysctls, [
      { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' },
    ]);
    const app = out.spec?.containers?.[0];
    assert.equal(envOf(app).SSL_CERT_FILE, '/var/run/turnout/ca/bundle.crt');
    assert.equal(envOf(app).NODE_EXTRA_CA_CERTS, '/var/run/turnout/ca/mesh-ca.crt');
    assert.equal(envOf(app).OPENAI_BASE_URL, undefined);
    assert.ok(app?.volumeMounts?.some((m) => m.mountPath === '/var/run/turnout/ca'));
    const sidecar = out.spec?.initContainers?.[0] as unknown as {
      env: { name: string; value?: string }[];
      volumeMounts: { mountPath: string; subPath?: string }[];
    };
    assert.equal(envOf(sidecar).TURNOUT_TRANSPARENT_LISTEN, '127.0.0.1:443');
    assert.ok(sidecar.volumeMounts.some((m) => m.mountPath === '/etc/hosts' && m.subPath === 'hosts'));
    assert.equal(
      out.metadata?.annotations?.['turnout.dev/transparent-hosts'],
      'api.anthropic.com,api.openai.com',
    );
    assert.deepEqual(plan.warnings, []);
  });

  it('transparent mode: keeps hostnames the pod aliases itself, warns when nothing is intercepted, refuses a conflicting sysctl', () => {
    const annotations = { 'turnout.dev/mode': 'transparent' };
    const own = pod({ hostAliases: [{ ip: '10.0.0.9', hostnames: ['api.openai.com'] }] }, { annotations });
    const { pod: out, plan } = inject(own);
    assert.equal(out.spec?.hostAliases?.length, 1);
    assert.match(plan.warnings.join(), /already aliases api.openai.com/);
    assert.match(
      inject(pod({}, { annotations }), 'team-a', ctx([])).plan.warnings.join(),
      /no RoutingPolicy selects this pod/,
    );
    const sysctl = pod(
      { securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '1024' }] } },
      { annotations },
    );
    const denied = planInjection(sysctl, 'team-a', ctx());
    assert.equal(denied.kind, 'deny');
  });

  it('skips excluded pods and refuses what it cannot inject', () => {
    const skip = (p: PodLike, ns = 'team-a') => {
      const plan = planInjection(p, ns, ctx());
      return plan.kind === 'skip' ? plan.reason : `not skipped: ${plan.kind}`;
    };
    assert.match(skip(pod(), 'kube-system'), /never injected/);
    assert.match(skip(pod(), 'turnout-system'), /never injected/);
    assert.match(skip(pod({ hostNetwork: true })), /hostNetwork/);
    assert.match(skip(pod({}, { annotations: { 'turnout.dev/inject': 'false' } })), /annotation/);
    assert.match(skip(pod({}, { labels: { 'turnout.dev/inject': 'false' } })), /label/);
    const bad = planInjection(pod({}, { annotations: { 'turnout.dev/mode': 'magic' } }), 'team-a', ctx());
    assert.equal(bad.kind, 'deny');
    const clash = planInjection(pod({ volumes: [{ name: 'turnout-state', emptyDir: {} }] }), 'team-a', ctx());
    assert.equal(clash.kind, 'deny');
  });

  it('is idempotent: an injected pod is left exactly as it is', () => {
    for (const annotations of [{}, { 'turnout.dev/mode': 'transparent' }] as Record<string, string>[]) {
      const { pod: once } = inject(pod({}, { annotations }));
      const again = planInjection(once, 'team-a', ctx());
      assert.deepEqual(again, { kind: 'skip', reason: 'already injected' });
    }
  });
});

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const envVar = fc.record({
  name: fc.constantFrom('OPENAI_BASE_URL', 'OPENAI_API_KEY', 'SSL_CERT_FILE', 'FOO', 'NODE_EXTRA_CA_CERTS'),
  value: fc.string({ maxLength: 8 }),
});
const container = fc.record(
  {
    name,
    env: fc.uniqueArray(envVar, { selector: (e) => e.name, maxLength: 4 }),
    volumeMounts: fc.array(
      fc.record({ name, mountPath: fc.constantFrom('/data', '/var/run/turnout/ca', '/x') }),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: ['name'] },
);
const arbitraryPod: fc.Arbitrary<PodLike> = fc.record({
  metadata: fc.record(
    {
      labels: fc.dictionary(name, name, { maxKeys: 3 }),
      annotations: fc.dictionary(
        fc.constantFrom('turnout.dev/mode', 'a/b', 'x'),
        fc.constantFrom('transparent', 'explicit', 'y'),
        { maxKeys: 3 },
      ),
    },
    { requiredKeys: [] },
  ),
  spec: fc.record(
    {
      containers: fc.array(container, { minLength: 1, maxLength: 3 }),
      initContainers: fc.array(container, { maxLength: 2 }),
      volumes: fc.array(fc.record({ name, emptyDir: fc.constant({}) }), { maxLength: 2 }),
      hostAliases: fc.array(
        fc.record({
          ip: fc.constant('10.1.1.1'),
          hostnames: fc.array(fc.constantFrom('api.openai.com', 'a.example'), { maxLength: 2 }),
        }),
        { maxLength: 1 },
      ),
      securityContext: fc.record(
        {
          sysctls: fc.array(
            fc.record({
              name: fc.constantFrom('kernel.shm_rmid_forced', 'net.ipv4.ip_unprivileged_port_start'),
              value: fc.constantFrom('0', '80', '1024'),
            }),
            { maxLength: 1 },
          ),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['containers'] },
  ),
});

describe('planInjection properties (fast-check)', () => {
  it('only ever adds, never touches what the pod had, and a second pass changes nothing', () => {
    fc.assert(
      fc.property(arbitraryPod, (generated) => {
        const p = JSON.parse(JSON.stringify(generated)) as PodLike; // plain objects, as JSON arrives
        const plan = planInjection(p, 'team-a', ctx(['api.openai.com', 'api.anthropic.com']));
        if (plan.kind !== 'patch') return;
        const out = applyAdds(p, plan.ops); // asserts every op is an add of something absent
        const before = p.spec?.containers ?? [];
        out.spec?.containers?.forEach((c, i) => {
          for (const e of before[i]?.env ?? [])
            assert.deepEqual(
              c.env?.find((x) => x.name === e.name),
              e,
            );
        });
        const names = (cs: { name: string }[] | undefined) => (cs ?? []).map((c) => c.name);
        assert.deepEqual(names(out.spec?.initContainers), [
          'turnout-proxy',
          ...names(p.spec?.initContainers),
        ]);
        const again = planInjection(out, 'team-a', ctx(['api.openai.com', 'api.anthropic.com']));
        assert.deepEqual(again, { kind: 'skip', reason: 'already injected' });
      }),
      { numRuns: 300 },
    );
  });
});

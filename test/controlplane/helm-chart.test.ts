// charts/turnout with the real helm and kubectl against the real apiserver: lint, the values schema,
// `helm template | kubectl apply --dry-run=server`, least-privilege RBAC checked by the authorizer
// itself, install, the webhook going live with the operator running under the chart's RBAC, and an
// upgrade that keeps the caBundle the operator wrote.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.ts';
import {
  CHART,
  createPod,
  eventually,
  freePort,
  get,
  helmInstall,
  helmSet,
  isInjected,
  namespace,
  ok,
  podManifest,
  RELEASE,
  startReplica,
  SYSTEM_NS,
  type Replica,
} from './webhook-harness.ts';

const VARIANT = {
  'tls.certManager.enabled': 'true',
  'metrics.serviceMonitor.enabled': 'true',
  'metrics.dashboard.enabled': 'true',
  'webhook.failurePolicy': 'Ignore',
  'injection.defaultMode': 'transparent',
};

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}
interface Doc {
  kind: string;
  metadata: { name: string };
  rules?: Rule[];
  data?: Record<string, string>;
  webhooks?: { name: string; failurePolicy: string; clientConfig: { caBundle?: string } }[];
}

/** Minimal CRDs for the optional kinds, so a server dry run can judge the objects that use them. */
const stubCrd = (group: string, plural: string, kind: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, kind, singular: kind.toLowerCase() },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
});

describe('charts/turnout', () => {
  let cp: ControlPlane;
  let dir: string;
  let replica: Replica | undefined;
  const template = async (values: Record<string, string> = {}, extra: string[] = []) =>
    ok(await cp.helm(['template', RELEASE, CHART, '-n', SYSTEM_NS, ...extra, ...helmSet(values)]));
  const docs = (text: string) =>
    parseAllDocuments(text)
      .map((d) => d.toJS() as Doc)
      .filter(Boolean);

  before(
    async () => {
      cp = await startControlPlane({ controllerManager: true });
      dir = await mkdtemp(join(tmpdir(), 'turnout-helm-'));
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    await replica?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cp?.stop();
  });

  it('passes helm lint --strict, with the defaults and with every option turned on', async () => {
    ok(await cp.helm(['lint', '--strict', CHART]));
    ok(await cp.helm(['lint', '--strict', CHART, ...helmSet(VARIANT)]));
  });

  it('refuses values the schema does not allow, naming them', async () => {
    for (const [key, value, why] of [
      ['webhook.failurePolicy', 'Sometimes', /failurePolicy/],
      ['injection.defaultMode', 'magic', /defaultMode/],
      ['operator.replica', '2', /replica/],
      ['tls.caLifetime', '10years', /caLifetime/],
      ['webhook.url', 'http://insecure.example', /url/],
    ] as const) {
      const r = await cp.helm(['lint', CHART, '--set', `${key}=${value}`]);
      assert.notEqual(r.code, 0, `${key}=${value} was accepted`);
      assert.match(r.stdout + r.stderr, why);
    }
  });

  it('renders objects the apiserver accepts: helm template | kubectl apply --dry-run=server', async () => {
    ok(await cp.kubectl(['create', 'namespace', SYSTEM_NS]));
    const stubs = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        stubCrd('cert-manager.io', 'certificates', 'Certificate'),
        stubCrd('cert-manager.io', 'issuers', 'Issuer'),
        stubCrd('monitoring.coreos.com', 'servicemonitors', 'ServiceMonitor'),
      ],
    };
    ok(await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(stubs) }));
    ok(
      await cp.kubectl([
        'wait',
        '--for=condition=Established',
        'crd/certificates.cert-manager.io',
        'crd/issuers.cert-manager.io',
        'crd/servicemonitors.monitoring.coreos.com',
        '--timeout=60s',
      ]),
    );
    for (const values of [{}, VARIANT]) {
      const out = ok(
        await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], {
          input: await template(values, ['--include-crds']),
        }),
      );
      assert.match(
        out,
        /mutatingwebhookconfiguration.admissionregistration.k8s.io\/turnout-injector created \(server dry run\)/,
      );
      assert.match(out, /deployment.apps\/turnout created \(server dry run\)/);
      assert.match(out, /service\/turnout-push created \(server dry run\)/);
    }
    const variant = docs(await template(VARIANT)).map((d) => d.kind);
    for (const kind of ['Certificate', 'Issuer', 'ServiceMonitor']) assert.ok(variant.includes(kind), kind);
  });

  it('ships the dashboard ConfigMap exactly when dashboards/turnout.json is in the chart', async () => {
    const file = join(CHART, 'dashboards/turnout.json');
    const dashboard = docs(await template({ 'metrics.dashboard.enabled': 'true' })).find(
      (d) => d.metadata.name === 'turnout-dashboard',
    );
    if (existsSync(file))
      assert.equal(dashboard?.data?.['turnout.json']?.trim(), (await readFile(file, 'utf8')).trim());
    else assert.equal(dashboard, undefined);
  });

  it('routes sidecars to the Lease holder: the push Service selects turnout.dev/leader=true, unless every replica serves', async () => {
    const push = async (values: Record<string, string>) => {
      const rendered = docs(await template(values));
      const svc = rendered.find((d) => d.kind === 'Service' && d.metadata.name === `${RELEASE}-push`) as
        (Doc & { spec: { selector: Record<string, string> } }) | undefined;
      const config = rendered.find((d) => d.kind === 'ConfigMap' && d.metadata.name === `${RELEASE}-config`);
      const parsed = JSON.parse(config?.data?.['config.json'] ?? '{}') as {
        sidecar?: { operatorUrl?: string };
        tls?: { dnsNames?: string[] };
      };
      return { selector: svc?.spec.selector, config: parsed };
    };
    const leaderOnly = await push({});
    assert.equal(leaderOnly.selector?.['turnout.dev/leader'], 'true');
    assert.equal(leaderOnly.config.sidecar?.operatorUrl, `https://${RELEASE}-push.${SYSTEM_NS}.svc:15401`);
    assert.ok(leaderOnly.config.tls?.dnsNames?.includes(`${RELEASE}-push.${SYSTEM_NS}.svc`));
    const everyReplica = await push({ 'operator.serveAsFollower': 'true' });
    assert.equal(everyReplica.selector?.['turnout.dev/leader'], undefined);
    assert.equal(everyReplica.selector?.['app.kubernetes.io/component'], 'operator');
  });

  it('runs the operator with the same V8 heap flags and allocator arenas in the chart and in the image', async () => {
    const deployment = docs(await template()).find((d) => d.kind === 'Deployment') as
      | (Doc & {
          spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
        })
      | undefined;
    const env = deployment?.spec.template.spec.containers[0]?.env ?? [];
    const chart = env.find((e) => e.name === 'NODE_OPTIONS')?.value;
    assert.match(chart ?? '', /--max-old-space-size=\d+/);
    const dockerfile = await readFile(join(CHART, '../../images/operator.Dockerfile'), 'utf8');
    assert.equal(/^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1], chart);
    const arenas = env.find((e) => e.name === 'MALLOC_ARENA_MAX')?.value;
    assert.equal(arenas, '2');
    assert.equal(/^ENV .*\bMALLOC_ARENA_MAX=(\S+)/m.exec(dockerfile)?.[1], arenas);
    const threshold = env.find((e) => e.name === 'MALLOC_MMAP_THRESHOLD_')?.value;
    assert.equal(threshold, '32768');
    assert.equal(/^ENV .*\bMALLOC_MMAP_THRESHOLD_=(\S+)/m.exec(dockerfile)?.[1], threshold);
  });

  it('renders a PodDisruptionBudget only when it can let a drain through', async () => {
    const pdbs = async (values: Record<string, string>) =>
      docs(await template(values)).filter((d) => d.kind === 'PodDisruptionBudget') as (Doc & {
        spec: { minAvailable: number | string };
      })[];
    assert.deepEqual(
      (await pdbs({})).map((d) => d.spec.minAvailable),
      [1],
    );
    // One replica with minAvailable 1 would block every node drain: no budget at all.
    assert.deepEqual(await pdbs({ 'operator.replicas': '1' }), []);
    assert.deepEqual(
      (await pdbs({ 'operator.replicas': '3', 'operator.podDisruptionBudget.minAvailable': '2' })).map(
        (d) => d.spec.minAvailable,
      ),
      [2],
    );
    const refused = await cp.helm([
      'template',
      RELEASE,
      CHART,
      ...helmSet({ 'operator.podDisruptionBudget.minAvailable': '2' }),
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /minAvailable \(2\) must be below operator.replicas \(2\)/);
  });

  it('grants least privilege: no wildcards, a comment on every rule, and the authorizer agrees', async () => {
    const rendered = docs(await template()).filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role');
    for (const rule of rendered.flatMap((d) => d.rules ?? [])) {
      for (const v of [
        ...(rule.apiGroups ?? []),
        ...(rule.resources ?? []),
        ...(rule.verbs ?? []),
        ...(rule.resourceNames ?? []),
      ])
        assert.ok(!v.includes('*'), `wildcard in ${JSON.stringify(rule)}`);
    }
    const source = (await readFile(join(CHART, 'templates/rbac.yaml'), 'utf8')).split('\n');
    source.forEach((line, i) => {
      if (!/^\s*- apiGroups:/.test(line)) return;
      let j = i - 1;
      while (j >= 0 && /^\s*\{\{-?\s*(if|else|end)/.test(source[j] ?? '')) j--;
      assert.match(
        source[j] ?? '',
        /^\s*#/,
        `rule at templates/rbac.yaml:${i + 1} has no comment saying why`,
      );
    });
  });

  it('installs with helm: CRDs, two replicas with a PDB and probes, the webhook configuration', async () => {
    const out = await helmInstall(cp, {
      'webhook.url': `https://127.0.0.1:${await freePort()}/mutate`,
      'tls.extraIpAddresses': '{127.0.0.1}',
    });
    assert.match(out, /STATUS: deployed/);
    assert.match(out, /kubectl label namespace team-a turnout.dev\/inject=true/);
    ok(
      await cp.kubectl([
        'wait',
        '--for=condition=Established',
        'crd/routingpolicies.turnout.dev',
        'crd/modelproviders.turnout.dev',
        '--timeout=60s',
      ]),
    );
    const deploy = await get<{
      spec: {
        replicas: number;
        template: {
          spec: { containers: { readinessProbe?: unknown; livenessProbe?: unknown; resources?: unknown }[] };
        };
      };
    }>(cp, ['-n', SYSTEM_NS, 'get', 'deployment', RELEASE]);
    assert.equal(deploy.spec.replicas, 2);
    const c = deploy.spec.template.spec.containers[0];
    assert.ok(c?.readinessProbe && c.livenessProbe && c.resources);
    const pdb = await get<{ spec: { minAvailable: number } }>(cp, ['-n', SYSTEM_NS, 'get', 'pdb', RELEASE]);
    assert.equal(pdb.spec.minAvailable, 1);
    const mwc = await get<Doc>(cp, ['get', 'mutatingwebhookconfiguration', 'turnout-injector']);
    assert.deepEqual(
      mwc.webhooks?.map((w) => [w.name, w.failurePolicy]),
      [
        ['namespace.inject.turnout.dev', 'Fail'],
        ['pod.inject.turnout.dev', 'Fail'],
      ],
    );
  });

  it('the chart’s ServiceAccount can do what the operator needs and nothing else', async () => {
    const can = async (...args: string[]) =>
      (
        await cp.kubectl(['auth', 'can-i', '--as', `system:serviceaccount:${SYSTEM_NS}:${RELEASE}`, ...args])
      ).stdout.trim();
    const allowed = [
      ['list', 'secrets', '-A'],
      ['patch', 'routingpolicies.turnout.dev/status', '-n', 'team-a'],
      ['create', 'tokenreviews.authentication.k8s.io'],
      ['update', 'configmap/turnout-ca', '-n', 'team-a'],
      ['update', 'secret/turnout-mesh-tls', '-n', 'team-a'],
      ['update', 'secret/turnout-tls', '-n', SYSTEM_NS],
      // Each namespace's mesh CA, kept in the operator's namespace; and the one earlier versions shared.
      ['update', 'secret/turnout-mesh-ca-team-a', '-n', SYSTEM_NS],
      ['delete', 'secret/turnout-mesh-ca', '-n', SYSTEM_NS],
      ['update', 'lease/turnout-operator', '-n', SYSTEM_NS],
      ['update', 'mutatingwebhookconfiguration/turnout-injector'],
      // The leader labels its own pod (turnout.dev/leader) for the push Service.
      ['patch', 'pods', '-n', SYSTEM_NS],
    ];
    const denied = [
      ['get', 'secret/app-keys', '-n', 'team-a'],
      ['update', 'secret/app-keys', '-n', 'team-a'],
      ['update', 'configmap/app-config', '-n', 'team-a'],
      ['delete', 'pods', '-n', 'team-a'],
      ['patch', 'pods', '-n', 'team-a'],
      ['delete', 'pods', '-n', SYSTEM_NS],
      ['create', 'pods', '-n', 'team-a'],
      ['delete', 'secrets', '-n', SYSTEM_NS],
      ['delete', 'secret/turnout-tls', '-n', SYSTEM_NS],
      ['update', 'secret/turnout-mesh-ca-team-a', '-n', 'team-a'],
      ['update', 'mutatingwebhookconfiguration/someone-elses'],
      ['update', 'lease/kube-scheduler', '-n', 'kube-system'],
      ['create', 'clusterrolebindings'],
    ];
    for (const a of allowed) assert.equal(await can(...a), 'yes', a.join(' '));
    for (const d of denied) assert.equal(await can(...d), 'no', d.join(' '));
  });

  it('the write policy pins the ServiceAccount’s Secret and ConfigMap writes to the names it manages', async () => {
    await namespace(cp, 'team-a');
    const as = ['--as', `system:serviceaccount:${SYSTEM_NS}:${RELEASE}`, '--dry-run=server'];
    const create = (kind: 'secret' | 'configmap', ns: string, name: string) =>
      cp.kubectl([
        '-n',
        ns,
        'create',
        ...(kind === 'secret' ? ['secret', 'generic'] : ['configmap']),
        name,
        '--from-literal=k=v',
        ...as,
      ]);
    // The apiserver loads a new policy asynchronously.
    await eventually('write policy in force', async () => {
      const r = await create('secret', 'team-a', 'app-keys');
      return r.code !== 0 && /turnout operator writes only its own/.test(r.stderr);
    });
    for (const [kind, ns, name] of [
      ['secret', 'team-a', 'turnout-mesh-tls'],
      ['configmap', 'team-a', 'turnout-ca'],
      ['secret', SYSTEM_NS, 'turnout-mesh-ca-team-a'],
    ] as const)
      ok(await create(kind, ns, name));
    for (const [kind, ns, name] of [
      ['secret', 'team-a', 'app-keys'],
      ['configmap', 'team-a', 'app-config'],
      ['secret', SYSTEM_NS, 'turnout-mesh-tls'],
      ['secret', SYSTEM_NS, 'something-else'],
    ] as const) {
      const r = await create(kind, ns, name);
      assert.notEqual(r.code, 0, `${kind} ${ns}/${name} was allowed`);
      assert.match(r.stderr, new RegExp(`writes only its own.*${ns}/${name}`));
    }
    // RBAC lets it update any Secret in its own namespace (the mesh CA names are per namespace); the
    // policy does not, e.g. Helm's release record.
    const releases = await get<{ items: object[] }>(cp, [
      '-n',
      SYSTEM_NS,
      'get',
      'secret',
      '-l',
      'owner=helm',
    ]);
    assert.ok(releases.items[0], 'no Helm release Secret');
    const r = await cp.kubectl(['replace', '-f', '-', ...as], { input: JSON.stringify(releases.items[0]) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /writes only its own/);
  });

  it('goes live: the operator, running under the chart’s RBAC, fills the caBundle and pods get injected', async () => {
    const port = await freePort();
    ok(
      await cp.helm([
        'upgrade',
        RELEASE,
        CHART,
        '-n',
        SYSTEM_NS,
        '--reuse-values',
        '--set',
        `webhook.url=https://127.0.0.1:${port}/mutate`,
      ]),
    );
    replica = await startReplica(cp, dir, 'operator', { webhook: port, push: await freePort() });
    const secretCa = async () =>
      (await get<{ data: Record<string, string> }>(cp, ['-n', SYSTEM_NS, 'get', 'secret', 'turnout-tls']))
        .data['ca.crt'];
    const bundle = async () =>
      (await get<Doc>(cp, ['get', 'mutatingwebhookconfiguration', 'turnout-injector'])).webhooks?.map(
        (w) => w.clientConfig.caBundle,
      );
    await eventually('caBundle equals the managed CA', async () => {
      const want = await secretCa();
      return (await bundle())?.every((b) => b === want);
    });
    await namespace(cp, 'team-a', { 'turnout.dev/inject': 'true' });
    await eventually('a pod created through the apiserver comes back injected', async () =>
      isInjected(await createPod(cp, podManifest('team-a', `live-${Date.now()}`))),
    );
  });

  it('helm upgrade keeps the caBundle; failurePolicy Ignore then lets opted-in pods start without the sidecar while no replica answers', async () => {
    await replica?.stop();
    replica = undefined;
    const before = (
      await get<Doc>(cp, ['get', 'mutatingwebhookconfiguration', 'turnout-injector'])
    ).webhooks?.map((w) => w.clientConfig.caBundle);
    ok(
      await cp.helm([
        'upgrade',
        RELEASE,
        CHART,
        '-n',
        SYSTEM_NS,
        '--reuse-values',
        '--set',
        'webhook.failurePolicy=Ignore',
      ]),
    );
    const mwc = await get<Doc>(cp, ['get', 'mutatingwebhookconfiguration', 'turnout-injector']);
    assert.deepEqual(
      mwc.webhooks?.map((w) => w.clientConfig.caBundle),
      before,
    );
    assert.deepEqual(
      mwc.webhooks?.map((w) => w.failurePolicy),
      ['Ignore', 'Ignore'],
    );
    await eventually('an opted-in pod is admitted without the sidecar', async () => {
      const pod = await createPod(cp, podManifest('team-a', `open-${Date.now()}`));
      return !isInjected(pod);
    });
  });
});

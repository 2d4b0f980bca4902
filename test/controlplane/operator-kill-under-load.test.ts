// Issue #4, "killing the operator mid-traffic fails zero requests, and sidecars resync when it returns;
// killing the leader hands over to the other replica". Real apiserver and kubectl, `turnout operator`
// replicas as processes with Pod objects labelled as the chart's Deployment labels them, two real
// `turnout sidecar` processes with pod-bound tokens reaching the operator through a stand-in for the
// chart's push Service (its rendered selector), and fake OpenAI upstreams (SIMULATED providers).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createNamespace,
  createPod,
  makeTestTls,
  mintToken,
  spawnSidecar,
  type SidecarProcess,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import { startFakeProvider } from '../fakes/index.ts';
import type { ControlPlane } from '../helpers/control-plane.ts';
import {
  createOperatorPods,
  freePort,
  type OperatorReplica,
  renderedChart,
  selectedPods,
  spawnOperator,
  startPushService,
  SYSTEM_NS,
} from './operator-fleet.ts';
import { apply, eventually, getObject, ok, startTurnoutControlPlane } from './operator-harness.ts';

type Fake = Awaited<ReturnType<typeof startFakeProvider>>;
const NS = 'kill-load';
const CONCURRENCY = 8;

const objects = (route: string, upstream: 'up-a' | 'up-b', fakes: Record<'up-a' | 'up-b', Fake>) => [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'keys', namespace: NS }, stringData: { k: 'sk-kl' } },
  ...(['up-a', 'up-b'] as const).map((name) => ({
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'ModelProvider',
    metadata: { name, namespace: NS },
    spec: {
      type: 'openai',
      endpoint: fakes[name].url,
      auth: { secretRef: { name: 'keys', key: 'k' } },
      models: [{ name: 'gpt-4o-mini' }],
    },
  })),
  {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: { name: 'app', namespace: NS },
    spec: {
      routes: [
        { name: route, match: { model: ['chat'] }, targets: [{ provider: upstream, model: 'gpt-4o-mini' }] },
      ],
    },
  },
];

/** Closed-loop traffic over the sidecars until stopped; every non-200 is kept with its reason. */
function startTraffic(sidecars: SidecarProcess[]) {
  const failures: string[] = [];
  const routes = new Map<string, number>();
  let total = 0;
  let stopped = false;
  const worker = async (w: number) => {
    for (let i = w; !stopped; i++) {
      const s = sidecars[i % sidecars.length] ?? assert.fail();
      try {
        const res = await fetch(`${s.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: `hi ${i}` }] }),
        });
        const body = await res.text();
        if (res.status !== 200) failures.push(`${res.status} ${body.slice(0, 200)}`);
        const route = res.headers.get('x-turnout-route') ?? '?';
        routes.set(route, (routes.get(route) ?? 0) + 1);
      } catch (e) {
        failures.push(e instanceof Error ? e.message : String(e));
      }
      total++;
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, (_, w) => worker(w));
  return {
    total: () => total,
    routes,
    failures,
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

describe('killing the operator under traffic (real apiserver, real sidecars)', () => {
  let cp: ControlPlane;
  let tls: TestTls;
  let dir: string;
  let fakes: Record<'up-a' | 'up-b', Fake>;
  let selector: Record<string, string>;
  let service: Awaited<ReturnType<typeof startPushService>> | undefined;
  const ports = new Map<string, number>();
  const replicas = new Map<string, OperatorReplica>();
  const sidecars: SidecarProcess[] = [];
  const kubectl = (args: readonly string[], opts?: { input?: string }) => cp.kubectl(args, opts);

  const startReplica = async (pod: string) => {
    const r = spawnOperator(cp, pod, ports.get(pod) ?? assert.fail(), tls);
    replicas.set(pod, r);
    await r.serving;
    return r;
  };
  const logs = () =>
    [...sidecars.map((s) => s.output()), ...[...replicas.values()].map((r) => r.output())].join('\n');
  /** Every sidecar serves `route` and the leader's status counts both synced (ACKed) on this generation. */
  const converged = async (route: string) => {
    const rp = await getObject(cp, NS, 'rp', 'app');
    const programmed = rp.status?.conditions?.find((c) => c.type === 'Programmed');
    if (programmed?.status !== 'True' || programmed.observedGeneration !== rp.metadata.generation)
      return false;
    if (rp.status?.sidecars?.synced !== sidecars.length) return false;
    for (const s of sidecars) {
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'probe' }] }),
      });
      await res.text();
      if (res.headers.get('x-turnout-route') !== route) return false;
    }
    return true;
  };
  const waitConverged = (route: string) =>
    eventually(`both sidecars ACKed and serve "${route}"`, () => converged(route), 90_000).catch((e: Error) =>
      assert.fail(`${e.message}\n${logs()}`),
    );

  before(
    async () => {
      cp = await startTurnoutControlPlane(true);
      tls = await makeTestTls();
      dir = await mkdtemp(join(tmpdir(), 'turnout-kill-load-'));
      fakes = {
        'up-a': await startFakeProvider({ dialect: 'openai', record: false }),
        'up-b': await startFakeProvider({ dialect: 'openai', record: false }),
      };
      const chart = await renderedChart(cp);
      selector = chart.selector;
      ok(await kubectl(['create', 'namespace', SYSTEM_NS]));
      await eventually(
        'default ServiceAccount',
        async () => (await kubectl(['-n', SYSTEM_NS, 'get', 'sa', 'default'])).code === 0,
      );
      await createOperatorPods(cp, ['turnout-op-a', 'turnout-op-b'], chart.podLabels);
      for (const pod of ['turnout-op-a', 'turnout-op-b']) ports.set(pod, await freePort());
      service = await startPushService(cp, selector, (pod) => ports.get(pod));

      await createNamespace(kubectl, NS);
      ok(await kubectl(['label', 'namespace', NS, 'turnout.dev/inject=enabled']));
      await apply(cp, ...objects('first', 'up-a', fakes));
      await startReplica('turnout-op-a');
      for (const name of ['one', 'two']) {
        const pod = await createPod(kubectl, NS, name);
        const tokenFile = join(dir, `${name}.token`);
        await writeFile(tokenFile, await mintToken(kubectl, NS, { audience: 'turnout', pod }));
        sidecars.push(
          await spawnSidecar({
            TURNOUT_OPERATOR_URL: service.url,
            TURNOUT_CA_FILE: tls.caFile,
            TURNOUT_TOKEN_FILE: tokenFile,
            TURNOUT_POD_NAMESPACE: NS,
            TURNOUT_POD_NAME: name,
            TURNOUT_STATE_DIR: join(dir, `${name}-state`),
          }),
        );
      }
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    for (const s of sidecars) await s.stop();
    for (const r of replicas.values()) await r.kill('SIGKILL');
    await service?.close();
    for (const f of Object.values(fakes ?? {})) await f.close();
    await tls?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cp?.stop();
  });

  it('the leader labels its pod, so the push Service selects it, and both sidecars sync through it', async () => {
    await eventually('op-a selected by the push Service', async () => {
      const pods = await selectedPods(cp, selector);
      return pods.length === 1 && pods[0] === 'turnout-op-a';
    });
    await waitConverged('first');
  });

  it('fails zero requests while the operator is SIGKILLed, and resyncs to an edit made while it was down', async (t) => {
    const upB = fakes['up-b'].count;
    const traffic = startTraffic(sidecars);
    await sleep(1_500);
    assert.equal(await replicas.get('turnout-op-a')?.kill('SIGKILL'), null, 'killed by the signal');
    for (const s of sidecars) await s.waitFor((l) => l.msg === 'sync.disconnected');
    await sleep(1_000);
    await apply(cp, ...objects('second', 'up-b', fakes));
    await sleep(2_000);
    // Down: the sidecars keep the last good snapshot and route as before.
    assert.equal(fakes['up-b'].count, upB, 'no sidecar saw the edit while the operator was down');
    await startReplica('turnout-op-a');
    await waitConverged('second');
    await sleep(1_000);
    await stopWithoutFailures(t, traffic);
    assert.ok((traffic.routes.get('first') ?? 0) > 0 && (traffic.routes.get('second') ?? 0) > 0);
    assert.ok(fakes['up-b'].count > upB, 'traffic follows the edit to up-b');
  });

  it('hands over to the other replica when the leader is SIGKILLed under traffic, with zero failed requests', async (t) => {
    await startReplica('turnout-op-b');
    await sleep(2_000);
    assert.deepEqual(await selectedPods(cp, selector), ['turnout-op-a'], 'the follower is not selected');
    const upA = fakes['up-a'].count;
    const traffic = startTraffic(sidecars);
    await sleep(1_500);
    await replicas.get('turnout-op-a')?.kill('SIGKILL');
    await apply(cp, ...objects('third', 'up-a', fakes));
    // The successor takes the Lease once it expires, labels its pod and clears the dead leader's label.
    await eventually(
      'op-b alone selected by the push Service',
      async () => (await selectedPods(cp, selector)).join() === 'turnout-op-b',
      60_000,
    );
    await waitConverged('third');
    await sleep(1_000);
    await stopWithoutFailures(t, traffic);
    assert.ok(fakes['up-a'].count > upA, 'traffic follows the edit back to up-a');
    const labels = JSON.parse(
      ok(await kubectl(['-n', SYSTEM_NS, 'get', 'pod', 'turnout-op-a', '-o', 'jsonpath={.metadata.labels}'])),
    ) as Record<string, string>;
    assert.equal(labels['turnout.dev/leader'], 'false', 'the dead leader’s label was cleared');
    assert.doesNotMatch(logs(), /sk-kl/, 'no credential in any log');
  });
});

/** Ends the traffic and requires that every request of it succeeded, and that there was enough of it. */
async function stopWithoutFailures(t: TestContext, traffic: ReturnType<typeof startTraffic>): Promise<void> {
  await traffic.stop();
  t.diagnostic(
    `${traffic.total()} requests, by route: ${JSON.stringify(Object.fromEntries(traffic.routes))}`,
  );
  assert.deepEqual(
    traffic.failures.slice(0, 5),
    [],
    `${traffic.failures.length} of ${traffic.total()} failed`,
  );
  assert.ok(traffic.total() >= 300, `only ${traffic.total()} requests ran`);
}

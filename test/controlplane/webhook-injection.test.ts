// The injection webhook through a real kube-apiserver: the chart installed with helm, two `turnout
// operator` replicas running with the chart's ServiceAccount (its RBAC) behind one address, and pods
// created with kubectl. The apiserver calls the webhook over TLS with the caBundle the operator keeps.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.ts';
import {
  createPod,
  eventually,
  freePort,
  get,
  helmInstall,
  isInjected,
  metric,
  namespace,
  ok,
  podManifest,
  startBalancer,
  startReplica,
  SYSTEM_NS,
  waitForInjection,
  type PodJson,
  type Replica,
} from './webhook-harness.ts';

const INJECT = { 'turnout.dev/inject': 'true' };
const envOf = (c: { env?: { name: string; value?: string }[] } | undefined) =>
  Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));

describe('injection webhook on a real apiserver (helm-installed chart, two operator replicas)', () => {
  let cp: ControlPlane;
  let dir: string;
  let balancer: Awaited<ReturnType<typeof startBalancer>>;
  const replicas: (Replica | undefined)[] = [undefined, undefined];
  const ports: { webhook: number; push: number }[] = [];
  let n = 0;
  const uniq = (p: string) => `${p}-${n++}`;

  before(
    async () => {
      cp = await startControlPlane({ controllerManager: true });
      dir = await mkdtemp(join(tmpdir(), 'turnout-webhook-cp-'));
      for (let i = 0; i < 2; i++) ports.push({ webhook: await freePort(), push: await freePort() });
      balancer = await startBalancer(() => ports.map((p) => p.webhook));
      await helmInstall(cp, {
        'webhook.url': `https://127.0.0.1:${balancer.port}/mutate`,
        'tls.extraIpAddresses': '{127.0.0.1}',
        'injection.operatorUrl': `https://127.0.0.1:${ports[0]?.push}`,
        // Short lifetimes so that serving-certificate and CA rotations happen while the tests run.
        'tls.certLifetime': '20s',
        'tls.caLifetime': '60s',
        'tls.promoteAfter': '8s',
        'tls.syncInterval': '1s',
      });
      for (let i = 0; i < 2; i++) replicas[i] = await startReplica(cp, dir, `replica-${i}`, ports[i]!);
      await namespace(cp, 'team-a', INJECT);
      await namespace(cp, 'plain');
      await namespace(cp, 'restricted', { ...INJECT, 'pod-security.kubernetes.io/enforce': 'restricted' });
      await waitForInjection(cp, 'plain');
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    for (const r of replicas) await r?.stop();
    await balancer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cp?.stop();
  });

  it('injects a pod created in a labelled namespace: native sidecar, projected token, state emptyDir, SDK env', async () => {
    const pod = await createPod(cp, podManifest('team-a', uniq('web')));
    const sidecar = pod.spec.initContainers?.[0];
    assert.equal(sidecar?.name, 'turnout-proxy');
    assert.equal(sidecar?.restartPolicy, 'Always');
    const env = envOf(sidecar);
    assert.equal(env.TURNOUT_OPERATOR_URL, `https://127.0.0.1:${ports[0]?.push}`);
    assert.equal(env.TURNOUT_TOKEN_FILE, '/var/run/secrets/turnout/token');
    assert.equal(env.TURNOUT_LISTEN, '127.0.0.1:15400');
    const token = pod.spec.volumes?.find((v) => v.name === 'turnout-token') as
      { projected?: { sources: { serviceAccountToken?: { audience: string } }[] } } | undefined;
    assert.equal(token?.projected?.sources[0]?.serviceAccountToken?.audience, 'turnout');
    assert.ok(pod.spec.volumes?.some((v) => v.name === 'turnout-state' && 'emptyDir' in v));
    const app = envOf(pod.spec.containers[0]);
    assert.equal(app.OPENAI_BASE_URL, 'http://127.0.0.1:15400/v1');
    assert.equal(app.ANTHROPIC_BASE_URL, 'http://127.0.0.1:15400');
    assert.equal(pod.metadata.annotations?.['turnout.dev/injected'], 'explicit');
    // The operator publishes the namespace's CA files the sidecar mounts.
    await eventually(
      'turnout-ca in team-a',
      async () => (await cp.kubectl(['-n', 'team-a', 'get', 'configmap', 'turnout-ca'])).code === 0,
    );
  });

  it('injects a labelled pod in a namespace that is not labelled, and keeps env the app sets itself', async () => {
    const mine = [{ name: 'OPENAI_BASE_URL', value: 'https://gateway.example/v1' }];
    const pod = await createPod(cp, podManifest('plain', uniq('own-env'), { labels: INJECT, env: mine }));
    assert.ok(isInjected(pod));
    assert.equal(envOf(pod.spec.containers[0]).OPENAI_BASE_URL, 'https://gateway.example/v1');
    assert.equal(envOf(pod.spec.containers[0]).ANTHROPIC_BASE_URL, 'http://127.0.0.1:15400');
  });

  it('leaves excluded pods alone — and the apiserver does not even call the webhook for them', async () => {
    const before = (
      await Promise.all(replicas.map((r) => metric(r!, 'turnout_webhook_admissions_total')))
    ).reduce((a, b) => a + b);
    const excluded: [string, object][] = [
      ['unlabelled pod, unlabelled namespace', podManifest('plain', uniq('x'))],
      ['label opt-out', podManifest('team-a', uniq('x'), { labels: { 'turnout.dev/inject': 'false' } })],
      [
        'annotation opt-out',
        podManifest('team-a', uniq('x'), { annotations: { 'turnout.dev/inject': 'false' } }),
      ],
      ['hostNetwork', podManifest('team-a', uniq('x'), { spec: { hostNetwork: true } })],
      ['kube-system', podManifest('kube-system', uniq('x'), { labels: INJECT })],
      ['kube-public', podManifest('kube-public', uniq('x'), { labels: INJECT })],
      ["the operator's namespace", podManifest(SYSTEM_NS, uniq('x'), { labels: INJECT })],
    ];
    for (const [what, manifest] of excluded) {
      const pod = await createPod(cp, manifest);
      assert.equal(isInjected(pod), false, what);
      assert.equal(pod.metadata.annotations?.['turnout.dev/injected'], undefined, what);
    }
    const after = (
      await Promise.all(replicas.map((r) => metric(r!, 'turnout_webhook_admissions_total')))
    ).reduce((a, b) => a + b);
    assert.equal(after, before, 'selectors and matchConditions keep excluded pods from reaching the webhook');
  });

  it('re-mutation is a no-op: the injected pod submitted again comes back unchanged', async () => {
    const first = await createPod(
      cp,
      podManifest('team-a', uniq('again'), { annotations: { 'turnout.dev/mode': 'transparent' } }),
    );
    const resubmit = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: uniq('again'),
        namespace: 'team-a',
        labels: first.metadata.labels,
        annotations: first.metadata.annotations,
      },
      spec: first.spec,
    };
    const second = await createPod(cp, resubmit, true);
    assert.deepEqual(second.spec.initContainers, first.spec.initContainers);
    assert.deepEqual(second.spec.containers, first.spec.containers);
    assert.deepEqual(second.spec.volumes, first.spec.volumes);
    assert.deepEqual(second.spec.hostAliases, first.spec.hostAliases);
    assert.deepEqual(second.metadata.annotations, first.metadata.annotations);
    // And straight to the webhook: no patch at all.
    const ca = await readFile(join(replicas[0]!.tlsDir, 'ca.crt'), 'utf8');
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'again',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        operation: 'CREATE',
        namespace: 'team-a',
        object: first,
      },
    };
    const answer = await postJson(`https://127.0.0.1:${replicas[0]!.webhookPort}/mutate`, ca, review);
    assert.deepEqual(answer, {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'again', allowed: true },
    });
  });

  it('a namespace enforcing PodSecurity "restricted" admits injected pods, explicit and transparent', async () => {
    for (const mode of ['explicit', 'transparent']) {
      const pod = await createPod(
        cp,
        podManifest('restricted', uniq(mode), { annotations: { 'turnout.dev/mode': mode } }),
      );
      assert.ok(isInjected(pod), mode);
      assert.equal(pod.metadata.annotations?.['turnout.dev/injected'], mode);
    }
  });

  it('a dry run is injected but has no side effects; a real create publishes the namespace objects', async () => {
    await namespace(cp, 'dry', INJECT);
    assert.ok(isInjected(await createPod(cp, podManifest('dry', 'p'), true)));
    await sleep(2000);
    assert.notEqual((await cp.kubectl(['-n', 'dry', 'get', 'configmap', 'turnout-ca'])).code, 0);
    assert.ok(isInjected(await createPod(cp, podManifest('dry', 'p'))));
    await eventually(
      'turnout-ca in dry',
      async () => (await cp.kubectl(['-n', 'dry', 'get', 'configmap', 'turnout-ca'])).code === 0,
    );
  });

  it('rotates the serving certificate and its CA while replicas restart one at a time: no admission fails', async (t) => {
    const secret = async () =>
      (await get<{ data: Record<string, string> }>(cp, ['-n', SYSTEM_NS, 'get', 'secret', 'turnout-tls']))
        .data;
    const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString();
    const leaves = new Set<string>();
    const authorities = new Set<string>();
    let created = 0;
    const failures: string[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const r = await cp.kubectl(['create', '-f', '-', '-o', 'json'], {
          input: JSON.stringify(podManifest('team-a', uniq('load'))),
        });
        if (r.code !== 0) failures.push(r.stderr);
        else if (!isInjected(JSON.parse(r.stdout) as PodJson)) failures.push('created without the sidecar');
        else created++;
      }
    })();
    const watch = (async () => {
      while (!stop) {
        const data = await secret();
        leaves.add(decode(data['tls.crt']));
        authorities.add(decode(data['authority.crt']));
        await sleep(500);
      }
    })();
    const started = Date.now();
    // Each replica in turn stops (SIGTERM, as on a rollout) and comes back while the other serves.
    for (const i of [0, 1]) {
      await sleep(8000);
      await replicas[i]!.stop();
      await sleep(3000);
      replicas[i] = await startReplica(cp, dir, `replica-${i}-again`, ports[i]!);
    }
    while (Date.now() - started < 65_000) await sleep(1000);
    stop = true;
    await Promise.all([load, watch]);
    t.diagnostic(`${created} pods injected, ${leaves.size} serving certificates, ${authorities.size} CAs`);
    assert.deepEqual(failures, [], `${failures.length} of ${created + failures.length} admissions failed`);
    assert.ok(created > 50, `only ${created} pods created`);
    assert.ok(leaves.size >= 3, `serving certificate rotated ${leaves.size - 1} times`);
    assert.ok(authorities.size >= 2, 'the CA was promoted to its successor at least once');
  });

  it('failurePolicy Fail: with every replica down, opted-in pods wait and nothing else is blocked — including the operator’s own pods', async () => {
    for (const r of replicas) await r?.stop();
    const refused = await cp.kubectl(['create', '-f', '-'], {
      input: JSON.stringify(podManifest('team-a', uniq('down'))),
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /failed calling webhook "namespace\.inject\.turnout\.dev"/);
    // The operator's namespace is never intercepted, so a replacement operator pod can always be created.
    assert.equal(
      isInjected(
        await createPod(cp, podManifest(SYSTEM_NS, uniq('operator-replacement'), { labels: INJECT })),
      ),
      false,
    );
    assert.equal(isInjected(await createPod(cp, podManifest('plain', uniq('unrelated')))), false);
    for (const i of [0, 1]) replicas[i] = await startReplica(cp, dir, `replica-${i}-restarted`, ports[i]!);
    assert.ok(isInjected(await createPod(cp, podManifest('team-a', uniq('back')))));
  });
});

function postJson(url: string, ca: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.once('error', reject);
    req.end(JSON.stringify(body));
  });
}

void ok;

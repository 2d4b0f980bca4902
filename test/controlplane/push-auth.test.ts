// The push server's authentication against a REAL apiserver: real pod-bound ServiceAccount tokens, real
// TokenReview. A sidecar's token gets its own pod's snapshot and nothing else — never another pod's,
// never another namespace's, and not at all once the token is for the wrong audience or its pod is gone.
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PodIdentity } from '../../operator/contract.ts';
import { kubeTokenReviewer, startPushServer, type RunningPushServer } from '../../operator/push/index.ts';
import {
  authHeaders,
  createNamespace,
  createPod,
  FakeDesiredState,
  makeTestTls,
  mintToken,
  namespaceYaml,
  openStream,
  type RawStream,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import { type ControlPlane, startControlPlane } from '../helpers/control-plane.ts';

describe('push server with real TokenReview (kube-apiserver)', () => {
  let cp: ControlPlane;
  let tls: TestTls;
  let server: RunningPushServer;
  const desired = new FakeDesiredState();
  const streams: RawStream[] = [];
  const pods: Record<string, PodIdentity> = {};
  const kubectl = (args: readonly string[], opts?: { input?: string }) => cp.kubectl(args, opts);

  before(
    async () => {
      cp = await startControlPlane({ controllerManager: true });
      tls = await makeTestTls();
      for (const ns of ['push-a', 'push-b']) await createNamespace(kubectl, ns);
      desired.apply(namespaceYaml('push-a', 'sk-push-a-secret'));
      desired.apply(namespaceYaml('push-b', 'sk-push-b-secret'));
      // "web" exists in both namespaces: same name, different pods.
      for (const [ns, name] of [
        ['push-a', 'web'],
        ['push-a', 'worker'],
        ['push-b', 'web'],
      ] as const) {
        const pod = await createPod(kubectl, ns, name, { app: name });
        desired.addPod(ns, name, pod.labels, pod.uid);
        pods[`${ns}/${name}`] = pod;
      }
      const kc = new KubeConfig();
      kc.loadFromFile(cp.kubeconfig);
      server = await startPushServer({
        desired,
        tokenReviewer: kubeTokenReviewer(kc),
        tls: { cert: tls.cert, key: tls.key },
        port: 0,
        debounceMs: 10,
        reviewCacheTtlMs: 200,
      });
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    for (const s of streams) await s.close();
    await server?.close();
    await tls?.remove();
    await cp?.stop();
  });

  const pod = (key: string) => pods[key] ?? assert.fail(`no pod ${key}`);
  const connect = async (headers: Record<string, string>) => {
    const s = await openStream(server.url, tls.caFile, headers);
    streams.push(s);
    return s;
  };
  const tokenFor = (p: PodIdentity, audience = 'turnout') =>
    mintToken(kubectl, p.namespace, { audience, pod: p });

  it('reads the pod name, uid and namespace out of a real pod-bound token', async () => {
    const web = pod('push-a/web');
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    const review = await kubeTokenReviewer(kc)(await tokenFor(web));
    assert.deepEqual(review, {
      authenticated: true,
      username: 'system:serviceaccount:push-a:app',
      podName: 'web',
      podUid: web.uid,
      namespace: 'push-a',
    });
  });

  it('serves a pod its own namespace’s snapshot with only that namespace’s key', async () => {
    const web = pod('push-a/web');
    const s = await connect(authHeaders(await tokenFor(web), web));
    assert.equal(s.status, 200, s.body);
    await s.waitFor(() => s.snapshots().length === 1);
    const { snapshot } = s.snapshots()[0] ?? assert.fail();
    assert.equal(snapshot.namespace, 'push-a');
    assert.deepEqual(snapshot.credentials, { sim: 'sk-push-a-secret' });
    assert.doesNotMatch(s.events.map((e) => e.data).join(''), /push-b/);
  });

  it('never lets namespace A’s pod obtain namespace B’s snapshot, nor another pod’s', async () => {
    const aWeb = pod('push-a/web');
    const token = await tokenFor(aWeb);
    for (const claim of ['push-b/web', 'push-a/worker']) {
      const s = await connect({ authorization: `Bearer ${token}`, 'x-turnout-pod': claim });
      assert.equal(s.status, 403, claim);
      assert.doesNotMatch(s.body, /sk-push-b-secret/);
      assert.equal(s.events.length, 0);
    }
  });

  it('refuses a token minted for another audience, and one not bound to a pod', async () => {
    const web = pod('push-a/web');
    const wrongAudience = await tokenFor(web, 'vault');
    const s = await connect(authHeaders(wrongAudience, web));
    assert.equal(s.status, 401, s.body);
    const unbound = await mintToken(kubectl, 'push-a', { audience: 'turnout' });
    const u = await connect(authHeaders(unbound, web));
    assert.equal(u.status, 403, u.body);
    assert.match(u.body, /not bound to a pod/);
  });

  it('stops accepting a token once its pod is deleted', async () => {
    const worker = pod('push-a/worker');
    const token = await tokenFor(worker);
    const before = await connect(authHeaders(token, worker));
    assert.equal(before.status, 200);
    await before.close();
    const del = await cp.kubectl(['-n', 'push-a', 'delete', 'pod', 'worker', '--wait=true', '--timeout=60s']);
    assert.equal(del.code, 0, del.stderr);
    // The fake DesiredState still lists the pod: what refuses the token now is the apiserver, whose
    // bound-token check sees the deletion through its own cache (so allow it a moment).
    let status = 0;
    let body = '';
    const deadline = Date.now() + 30_000;
    while (status !== 401 && Date.now() < deadline) {
      await sleep(250);
      const s = await connect(authHeaders(token, worker));
      ({ status, body } = s);
      await s.close();
    }
    assert.equal(status, 401, body);
  });
});

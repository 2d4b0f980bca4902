// End to end: several real `turnout sidecar` processes, each with a real pod-bound token, connected to
// one push server that authenticates with the real apiserver. Edits reach every sidecar and are ACKed;
// with the push server gone the sidecars keep serving (a restarted one from disk); back, they resync.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { after, before, describe, it } from 'node:test';
import { snapshotFor } from '../../operator/compile/index.ts';
import type { PodIdentity } from '../../operator/contract.ts';
import { kubeTokenReviewer, startPushServer, type RunningPushServer } from '../../operator/push/index.ts';
import {
  createNamespace,
  createPod,
  eventually,
  FakeDesiredState,
  makeTestTls,
  mintToken,
  namespaceYaml,
  spawnSidecar,
  type SidecarProcess,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import { type ControlPlane, startControlPlane } from '../helpers/control-plane.ts';

interface Member {
  pod: PodIdentity;
  env: Record<string, string>;
  proc: SidecarProcess;
}

describe('turnout sidecars synced by the push server (real apiserver, real tokens)', () => {
  let cp: ControlPlane;
  let tls: TestTls;
  let dir: string;
  let server: RunningPushServer | undefined;
  let port = 0;
  let kc: KubeConfig;
  const desired = new FakeDesiredState();
  const members: Member[] = [];
  const kubectl = (args: readonly string[], opts?: { input?: string }) => cp.kubectl(args, opts);

  const serve = async () => {
    server = await startPushServer({
      desired,
      tokenReviewer: kubeTokenReviewer(kc),
      tls: { cert: tls.cert, key: tls.key },
      port,
      debounceMs: 50,
      pingIntervalMs: 1000,
    });
    port = Number(new URL(server.url).port);
  };

  before(
    async () => {
      cp = await startControlPlane({ controllerManager: true });
      tls = await makeTestTls();
      dir = await mkdtemp(join(tmpdir(), 'turnout-push-e2e-'));
      kc = new KubeConfig();
      kc.loadFromFile(cp.kubeconfig);
      for (const ns of ['e2e-a', 'e2e-b']) {
        await createNamespace(kubectl, ns);
        desired.apply(namespaceYaml(ns, `sk-${ns}-key`, 'first'));
      }
      await serve();
      for (const [ns, name] of [
        ['e2e-a', 'one'],
        ['e2e-a', 'two'],
        ['e2e-b', 'three'],
      ] as const) {
        const pod = await createPod(kubectl, ns, name, { app: 'web' });
        desired.addPod(ns, name, pod.labels, pod.uid);
        const tokenFile = join(dir, `${name}.token`);
        await writeFile(tokenFile, await mintToken(kubectl, ns, { audience: 'turnout', pod }));
        const env = {
          TURNOUT_OPERATOR_URL: server?.url ?? '',
          TURNOUT_CA_FILE: tls.caFile,
          TURNOUT_TOKEN_FILE: tokenFile,
          TURNOUT_POD_NAMESPACE: ns,
          TURNOUT_POD_NAME: name,
          TURNOUT_STATE_DIR: join(dir, `${name}-state`),
        };
        members.push({ pod, env, proc: await spawnSidecar(env) });
      }
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    for (const m of members) await m.proc.stop();
    await server?.close();
    await tls?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
    await cp?.stop();
  });

  const expected = (p: PodIdentity) =>
    snapshotFor(desired.compiled(p.namespace), p.namespace, p.labels).version;
  const allSynced = () =>
    members.every((m) => {
      const state = server?.reporter.sidecars(m.pod.namespace).find((s) => s.pod === m.pod.name);
      return state?.connected === true && state.ackedVersion === expected(m.pod);
    });
  const chatRoute = async (m: Member) => {
    const res = await fetch(`${m.proc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }),
    });
    const body = await res.text();
    assert.equal(res.status, 200, `${m.pod.name}: ${body}\n${m.proc.output()}`);
    return res.headers.get('x-turnout-route');
  };
  const waitSynced = (what: string) =>
    eventually(what, allSynced, 60_000).catch((e: Error) =>
      assert.fail(`${e.message}\n${members.map((m) => `--- ${m.pod.name}\n${m.proc.output()}`).join('\n')}`),
    );

  it('gets every sidecar its snapshot, ACKed and reported synced, and routes through it', async () => {
    await waitSynced('all synced');
    for (const m of members) {
      assert.equal((await fetch(`${m.proc.url}/readyz`)).status, 200);
      assert.equal(await chatRoute(m), 'first');
    }
  });

  it('pushes an edit to every selected sidecar, each ACKs it', async () => {
    desired.apply(namespaceYaml('e2e-a', 'sk-e2e-a-key', 'second'));
    desired.apply(namespaceYaml('e2e-b', 'sk-e2e-b-key', 'second'));
    await waitSynced('all synced to the edit');
    for (const m of members) assert.equal(await chatRoute(m), 'second');
  });

  it('keeps serving with the push server down, even across a sidecar restart, then resyncs', async () => {
    await server?.close();
    server = undefined;
    for (const m of members) await m.proc.waitFor((l) => l.msg === 'sync.disconnected');
    for (const m of members) {
      assert.equal((await fetch(`${m.proc.url}/readyz`)).status, 200);
      assert.equal(await chatRoute(m), 'second');
    }
    // A sidecar restarted while the operator is down serves the snapshot it kept on disk.
    const restarted = members[0] ?? assert.fail();
    assert.equal(await restarted.proc.stop(), 0, 'exits 0 on SIGTERM');
    restarted.proc = await spawnSidecar(restarted.env);
    await restarted.proc.waitFor((l) => l.msg === 'sync.restored');
    assert.equal(await chatRoute(restarted), 'second');

    desired.apply(namespaceYaml('e2e-a', 'sk-e2e-a-key', 'third'));
    desired.apply(namespaceYaml('e2e-b', 'sk-e2e-b-key', 'third'));
    await serve();
    await waitSynced('all resynced');
    for (const m of members) assert.equal(await chatRoute(m), 'third');
    const leaked = members.filter((m) => /sk-e2e-/.test(m.proc.output()));
    assert.deepEqual(leaked, [], 'no sidecar logs a credential');
  });
});

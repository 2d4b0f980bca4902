// The ClusterCache's pod views over a fake apiserver (real client-node list and watch over HTTP): which
// pods count as sidecars, which are only selected by injection, and which the push server may know.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterCache } from './cluster-cache.ts';
import { silentLogger } from './log.ts';
import { FakeApiserver, type FakeObject } from './testing/fake-apiserver.ts';

const NS = 'team-a';
const pod = (name: string, spec: object, labels: Record<string, string> = { app: 'web' }): FakeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, uid: `u-${name}`, labels },
  spec,
  status: { phase: 'Running' },
});

describe('ClusterCache pods', () => {
  const api = new FakeApiserver();
  let cache: ClusterCache;

  before(async () => {
    api.put('namespaces', { metadata: { name: NS, labels: { 'turnout.dev/inject': 'true' } } }, false);
    const sidecar = { name: 'turnout-proxy', image: 'turnout', restartPolicy: 'Always' };
    api.put('pods', pod('injected', { containers: [{ name: 'app' }], initContainers: [sidecar] }), false);
    // Created before the namespace opted in, or admitted while the webhook was down (it fails open).
    api.put('pods', pod('predates-injection', { containers: [{ name: 'app' }] }), false);
    api.put(
      'pods',
      pod('opted-out', { containers: [{ name: 'app' }] }, { app: 'web', 'turnout.dev/inject': 'false' }),
      false,
    );
    cache = new ClusterCache({ kubeConfig: await api.start(), log: silentLogger });
    await cache.start();
    await cache.waitForSync();
  });

  after(async () => {
    await cache?.stop();
    await api.stop();
  });

  it('counts as sidecars only the pods that run one', () => {
    assert.deepEqual(
      cache.pods(NS).map((p) => p.name),
      ['injected'],
    );
    assert.deepEqual(
      cache.podsWithoutSidecar(NS).map((p) => p.name),
      ['predates-injection'],
    );
  });

  it('still knows a selected pod without a sidecar by name, as before', () => {
    assert.equal(cache.pod(NS, 'predates-injection')?.uid, 'u-predates-injection');
    assert.equal(cache.pod(NS, 'opted-out'), undefined);
  });
});

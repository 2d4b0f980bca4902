// Rotating a key by pointing a ModelProvider at another, existing Secret: the Secret cache keeps only
// referenced Secrets, so it must read the new one before the namespace compiles again. Real ClusterCache
// (client-node Watch over HTTP), Controller and StatusSync against a fake apiserver whose Secret list
// is slow, as listing every Secret of a big cluster is.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { snapshotFor } from '../compile/index.ts';
import { ClusterCache } from '../kube/cluster-cache.ts';
import { silentLogger } from '../kube/log.ts';
import type { ObjectRef } from '../kube/objects.ts';
import { FakeApiserver, type FakeObject } from '../kube/testing/fake-apiserver.ts';
import type { KubeWriter } from '../kube/writer.ts';
import { OperatorMetrics } from '../metrics.ts';
import { Controller } from './controller.ts';
import { DesiredStateStore } from './desired-state.ts';
import { NOOP_SYNC_REPORTER } from './noop-sync-reporter.ts';
import { RevisionClock } from './revision-clock.ts';
import { StatusSync } from './status-sync.ts';

const NS = 'team-a';
const SECRET_LIST_MS = 300;

const provider = (secretName: string, generation: number): FakeObject => ({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'ModelProvider',
  metadata: { name: 'openai', namespace: NS, uid: 'mp-1', generation },
  spec: {
    type: 'openai',
    endpoint: 'https://api.openai.com/v1',
    auth: { secretRef: { name: secretName, key: 'apiKey' } },
    models: [{ name: 'gpt-4o' }],
  },
});
const secret = (name: string): FakeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: NS, uid: `s-${name}` },
  data: { apiKey: Buffer.from(`sk-${name}`).toString('base64') },
});

interface Recorded {
  snapshots: { policies: string[]; credentials: Record<string, string> }[];
  conditions: string[];
  events: string[];
}

describe('rotating a key to another existing Secret', () => {
  const api = new FakeApiserver();
  let cache: ClusterCache;
  let controller: Controller;
  const seen: Recorded = { snapshots: [], conditions: [], events: [] };

  before(async () => {
    api.listDelayMs.set('secrets', SECRET_LIST_MS);
    api.put('modelproviders', provider('key-v1', 1), false);
    api.put(
      'routingpolicies',
      {
        apiVersion: 'turnout.dev/v1alpha1',
        kind: 'RoutingPolicy',
        metadata: { name: 'bot', namespace: NS, uid: 'rp-1', generation: 1 },
        spec: { routes: [{ name: 'main', targets: [{ provider: 'openai', model: 'gpt-4o' }] }] },
      },
      false,
    );
    for (const name of ['key-v1', 'key-v2']) api.put('secrets', secret(name), false);
    api.put('namespaces', { metadata: { name: NS, labels: { 'turnout.dev/inject': 'true' } } }, false);
    const kubeConfig = await api.start();
    cache = new ClusterCache({ kubeConfig, log: silentLogger });
    await cache.start();
    await cache.waitForSync();
    const desired = new DesiredStateStore(new RevisionClock(), cache.pod);
    desired.onChange((ns) => {
      const snap = snapshotFor(desired.compiled(ns), ns, {});
      seen.snapshots.push({ policies: snap.policies.map((p) => p.name), credentials: snap.credentials });
    });
    let rv = 1000;
    const writer = {
      patchStatus: (kind: string, ref: ObjectRef, _rv: string, status: { conditions: object[] }) => {
        for (const c of status.conditions as { type: string; status: string; reason: string }[])
          seen.conditions.push(`${kind}/${ref.name} ${c.type}=${c.status}/${c.reason}`);
        return Promise.resolve({ metadata: { resourceVersion: String(++rv) }, status });
      },
      annotate: () => Promise.resolve(),
      event: (e: { kind: string; ref: ObjectRef; reason: string }) => {
        seen.events.push(`${e.kind}/${e.ref.name} ${e.reason}`);
        return Promise.resolve();
      },
    } as unknown as KubeWriter;
    const status = new StatusSync({
      writer,
      sync: NOOP_SYNC_REPORTER,
      pods: cache.pods,
      isLeader: () => true,
      log: silentLogger,
    });
    controller = new Controller({
      cache,
      desired,
      status,
      sync: NOOP_SYNC_REPORTER,
      isLeader: () => true,
      metrics: new OperatorMetrics(() => new Map()),
      log: silentLogger,
      statusDelayMs: 5,
      statusMaxDelayMs: 20,
    });
    controller.compute(NS);
    controller.start();
    await controller.idle();
    // The watches connect after their lists: edits before that would reach no one.
    await sleep(200);
  });

  after(async () => {
    await controller?.stop();
    await cache?.stop();
    await api.stop();
  });

  it('never compiles the namespace without the provider while the new Secret is being read', async () => {
    assert.deepEqual(seen.snapshots.at(-1), { policies: ['bot'], credentials: { openai: 'sk-key-v1' } });
    const before = { snapshots: seen.snapshots.length, conditions: seen.conditions.length };

    api.put('modelproviders', provider('key-v2', 2));
    await poll(
      'sidecars get the rotated key',
      () => seen.snapshots.at(-1)?.credentials['openai'] === 'sk-key-v2',
    );
    await controller.idle();

    const during = seen.snapshots.slice(before.snapshots);
    assert.deepEqual(
      during,
      [{ policies: ['bot'], credentials: { openai: 'sk-key-v2' } }],
      'one change, straight to the new key: never an empty snapshot',
    );
    const written = seen.conditions.slice(before.conditions);
    assert.ok(written.includes('ModelProvider/openai Ready=True/CredentialsResolved'), written.join('\n'));
    assert.deepEqual(
      written.filter((c) => c.includes('=False') && !c.includes('Programmed=False/NoSidecars')),
      [],
      'no false SecretNotFound, no refused policy',
    );
    assert.deepEqual(seen.events, [], 'no Warning Event');
  });

  it('still reports a Secret that does not exist, once the Secret list has been read', async () => {
    api.put('modelproviders', provider('key-v3', 3));
    await poll('SecretNotFound reported', () =>
      seen.conditions.includes('ModelProvider/openai Ready=False/SecretNotFound'),
    );
    assert.ok(seen.events.includes('ModelProvider/openai SecretNotFound'));
    assert.equal(cache.awaitingSecrets(NS), false);
  });
});

/** Polls `check` every 10 ms for up to 10 s. */
async function poll(what: string, check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !check(); await sleep(10))
    if (Date.now() > deadline) assert.fail(`${what}: not after 10 s`);
}

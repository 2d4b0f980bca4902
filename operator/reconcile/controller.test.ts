// The controller against fake caches and a fake status writer: passes of a namespace never overlap, and
// watch events that only moved status (the operator's own patches) do not recompile.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Secret } from '../../api/index.ts';
import type { PodIdentity, SyncReporter } from '../contract.ts';
import type { ChangeKind } from '../kube/cluster-cache.ts';
import { silentLogger } from '../kube/log.ts';
import { type CachedPolicy, type CachedProvider, projectPolicy, projectProvider } from '../kube/objects.ts';
import { OperatorMetrics } from '../metrics.ts';
import { type CacheReader, Controller, type ControllerDeps } from './controller.ts';
import { DesiredStateStore } from './desired-state.ts';
import type { NamespacePlan } from './plan.ts';
import { RevisionClock } from './revision-clock.ts';

const NS = 'team';

class FakeCache implements CacheReader {
  providerList: CachedProvider[] = [];
  policyList: CachedPolicy[] = [];
  readonly #listeners = new Set<(namespace: string, kind: ChangeKind) => void>();
  providers = () => this.providerList;
  policies = () => this.policyList;
  secrets = (): Secret[] => [];
  pods = (): PodIdentity[] => [];
  namespaces = () => new Set([NS]);
  onChange(listener: (namespace: string, kind: ChangeKind) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  emit(kind: ChangeKind): void {
    for (const l of this.#listeners) l(NS, kind);
  }
}

const noSync: SyncReporter = { sidecars: () => [], onChange: () => () => {} };

const meta = (name: string, generation: number, resourceVersion: string) => ({
  name,
  namespace: NS,
  uid: `uid-${name}`,
  generation,
  resourceVersion,
});

const provider = projectProvider({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'ModelProvider',
  metadata: meta('sim', 1, '1'),
  spec: { type: 'mock', models: [{ name: 'small' }] },
});

function policy(generation: number, resourceVersion: string, status: unknown = {}): CachedPolicy {
  return projectPolicy({
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: meta('bot', generation, resourceVersion),
    spec: { routes: [{ name: 'main', targets: [{ provider: 'sim', model: 'small' }] }] },
    status,
  });
}

function controller(
  cache: FakeCache,
  apply: (plan: NamespacePlan) => Promise<void>,
  extra: Partial<ControllerDeps>,
) {
  const desired = new DesiredStateStore(new RevisionClock(), () => undefined);
  const warnings: string[] = [];
  const c = new Controller({
    cache,
    desired,
    status: { apply },
    sync: noSync,
    isLeader: () => true,
    metrics: new OperatorMetrics(),
    log: { ...silentLogger, warn: (msg) => void warnings.push(msg) },
    ...extra,
  });
  return { c, desired, warnings };
}

describe('Controller', () => {
  it('never starts a pass while the previous one still runs, however long it takes', async () => {
    const cache = new FakeCache();
    cache.providerList = [provider];
    let active = 0;
    let maxActive = 0;
    let passes = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { c, warnings } = controller(
      cache,
      async () => {
        passes++;
        maxActive = Math.max(maxActive, ++active);
        await gate;
        active--;
      },
      { slowReconcileMs: 20, resyncMs: 10 },
    );
    c.start();
    try {
      // The resync enqueues every 10 ms: well past the slow threshold, the first pass still holds its slot.
      await sleep(100);
      assert.equal(passes, 1);
      assert.ok(warnings.includes('reconcile still running'));
      release();
      await sleep(50);
      assert.equal(maxActive, 1);
      assert.ok(passes >= 2, `the namespace enqueued meanwhile is reconciled afterwards (${passes} passes)`);
    } finally {
      release();
      await c.stop();
    }
  });

  it('recompiles on a spec change, not on a status-only change, and passes status the current objects', async () => {
    const cache = new FakeCache();
    cache.providerList = [provider];
    cache.policyList = [policy(1, '10')];
    const plans: NamespacePlan[] = [];
    const { c, desired } = controller(
      cache,
      (plan) => {
        plans.push(plan);
        return Promise.resolve();
      },
      { statusDelayMs: 5, statusMaxDelayMs: 20 },
    );
    c.start();
    await c.idle();
    const revision = desired.revision(NS);
    const compiled = desired.compiled(NS);
    assert.ok(revision > 0 && compiled);

    // Our own status patch comes back as a watch event: new resourceVersion and status, same generation.
    const patched = policy(1, '11', { observedGeneration: 1 });
    let specReads = 0;
    const spec = patched.valid;
    Object.defineProperty(patched, 'valid', { get: () => (specReads++, spec), enumerable: true });
    cache.policyList = [patched];
    cache.emit('config');
    await c.idle();
    assert.equal(specReads, 0, 'nothing compiled the unchanged spec again');
    assert.equal(desired.revision(NS), revision);
    assert.equal(desired.compiled(NS), compiled, 'the stored compilation was not rebuilt');
    const last = plans.at(-1);
    assert.equal(last?.policies[0]?.cached.ref.resourceVersion, '11');
    assert.deepEqual(last?.policies[0]?.cached.status, { observedGeneration: 1 });
    assert.equal(last?.policies[0]?.verdict.accepted, true);

    // A spec edit moves the generation: compiled again, a new revision.
    const edited = policy(2, '12');
    (edited.valid?.spec.routes[0] as { name: string }).name = 'renamed';
    cache.policyList = [edited];
    cache.emit('config');
    await c.idle();
    assert.ok(desired.revision(NS) > revision);
    assert.equal(desired.compiled(NS)?.policies[0]?.routes[0]?.name, 'renamed');
    await c.stop();
  });

  it('writes an edited object’s status at once, the rest once sidecar reports have gathered', async () => {
    const cache = new FakeCache();
    cache.providerList = [provider];
    cache.policyList = [policy(1, '10')];
    const plans: NamespacePlan[] = [];
    const { c } = controller(
      cache,
      (plan) => {
        plans.push(plan);
        return Promise.resolve();
      },
      // Reports (and status-only events) would wait this long: far beyond the polls below.
      { statusDelayMs: 60_000, statusMaxDelayMs: 60_000 },
    );
    c.start();
    try {
      await c.idle();
      cache.policyList = [policy(2, '11')];
      cache.emit('config');
      await poll('a pass for generation 2', () => plans.at(-1)?.policies[0]?.cached.ref.generation === 2);
      assert.equal(plans.at(-1)?.providers.length, 0, 'the prompt pass writes the edited object only');
    } finally {
      await c.stop();
    }
  });
});

/** Polls `check` every 5 ms for up to 5 s. */
async function poll(what: string, check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5000; !check(); await sleep(5))
    if (Date.now() > deadline) assert.fail(`${what}: not after 5 s`);
}

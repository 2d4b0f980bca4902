// StatusSync against a recording writer: what a RoutingPolicy's status says about its sidecars when some
// selected pods run none, and what a newly elected leader writes before its sidecars have reconnected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodIdentity, SidecarSyncState, SyncReporter } from '../contract.ts';
import { silentLogger } from '../kube/log.ts';
import { type CachedPolicy, type ObjectRef, projectPolicy, projectProvider } from '../kube/objects.ts';
import type { KubeWriter } from '../kube/writer.ts';
import { planNamespace } from './plan.ts';
import { expectedVersions } from './sidecar-counts.ts';
import { StatusSync } from './status-sync.ts';

const NS = 'team';
const LABELS = { app: 'bot' };

const meta = (name: string, uid: string, resourceVersion: string) => ({
  name,
  namespace: NS,
  uid,
  generation: 1,
  resourceVersion,
});
const provider = projectProvider({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'ModelProvider',
  metadata: meta('sim', 'mp', '1'),
  spec: { type: 'mock', models: [{ name: 'small' }] },
});
const policy = (status: unknown = {}): CachedPolicy =>
  projectPolicy({
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: meta('bot', 'rp', '2'),
    spec: {
      workloadSelector: { matchLabels: LABELS },
      routes: [{ name: 'main', targets: [{ provider: 'sim', model: 'small' }] }],
    },
    status,
  });
const pod = (name: string): PodIdentity => ({ namespace: NS, name, uid: `u-${name}`, labels: { ...LABELS } });
const planFor = (rp: CachedPolicy) => planNamespace(NS, [provider], [rp], [], () => undefined);

interface PolicyStatus {
  sidecars: { selected: number; synced: number; stale: number; rejected: number };
  conditions: { type: string; status: string; reason: string; message: string }[];
}

function recordingWriter() {
  const patches: PolicyStatus[] = [];
  let rv = 10;
  const writer = {
    patchStatus: (kind: string, _ref: ObjectRef, _rv: string, status: PolicyStatus) => {
      if (kind === 'RoutingPolicy') patches.push(status);
      return Promise.resolve({ metadata: { resourceVersion: String(++rv) }, status });
    },
    annotate: () => Promise.resolve(),
    event: () => Promise.resolve(),
  } as unknown as KubeWriter;
  return { writer, patches };
}

const reporter = (states: SidecarSyncState[]): SyncReporter => ({
  sidecars: () => states,
  onChange: () => () => {},
});
const programmed = (s: PolicyStatus | undefined) => s?.conditions.find((c) => c.type === 'Programmed');

describe('StatusSync', () => {
  it('counts only pods running the sidecar, and says how many selected pods run none', async () => {
    const { writer, patches } = recordingWriter();
    const rp = policy();
    const plan = planFor(rp);
    const version = expectedVersions(plan.compiled, NS)(LABELS);
    const status = new StatusSync({
      writer,
      sync: reporter([
        { namespace: NS, pod: 'new', labels: LABELS, connected: true, ackedVersion: version, lastSeen: '' },
      ]),
      pods: () => [pod('new')],
      podsWithoutSidecar: () => [pod('old-1'), pod('old-2'), { ...pod('other'), labels: { app: 'web' } }],
      isLeader: () => true,
      log: silentLogger,
    });
    await status.apply(plan);
    const written = patches.at(-1);
    assert.deepEqual(written?.sidecars, { selected: 1, synced: 1, stale: 0, rejected: 0 });
    assert.equal(programmed(written)?.status, 'True', 'pods without a sidecar never hold Programmed back');
    assert.match(programmed(written)?.message ?? '', /2 matching pod\(s\) run no sidecar/);
  });

  it('a new leader keeps the previous leader’s sync counts until sidecars had time to reconnect', async () => {
    let nowMs = Date.parse('2026-01-01T00:00:00Z');
    const now = () => new Date(nowMs);
    const pods = () => [pod('a'), pod('b')];
    const plan0 = planFor(policy());
    const version = expectedVersions(plan0.compiled, NS)(LABELS);
    const acked = (name: string): SidecarSyncState => ({
      namespace: NS,
      pod: name,
      labels: LABELS,
      connected: true,
      ackedVersion: version,
      lastSeen: '',
    });

    // The previous leader heard from both sidecars.
    const old = recordingWriter();
    await new StatusSync({
      writer: old.writer,
      sync: reporter([acked('a'), acked('b')]),
      pods,
      isLeader: () => true,
      log: silentLogger,
      now,
    }).apply(plan0);
    const stored = old.patches.at(-1);
    assert.equal(programmed(stored)?.status, 'True');

    // The new leader's push server has heard from none of them yet.
    const { writer, patches } = recordingWriter();
    const heard: SidecarSyncState[] = [];
    const status = new StatusSync({
      writer,
      sync: reporter(heard),
      pods,
      isLeader: () => true,
      log: silentLogger,
      now,
      reconnectGraceMs: 20_000,
    });
    assert.equal(status.leadershipStarted(), 20_000);
    const plan = planFor(policy(stored));
    await status.apply(plan);
    assert.equal(patches.length, 0, 'no downgrade to 0 synced while sidecars reconnect');

    // One sidecar reconnects: still nothing to lower.
    heard.push(acked('a'));
    nowMs += 10_000;
    await status.apply(plan);
    assert.equal(patches.length, 0);

    // The grace is over and b never reported: now status says so.
    nowMs += 10_001;
    await status.apply(plan);
    assert.deepEqual(patches.at(-1)?.sidecars, { selected: 2, synced: 1, stale: 1, rejected: 0 });
    assert.equal(programmed(patches.at(-1))?.reason, 'Pending');
  });

  it('still writes what the new leader does know during the grace: a refusal', async () => {
    const nowMs = Date.parse('2026-01-01T00:00:00Z');
    const plan0 = planFor(policy());
    const version = expectedVersions(plan0.compiled, NS)(LABELS);
    const state = (name: string, extra: Partial<SidecarSyncState>): SidecarSyncState => ({
      namespace: NS,
      pod: name,
      labels: LABELS,
      connected: true,
      lastSeen: '',
      ...extra,
    });
    const old = recordingWriter();
    const pods = () => [pod('a'), pod('b')];
    await new StatusSync({
      writer: old.writer,
      sync: reporter([state('a', { ackedVersion: version }), state('b', { ackedVersion: version })]),
      pods,
      isLeader: () => true,
      log: silentLogger,
    }).apply(plan0);
    const { writer, patches } = recordingWriter();
    const status = new StatusSync({
      writer,
      sync: reporter([state('b', { rejected: { version, message: 'schema 9 not supported' } })]),
      pods,
      isLeader: () => true,
      log: silentLogger,
      now: () => new Date(nowMs),
    });
    status.leadershipStarted();
    await status.apply(planFor(policy(old.patches.at(-1))));
    assert.equal(programmed(patches.at(-1))?.reason, 'Rejected');
  });
});

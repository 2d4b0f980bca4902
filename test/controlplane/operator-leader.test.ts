// Leader election between operator replicas sharing one Lease, against a real apiserver: one leader at
// a time, a successor when it stops or dies, revisions that keep increasing across the handover, and
// the last accepted version of a refused policy surviving into a new operator process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOperator, type Operator, type OperatorOptions } from '../../operator/index.ts';
import { jsonLogger, silentLogger } from '../../operator/kube/log.ts';
import type { ControlPlane } from '../helpers/control-plane.ts';
import {
  apply,
  createNamespace,
  eventually,
  getObject,
  mockProvider,
  ok,
  policy,
  startTurnoutControlPlane,
  waitForCondition,
} from './operator-harness.ts';

const ns = 'leading';
const FAST = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };

interface LeaseJson {
  metadata: { annotations?: Record<string, string> };
  spec: { holderIdentity?: string };
}

describe('operator leader election (real kube-apiserver)', () => {
  let cp: ControlPlane;
  const running: Operator[] = [];
  const start = async (identity: string, extra: Partial<OperatorOptions> = {}) => {
    const log = process.env['TURNOUT_TEST_LOGS'] ? jsonLogger(identity) : silentLogger;
    const op = await startOperator({
      kubeconfig: cp.kubeconfig,
      namespace: 'turnout-system',
      identity,
      log,
      ...extra,
    });
    running.push(op);
    return op;
  };
  const lease = async () =>
    JSON.parse(
      ok(await cp.kubectl(['-n', 'turnout-system', 'get', 'lease', 'turnout-operator', '-o', 'json'])),
    ) as LeaseJson;

  before(
    async () => {
      cp = await startTurnoutControlPlane();
      await createNamespace(cp, 'turnout-system');
      await createNamespace(cp, ns);
      await apply(cp, mockProvider(ns), policy(ns, 'shared', 'sim', 'sim-small'));
    },
    { timeout: 90 * 60_000 },
  );

  after(async () => {
    for (const op of running) await op.stop();
    await cp?.stop();
  });

  it('elects exactly one leader, and the other takes over within the lease duration when it stops', async () => {
    const a = await start('op-a');
    const b = await start('op-b');
    await eventually('a leader', () => a.isLeader() || b.isLeader());
    for (let i = 0; i < 5; i++) {
      assert.notEqual(a.isLeader(), b.isLeader(), 'exactly one leader');
      await sleep(400);
    }
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    // The follower computes the same desired state from its own informers, read-only.
    await eventually('both compiled', () => a.desiredState.compiled(ns) && b.desiredState.compiled(ns));
    assert.equal(follower.desiredState.compiled(ns)?.policies[0]?.name, 'shared');
    await waitForCondition(cp, ns, 'rp', 'shared', 'Accepted', 'True');
    const oldRevision = leader.desiredState.revision(ns);

    const stoppedAt = Date.now();
    await leader.stop();
    await eventually('the follower leads', () => follower.isLeader(), 15_000);
    assert.ok(Date.now() - stoppedAt < 15_000);
    assert.equal((await lease()).spec.holderIdentity, follower === a ? 'op-a' : 'op-b');

    await apply(cp, {
      ...policy(ns, 'shared', 'sim', 'sim-small'),
      spec: { ...policy(ns, 'shared', 'sim', 'sim-small').spec, defaultRoute: 'main' },
    });
    const rp = await waitForCondition(cp, ns, 'rp', 'shared', 'Accepted', 'True');
    await eventually(
      'the edit compiled on the new leader',
      () => follower.desiredState.compiled(ns)?.policies[0]?.generation === rp.metadata.generation,
    );
    assert.ok(follower.desiredState.revision(ns) > oldRevision, 'revisions keep increasing across leaders');
    await eventually(
      'the revision published on the Lease',
      async () => Number((await lease()).metadata.annotations?.['turnout.dev/revision']) >= oldRevision,
    );
    await follower.stop();
  });

  it('takes over from a leader that died without releasing the Lease, once it expires', async () => {
    const c = await start('op-c', { ...FAST, releaseLeaseOnStop: false });
    await eventually('op-c leads', () => c.isLeader());
    const d = await start('op-d', FAST);
    await sleep(1_000);
    assert.equal(d.isLeader(), false, 'no takeover while the Lease is renewed');
    const diedAt = Date.now();
    await c.stop();
    await eventually('op-d leads', () => d.isLeader(), 15_000);
    // It must have waited for the Lease to expire (minus one poll of slack), not grabbed it at once.
    assert.ok(Date.now() - diedAt >= FAST.leaseDurationMs - 2 * FAST.retryPeriodMs - 100);
    await d.stop();
  });

  it('keeps serving the last accepted version of a refused policy after an operator restart', async () => {
    const e = await start('op-e', FAST);
    await eventually('op-e leads', () => e.isLeader());
    await apply(cp, policy(ns, 'kept', 'sim', 'sim-small'));
    const good = await waitForCondition(cp, ns, 'rp', 'kept', 'Accepted', 'True');
    await eventually('last-accepted annotation', async () => {
      const text = (await getObject(cp, ns, 'rp', 'kept')).metadata.annotations?.[
        'turnout.dev/last-accepted'
      ];
      return (
        text !== undefined &&
        (JSON.parse(text) as { generation: number }).generation === good.metadata.generation
      );
    });
    await apply(cp, policy(ns, 'kept', 'missing', 'sim-small'));
    await waitForCondition(cp, ns, 'rp', 'kept', 'Accepted', 'False', 'InvalidReference');
    await e.stop();

    const f = await start('op-f', FAST);
    const kept = f.desiredState.compiled(ns)?.policies.find((p) => p.name === 'kept');
    assert.equal(kept?.generation, good.metadata.generation, 'served from the annotation');
    assert.equal(kept?.routes[0]?.targets[0]?.provider, 'sim');
    await eventually('op-f leads', () => f.isLeader());
    const rp = await waitForCondition(cp, ns, 'rp', 'kept', 'Accepted', 'False', 'InvalidReference');
    assert.match(
      rp.status?.conditions?.[0]?.message ?? '',
      new RegExp(`generation ${good.metadata.generation}`),
    );
    await f.stop();
  });
});

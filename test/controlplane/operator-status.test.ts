// The operator against a real apiserver: what `kubectl get` shows for RoutingPolicies and
// ModelProviders as they are applied, broken, fixed, and picked up by (fake) sidecars.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { startOperator, type Operator } from '../../operator/index.ts';
import { jsonLogger, silentLogger } from '../../operator/kube/log.ts';
import { snapshotFor } from '../../operator/compile/index.ts';
import type { ControlPlane } from '../helpers/control-plane.ts';
import {
  apply,
  condition,
  createNamespace,
  eventually,
  FakeSyncReporter,
  getObject,
  mockProvider,
  ok,
  policy,
  startTurnoutControlPlane,
  waitForCondition,
} from './operator-harness.ts';

const SECRET_VALUE = 'sk-test-never-shown-1234';
const log = process.env['TURNOUT_TEST_LOGS'] ? jsonLogger('operator') : silentLogger;

const openai = (ns: string) => ({
  apiVersion: 'turnout.dev/v1alpha1',
  kind: 'ModelProvider',
  metadata: { name: 'openai', namespace: ns },
  spec: {
    type: 'openai',
    endpoint: 'https://api.openai.com/v1',
    auth: { secretRef: { name: 'openai-credentials', key: 'apiKey' } },
    models: [{ name: 'gpt-4o-mini', pricing: { input: 0.15, output: 0.6 } }],
  },
});
const credentials = (ns: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'openai-credentials', namespace: ns },
  stringData: { apiKey: SECRET_VALUE },
});

describe('operator status (real kube-apiserver)', () => {
  let cp: ControlPlane;
  let operator: Operator;
  const sync = new FakeSyncReporter();

  before(
    async () => {
      cp = await startTurnoutControlPlane(true);
      await createNamespace(cp, 'turnout-system');
      operator = await startOperator({
        kubeconfig: cp.kubeconfig,
        namespace: 'turnout-system',
        syncReporter: sync,
        metricsPort: 0,
        log,
      });
      await eventually('leader', () => operator.isLeader());
    },
    { timeout: 90 * 60_000 },
  );

  after(async () => {
    await operator?.stop();
    await cp?.stop();
  });

  it('accepts a valid policy and resolves provider credentials', async () => {
    await createNamespace(cp, 'team-a');
    await apply(
      cp,
      credentials('team-a'),
      openai('team-a'),
      policy('team-a', 'support-bot', 'openai', 'gpt-4o-mini'),
    );
    const rp = await waitForCondition(cp, 'team-a', 'rp', 'support-bot', 'Accepted', 'True', 'Accepted');
    assert.equal(rp.status?.observedGeneration, rp.metadata.generation);
    assert.match(rp.status?.snapshotVersion ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(condition(rp, 'Programmed')?.reason, 'NoSidecars');
    assert.deepEqual(rp.status?.sidecars, { selected: 0, synced: 0, stale: 0, rejected: 0 });
    await waitForCondition(cp, 'team-a', 'mp', 'openai', 'Ready', 'True', 'CredentialsResolved');

    const header = ok(await cp.kubectl(['-n', 'team-a', 'get', 'rp'])).split('\n')[0] ?? '';
    for (const column of ['NAME', 'STRATEGY', 'SYNCED', 'SELECTED', 'PROGRAMMED', 'AGE']) {
      assert.match(header, new RegExp(`\\b${column}\\b`), header);
    }
    assert.match(ok(await cp.kubectl(['-n', 'team-a', 'get', 'mp'])).split('\n')[0] ?? '', /\bREADY\b/);
    const compiled = operator.desiredState.compiled('team-a');
    assert.equal(compiled?.policies[0]?.name, 'support-bot');
    assert.ok(operator.desiredState.revision('team-a') > 0);
  });

  it('refuses an edit naming an unknown provider but keeps serving the last accepted version', async () => {
    const before = await getObject(cp, 'team-a', 'rp', 'support-bot');
    const revisionBefore = operator.desiredState.revision('team-a');
    await apply(cp, policy('team-a', 'support-bot', 'no-such-provider', 'gpt-4o-mini'));
    const rp = await waitForCondition(
      cp,
      'team-a',
      'rp',
      'support-bot',
      'Accepted',
      'False',
      'InvalidReference',
    );
    assert.equal(rp.metadata.generation, (before.metadata.generation ?? 0) + 1);
    assert.match(condition(rp, 'Accepted')?.message ?? '', /spec\.routes\[0\]\.targets\[0\]\.provider/);
    assert.equal(condition(rp, 'Programmed')?.status, 'False');

    const events = await eventually('a Warning event for support-bot', async () => {
      const out = ok(
        await cp.kubectl([
          '-n',
          'team-a',
          'get',
          'events',
          '-o',
          'json',
          '--field-selector',
          'involvedObject.name=support-bot,type=Warning',
        ]),
      );
      const items = (JSON.parse(out) as { items: { reason: string; message: string }[] }).items;
      return items.length > 0 ? items : undefined;
    });
    assert.equal(events[0]?.reason, 'Rejected');
    assert.match(events[0]?.message ?? '', /targets\[0\]\.provider/);

    // Sidecars keep the previous generation: the compiled state still routes to openai.
    const served = operator.desiredState.compiled('team-a')?.policies.find((p) => p.name === 'support-bot');
    assert.equal(served?.generation, before.metadata.generation);
    assert.equal(served?.routes[0]?.targets[0]?.provider, 'openai');
    assert.equal(operator.desiredState.revision('team-a'), revisionBefore, 'nothing new to push');

    await apply(cp, policy('team-a', 'support-bot', 'openai', 'gpt-4o-mini'));
    const fixed = await waitForCondition(cp, 'team-a', 'rp', 'support-bot', 'Accepted', 'True');
    assert.equal(fixed.metadata.generation, (before.metadata.generation ?? 0) + 2);
    await eventually(
      'the fixed generation compiled',
      () => operator.desiredState.compiled('team-a')?.policies[0]?.generation === fixed.metadata.generation,
    );
  });

  it('refuses a policy that contradicts itself with InvalidSpec and the field path', async () => {
    const base = policy('team-a', 'self-contradicting', 'openai', 'gpt-4o-mini');
    const route = { ...base.spec.routes[0], retry: { backoff: { base: '10s', max: '1s' } } };
    await apply(cp, { ...base, spec: { routes: [route] } });
    const rp = await waitForCondition(
      cp,
      'team-a',
      'rp',
      'self-contradicting',
      'Accepted',
      'False',
      'InvalidSpec',
    );
    assert.match(
      condition(rp, 'Accepted')?.message ?? '',
      /spec\.routes\[0\]\.retry\.backoff: base is above max/,
    );
    assert.equal(
      operator.desiredState.compiled('team-a')?.policies.some((p) => p.name === 'self-contradicting'),
      false,
    );
  });

  it('serves Prometheus metrics on a private registry', async () => {
    const text = await operator.metrics.registry.metrics();
    assert.match(text, /turnout_operator_reconciles_total\{result="success"\} [1-9]/);
    assert.match(text, /turnout_operator_snapshot_revision\{namespace="team-a"\} \d+/);
    assert.match(text, /turnout_operator_leader 1/);
    const res = await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /turnout_operator_watch_restarts_total/);
  });

  it('reports a missing Secret on the provider, and recovers when it appears', async () => {
    await createNamespace(cp, 'team-b');
    await apply(cp, openai('team-b'));
    const mp = await waitForCondition(cp, 'team-b', 'mp', 'openai', 'Ready', 'False', 'SecretNotFound');
    assert.match(condition(mp, 'Ready')?.message ?? '', /openai-credentials/);
    await apply(cp, credentials('team-b'));
    await waitForCondition(cp, 'team-b', 'mp', 'openai', 'Ready', 'True', 'CredentialsResolved');
  });

  it('never writes a secret value into status or events', async () => {
    const out = [
      ok(await cp.kubectl(['get', 'rp,mp', '-A', '-o', 'json'])),
      ok(await cp.kubectl(['get', 'events', '-A', '-o', 'json'])),
    ].join('\n');
    assert.ok(!out.includes(SECRET_VALUE));
  });

  it('counts selected, synced and rejected sidecars from the sync reporter', async () => {
    const ns = 'prog';
    await createNamespace(cp, ns);
    await apply(cp, mockProvider(ns), policy(ns, 'bot', 'sim', 'sim-small', { app: 'bot' }));
    await eventually(
      'default ServiceAccount',
      async () => (await cp.kubectl(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    );
    // No webhook runs here: pods that opted in carry the sidecar as the webhook would have added it.
    const sidecar = { name: 'turnout-proxy', image: 'turnout', restartPolicy: 'Always' };
    const pod = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: 'app', image: 'busybox' }],
        ...(labels['turnout.dev/inject'] === 'true' && { initContainers: [sidecar] }),
      },
    });
    await apply(
      cp,
      pod('bot-1', { app: 'bot', 'turnout.dev/inject': 'true' }),
      pod('bot-2', { app: 'bot', 'turnout.dev/inject': 'true' }),
      pod('other', { app: 'other', 'turnout.dev/inject': 'true' }),
      pod('plain', { app: 'bot' }),
      pod('opted-out', { app: 'bot', 'turnout.dev/inject': 'false' }),
    );
    const sidecars = async (want: object) =>
      eventually(`sidecars ${JSON.stringify(want)}`, async () => {
        const rp = await getObject(cp, ns, 'rp', 'bot');
        if (!isDeepStrictEqual(rp.status?.sidecars, want)) {
          throw new Error(`status.sidecars is ${JSON.stringify(rp.status?.sidecars)}`);
        }
        return rp;
      });
    let rp = await sidecars({ selected: 2, synced: 0, stale: 2, rejected: 0 });
    assert.equal(condition(rp, 'Programmed')?.reason, 'Pending');
    assert.ok(operator.desiredState.pod(ns, 'bot-1'));
    assert.equal(operator.desiredState.pod(ns, 'plain'), undefined);

    const labels = { app: 'bot', 'turnout.dev/inject': 'true' };
    const version = snapshotFor(operator.desiredState.compiled(ns), ns, labels).version;
    sync.report({ namespace: ns, pod: 'bot-1', labels, ackedVersion: version });
    sync.report({ namespace: ns, pod: 'bot-2', labels, ackedVersion: version });
    rp = await sidecars({ selected: 2, synced: 2, stale: 0, rejected: 0 });
    assert.equal(condition(rp, 'Programmed')?.status, 'True');
    assert.equal(condition(rp, 'Programmed')?.reason, 'Programmed');

    sync.report({
      namespace: ns,
      pod: 'bot-2',
      labels,
      ackedVersion: 'sha256:older',
      rejected: { version, message: 'schema 2 not supported' },
    });
    rp = await sidecars({ selected: 2, synced: 1, stale: 0, rejected: 1 });
    assert.equal(condition(rp, 'Programmed')?.reason, 'Rejected');
    assert.match(condition(rp, 'Programmed')?.message ?? '', /bot-2: schema 2 not supported/);

    // Labelling the namespace opts in its unlabelled pods, but not one that opted out. One created
    // before that runs no sidecar until restarted: status says so instead of waiting for it forever.
    ok(await cp.kubectl(['label', 'namespace', ns, 'turnout.dev/inject=true']));
    rp = await eventually('the pod without a sidecar reported', async () => {
      const current = await getObject(cp, ns, 'rp', 'bot');
      return /1 matching pod\(s\) run no sidecar/.test(condition(current, 'Programmed')?.message ?? '')
        ? current
        : undefined;
    });
    assert.deepEqual(rp.status?.sidecars, { selected: 2, synced: 1, stale: 0, rejected: 1 });
    assert.ok(operator.desiredState.pod(ns, 'plain'));
    assert.equal(operator.desiredState.pod(ns, 'opted-out'), undefined);

    // Once the rejected sidecar acks, Programmed is True although 'plain' never will sync.
    sync.report({ namespace: ns, pod: 'bot-2', labels, ackedVersion: version });
    rp = await sidecars({ selected: 2, synced: 2, stale: 0, rejected: 0 });
    assert.equal(condition(rp, 'Programmed')?.status, 'True');
  });
});

// Watch resilience against a real apiserver: the operator talks to it through a TCP proxy the test
// can cut, so its watches break the way they do when an apiserver restarts or a connection drops.
// Changes made while it was cut off must show up after it reconnects (a full relist, deletions included).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOperator, type Operator } from '../../operator/index.ts';
import { jsonLogger, silentLogger } from '../../operator/kube/log.ts';
import type { ControlPlane } from '../helpers/control-plane.ts';
import {
  apply,
  createNamespace,
  eventually,
  mockProvider,
  ok,
  policy,
  startTurnoutControlPlane,
  waitForCondition,
} from './operator-harness.ts';

const log = process.env['TURNOUT_TEST_LOGS'] ? jsonLogger('operator') : silentLogger;

/** Forwards TCP to the apiserver until cut; while cut, it drops every connection, old and new. */
class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #up = true;

  constructor(target: URL) {
    this.#server = createServer((client) => {
      if (!this.#up) return client.destroy();
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  cut(): void {
    this.#up = false;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const policyNames = (operator: Operator, ns: string) =>
  (operator.desiredState.compiled(ns)?.policies ?? []).map((p) => p.name).sort();

describe('operator watch resilience (real kube-apiserver)', () => {
  let cp: ControlPlane;
  let proxy: CuttableProxy;
  let operator: Operator;
  const ns = 'resilience';

  before(
    async () => {
      cp = await startTurnoutControlPlane();
      await createNamespace(cp, 'turnout-system');
      await createNamespace(cp, ns);
      proxy = new CuttableProxy(new URL(cp.server));
      const port = await proxy.listen();
      const kubeconfig = join(cp.dir, 'proxied.kubeconfig');
      const text = await readFile(cp.kubeconfig, 'utf8');
      await writeFile(kubeconfig, text.replace(cp.server, `https://127.0.0.1:${port}`), { mode: 0o600 });
      operator = await startOperator({ kubeconfig, namespace: 'turnout-system', log });
      await eventually('leader', () => operator.isLeader());
    },
    { timeout: 90 * 60_000 },
  );

  after(async () => {
    await operator?.stop();
    await proxy?.close();
    await cp?.stop();
  });

  it('relists after its connections drop and sees what changed meanwhile, deletions included', async () => {
    await apply(cp, mockProvider(ns), policy(ns, 'before-outage', 'sim', 'sim-small'));
    await waitForCondition(cp, ns, 'rp', 'before-outage', 'Accepted', 'True');
    await eventually('before-outage compiled', () => policyNames(operator, ns).includes('before-outage'));
    const restarts = await operator.metrics.value('turnout_operator_watch_restarts_total');

    proxy.cut();
    await sleep(500);
    ok(await cp.kubectl(['-n', ns, 'delete', 'rp', 'before-outage']));
    await apply(cp, policy(ns, 'during-outage', 'sim', 'sim-small'));
    await sleep(1_500);
    proxy.restore();

    await eventually('compiled state after reconnecting', () => {
      const names = policyNames(operator, ns);
      return names.length === 1 && names[0] === 'during-outage';
    });
    await waitForCondition(cp, ns, 'rp', 'during-outage', 'Accepted', 'True');
    assert.ok((await operator.metrics.value('turnout_operator_watch_restarts_total')) > restarts);
    assert.ok(operator.hasSynced());
  });

  it('restarts a watch that failed and keeps seeing later changes', async () => {
    const before = await operator.metrics.value('turnout_operator_watch_restarts_total', {
      reason: 'injected',
    });
    operator.injectWatchError('routingpolicies');
    operator.injectWatchError('modelproviders');
    await eventually(
      'restart counted',
      async () =>
        (await operator.metrics.value('turnout_operator_watch_restarts_total', { reason: 'injected' })) >=
        before + 2,
    );
    await apply(cp, policy(ns, 'after-restart', 'sim', 'sim-small'));
    await waitForCondition(cp, ns, 'rp', 'after-restart', 'Accepted', 'True');
    assert.deepEqual(policyNames(operator, ns), ['after-restart', 'during-outage']);
  });
});

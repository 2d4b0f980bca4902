// Fleet budgets end to end in one process: the real push server and FleetBudgets, real sync clients, one
// BudgetLedger per simulated sidecar, and randomized concurrent calls (reserve, a random delay, settle at
// most the reservation). However hot one sidecar runs and however the others lag, the fleet's settled
// spend never passes the limit: the bound of operator/budgets/README.md with no overruns.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { FleetBudgets } from '../../operator/budgets/index.ts';
import type { PodIdentity } from '../../operator/contract.ts';
import { startPushServer, type RunningPushServer } from '../../operator/push/index.ts';
import {
  FakeDesiredState,
  FakeReviewer,
  makeTestTls,
  type TestTls,
} from '../../operator/push/testing/index.ts';
import { BudgetLedger, type BudgetSpec } from '../limits/budget-ledger.ts';
import { SnapshotStore } from '../snapshot/store.ts';
import { startSyncClient, type SyncClient } from './index.ts';

const NS = 'soak';
const LIMIT = 2;
const yaml = `
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: sim, namespace: ${NS} }
spec: { type: mock, models: [{ name: m1, pricing: { input: 1, output: 1 } }] }
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: ${NS} }
spec:
  routes: [{ name: main, match: { model: [chat] }, targets: [{ provider: sim, model: m1 }] }]
  budgets:
    - { name: daily, limitUSD: ${LIMIT}, window: day, scope: policy, action: reject }
    - { name: tenant, limitUSD: ${LIMIT}, window: day, scope: "header:x-tenant", action: reject }
`;

let tls: TestTls;
let dir: string;
let server: RunningPushServer;
let fleet: FleetBudgets;
const clients: SyncClient[] = [];

before(async () => {
  tls = await makeTestTls();
  dir = await mkdtemp(join(tmpdir(), 'turnout-fleet-soak-'));
});
after(async () => {
  for (const c of clients) await c.close();
  await server?.close();
  fleet?.close();
  await tls.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('fleet budgets under randomized concurrent load (real push server and sync clients)', () => {
  it('five sidecars, one of them hot, never spend past the limit together', { timeout: 60_000 }, async () => {
    const desired = new FakeDesiredState();
    const reviewer = new FakeReviewer();
    fleet = new FleetBudgets({ statusIntervalMs: 200 });
    desired.apply(yaml);
    const pods: PodIdentity[] = [];
    for (let i = 0; i < 5; i++) pods.push(desired.addPod(NS, `p${i}`));
    fleet.observe(NS, desired.compiled(NS), pods);
    fleet.seed(NS, 'app', {});
    server = await startPushServer({
      desired,
      tokenReviewer: reviewer.review,
      tls: { cert: tls.cert, key: tls.key },
      port: 0,
      spend: fleet,
    });
    const ledgers = pods.map(() => new BudgetLedger());
    for (const [i, pod] of pods.entries()) {
      const tokenFile = join(dir, `${pod.name}.token`);
      await writeFile(tokenFile, reviewer.tokenFor(pod));
      clients.push(
        await startSyncClient({
          operatorUrl: server.url,
          caFile: tls.caFile,
          tokenFile,
          namespace: NS,
          pod: pod.name,
          store: new SnapshotStore(),
          ledger: ledgers[i],
          spendIntervalMs: 30,
        }),
      );
    }
    await sleep(300);
    const specs: BudgetSpec[] = [
      { budgetKey: `${NS}/app/daily|policy`, limitUSD: LIMIT, window: 'day' },
      { budgetKey: `${NS}/app/tenant|header:x-tenant=acme`, limitUSD: LIMIT, window: 'day' },
    ];
    let admitted = 0;
    let refused = 0;
    const deadline = Date.now() + 4000;
    // Concurrent "calls": reserve every budget like admission does, run, settle at most the estimate.
    const worker = async (ledger: BudgetLedger) => {
      while (Date.now() < deadline) {
        const estimate = 0.005 + Math.random() * 0.04;
        const held = [];
        for (const spec of specs) {
          const d = ledger.reserve(spec, estimate);
          if (!d.ok) break;
          held.push(d.reservation);
        }
        if (held.length < specs.length) {
          for (const r of held) r.release();
          refused++;
          await sleep(5 + Math.random() * 20);
          continue;
        }
        admitted++;
        await sleep(Math.random() * 40);
        const actual = estimate * (0.3 + Math.random() * 0.7);
        // Now and then a call fails unbilled.
        const billed = Math.random() >= 0.05;
        for (const r of held) {
          if (billed) r.settle(actual);
          else r.release();
        }
      }
    };
    // p0 is hot (8 workers), the others trickle (1 each).
    await Promise.all(ledgers.flatMap((l, i) => Array.from({ length: i === 0 ? 8 : 1 }, () => worker(l))));
    const spent = (spec: BudgetSpec) => ledgers.reduce((n, l) => n + l.usage(spec).usedUSD, 0);
    for (const spec of specs)
      assert.ok(spent(spec) <= LIMIT + 1e-9, `${spec.budgetKey}: fleet spent $${spent(spec)} of $${LIMIT}`);
    assert.ok(admitted > 20 && refused > 0, `the budget was used and then enforced (${admitted}/${refused})`);
    // Utilization: all but the documented tail (a few worst-case calls) was spent.
    assert.ok(spent(specs[0] as BudgetSpec) > LIMIT / 2, `only $${spent(specs[0] as BudgetSpec)} used`);
  });
});

// Fleet budgets on the push channel: POST /v1/spend with the same pod-bound authentication as ACKs, and
// `spend` events on the snapshot stream (before the snapshot on connect, again when the fleet spends).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { FleetBudgets } from '../budgets/index.ts';
import type { PodIdentity } from '../contract.ts';
import { startPushServer, type RunningPushServer } from './index.ts';
import { SPEND_PATH, type SpendEvent } from './spend-protocol.ts';
import {
  authHeaders,
  eventually,
  FakeDesiredState,
  FakeReviewer,
  makeTestTls,
  openStream,
  type RawStream,
  type TestTls,
} from './testing/index.ts';

const NS = 'shop';
const YAML = `
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
  budgets: [{ name: daily, limitUSD: 6, window: day, scope: policy, action: reject }]
`;

let tls: TestTls;
let desired: FakeDesiredState;
let reviewer: FakeReviewer;
let fleet: FleetBudgets;
let server: RunningPushServer;
let serving = true;
const streams: RawStream[] = [];

before(async () => {
  tls = await makeTestTls();
});
after(async () => {
  await tls.remove();
});

async function start(withFleet = true): Promise<PodIdentity[]> {
  desired = new FakeDesiredState();
  reviewer = new FakeReviewer();
  fleet = new FleetBudgets();
  serving = true;
  desired.apply(YAML);
  const pods = [desired.addPod(NS, 'p1'), desired.addPod(NS, 'p2')];
  fleet.observe(NS, desired.compiled(NS), pods);
  fleet.seed(NS, 'app', {});
  server = await startPushServer({
    desired,
    tokenReviewer: reviewer.review,
    tls: { cert: tls.cert, key: tls.key },
    port: 0,
    acceptStreams: () => serving,
    ...(withFleet && { spend: fleet }),
  });
  return pods;
}

afterEach(async () => {
  for (const s of streams.splice(0)) await s.close();
  await server.close();
  fleet.close();
});

async function post(headers: Record<string, string>, body: unknown) {
  const agent = new Agent({ connect: { ca: await readFile(tls.caFile, 'utf8') } });
  try {
    const res = await request(new URL(SPEND_PATH, server.url), {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  } finally {
    await agent.destroy();
  }
}

const today = () => new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString();
const report = (usedUSD: number, instance = 'instance-p1') => ({
  instance,
  records: [{ budgetKey: `${NS}/app/daily|policy`, window: 'day', windowStart: today(), usedUSD }],
});
const spendEvents = (s: RawStream) =>
  s.events.filter((e) => e.event === 'spend').map((e) => JSON.parse(e.data) as SpendEvent);

describe('push server: fleet spend', () => {
  it('takes a pod’s report with its own token, and answers with the operator’s epoch', async () => {
    const [p1] = (await start()) as [PodIdentity];
    const res = await post(authHeaders(reviewer.tokenFor(p1), p1), report(1.25));
    assert.deepEqual(res, { status: 200, json: { recorded: 1, ignored: 0, epoch: fleet.epoch } });
    assert.equal(fleet.statusSpend(NS, 'app')?.entries[0]?.usedUSD, '1.25');
  });

  it('refuses what ACKs refuse, bad reports, and reports to a replica that does not serve', async () => {
    const [p1, p2] = (await start()) as [PodIdentity, PodIdentity];
    assert.equal((await post({ 'x-turnout-pod': `${NS}/p1` }, report(1))).status, 401);
    assert.equal((await post(authHeaders(reviewer.tokenFor(p2), p1), report(1))).status, 403);
    const auth = authHeaders(reviewer.tokenFor(p1), p1);
    const bad = await post(auth, { instance: 'x', records: [] });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /instance/);
    assert.equal((await post(auth, '{')).status, 400);
    assert.equal((await post(auth, { ...report(1), extra: 1 })).status, 400);
    assert.equal((await post(auth, 'x'.repeat(1024 * 1024 + 1))).status, 413);
    serving = false;
    assert.equal((await post(auth, report(1))).status, 503);
  });

  it('answers 404 when fleet budgets are off', async () => {
    const [p1] = (await start(false)) as [PodIdentity];
    assert.equal((await post(authHeaders(reviewer.tokenFor(p1), p1), report(1))).status, 404);
  });

  it('sends leases before the snapshot on connect, and the fleet’s spend when another pod reports', async () => {
    const [p1, p2] = (await start()) as [PodIdentity, PodIdentity];
    const s = await openStream(server.url, tls.caFile, {
      ...authHeaders(reviewer.tokenFor(p1), p1),
      'x-turnout-instance': 'instance-p1',
    });
    streams.push(s);
    await s.waitFor((events) => events.some((e) => e.event === 'snapshot'));
    assert.deepEqual(
      s.events.slice(0, 3).map((e) => e.event),
      ['ping', 'spend', 'snapshot'],
    );
    // p2 never connected: half of the $6 stays reserved for it.
    assert.equal(spendEvents(s)[0]?.defaults[0]?.leaseUSD, 3);
    assert.equal((await post(authHeaders(reviewer.tokenFor(p2), p2), report(2, 'instance-p2'))).status, 200);
    await eventually('a spend event with p2’s spend', () =>
      spendEvents(s).some((e) => e.records[0]?.usedUSD === 2),
    );
    const last = spendEvents(s).at(-1);
    assert.deepEqual([last?.records[0]?.ownUSD, last?.records[0]?.leaseUSD], [0, 2], '(6 − 2) / 2');
  });

  it('a stream without an instance id gets no spend events (a sidecar that does not enforce leases)', async () => {
    const [p1] = (await start()) as [PodIdentity];
    const s = await openStream(server.url, tls.caFile, authHeaders(reviewer.tokenFor(p1), p1));
    streams.push(s);
    await s.waitFor((events) => events.some((e) => e.event === 'snapshot'));
    assert.equal(spendEvents(s).length, 0);
    const refused = await openStream(server.url, tls.caFile, {
      ...authHeaders(reviewer.tokenFor(p1), p1),
      'x-turnout-instance': 'bad id!',
    });
    assert.equal(refused.status, 400);
  });
});

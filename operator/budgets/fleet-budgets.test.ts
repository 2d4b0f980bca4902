// The coordinator without a network: reports in, status entries and `spend` events out, seeds, leases,
// window rollover and pod departure, against policies compiled by the real compiler.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { CompiledNamespace } from '../compile/index.ts';
import type { PodIdentity } from '../contract.ts';
import type { SpendEvent } from '../push/spend-protocol.ts';
import { FakeDesiredState } from '../push/testing/index.ts';
import { FleetBudgets } from './fleet-budgets.ts';

const NS = 'team';
/** Shaped like no common key (as Azure's are): only the exact-key rule can redact it. */
const API_KEY = '0f3c9a77d2e14b6b8e5a1c2d3e4f5a6b';
const yaml = (limit: number) => `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: ${NS} }
stringData: { main: ${API_KEY} }
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: sim, namespace: ${NS} }
spec:
  type: mock
  auth: { secretRef: { name: keys, key: main } }
  models: [{ name: m1, pricing: { input: 1, output: 1 } }]
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: bot, namespace: ${NS} }
spec:
  workloadSelector: { matchLabels: { app: bot } }
  routes: [{ name: main, match: { model: [chat] }, targets: [{ provider: sim, model: m1 }] }]
  budgets:
    - { name: daily, limitUSD: ${limit}, window: day, scope: policy, action: reject }
    - { name: tenant, limitUSD: 1, window: day, scope: "header:x-tenant", action: reject }
`;

const DAY = 86_400_000;
const noon = Date.UTC(2026, 10, 22, 12);
const dayStart = '2026-11-22T00:00:00.000Z';
const DAILY = `${NS}/bot/daily|policy`;

let clock = noon;
let fleet: FleetBudgets;
afterEach(() => fleet.close());

function setup(limit = 9) {
  clock = noon;
  fleet = new FleetBudgets({ now: () => clock, statusIntervalMs: 60_000 });
  const desired = new FakeDesiredState();
  desired.apply(yaml(limit));
  const compiled = desired.compiled(NS) as CompiledNamespace;
  const pods = ['a', 'b', 'c'].map((n): PodIdentity => ({
    namespace: NS,
    name: n,
    uid: `uid-${n}`,
    labels: { app: 'bot' },
  }));
  const open = new Map<string, string>();
  fleet.attach({
    streams: () => pods.filter((p) => open.has(p.name)).map((p) => ({ pod: p, instance: open.get(p.name) })),
    push: () => undefined,
  });
  fleet.observe(NS, compiled, pods);
  const connect = (i: number) => {
    const pod = pods[i] as PodIdentity;
    open.set(pod.name, `inst-${pod.name}`);
    return event(i, true);
  };
  const disconnect = (i: number) => open.delete((pods[i] as PodIdentity).name);
  const seqs = new Map<number, number>();
  /** The event pod i would be sent now (always sent: as to a new stream). */
  const event = (i: number, opening = true): SpendEvent => {
    const pod = pods[i] as PodIdentity;
    const e = JSON.parse(fleet.eventFor(pod, open.get(pod.name), opening) ?? 'null') as SpendEvent;
    seqs.set(i, e.seq);
    return e;
  };
  /** Pod i reports that it applied the last event it was sent. */
  const ack = (i: number) => {
    const pod = pods[i] as PodIdentity;
    const instance = open.get(pod.name) ?? '';
    assert.ok(fleet.report(pod, { instance, leaseSeq: seqs.get(i) ?? 0, records: [] }));
  };
  const report = (
    i: number,
    usedUSD: number,
    extra: { carriedUSD?: number; budgetKey?: string; window?: 'hour' | 'day' } = {},
  ) => {
    const pod = pods[i] as PodIdentity;
    const { budgetKey = DAILY, window = 'day', ...rest } = extra;
    const answer = fleet.report(pod, {
      instance: open.get(pod.name) ?? `inst-${pod.name}`,
      records: [{ budgetKey, window, windowStart: dayStart, usedUSD, ...rest }],
    });
    assert.ok(answer, 'the namespace was observed: reports are judged');
    return answer;
  };
  return {
    pods,
    compiled,
    connect,
    disconnect,
    event,
    ack,
    report,
    observe: (ps: PodIdentity[]) => fleet.observe(NS, compiled, ps),
  };
}

const spendOf = () => fleet.statusSpend(NS, 'bot')?.entries;
const record = (e: SpendEvent, key = DAILY) => e.records.find((r) => r.budgetKey === key);

describe('FleetBudgets', () => {
  it('sums reports per budget for status; repeated reports are idempotent; status waits for the seed', () => {
    const t = setup();
    t.report(0, 1.5);
    t.report(1, 2);
    t.report(0, 1.5);
    assert.equal(fleet.statusSpend(NS, 'bot'), undefined, 'not seeded this term: leave status alone');
    fleet.seed(NS, 'bot', {});
    assert.deepEqual(spendOf(), [{ budget: 'daily', windowStart: '2026-11-22T00:00:00Z', usedUSD: '3.50' }]);
  });

  it('asks for a retry until a status pass has shown it the namespace’s policies', () => {
    setup();
    const pod = { namespace: 'elsewhere', name: 'x', uid: 'u', labels: {} };
    const report = { instance: 'inst-xxxx', records: [] };
    assert.equal(fleet.report(pod, report), undefined);
    fleet.observe('elsewhere', undefined, [pod]);
    assert.deepEqual(fleet.report(pod, report), { recorded: 0, ignored: 0, epoch: fleet.epoch });
  });

  it('ignores records a pod may not make: other budgets, windows, namespaces, unselected policies', () => {
    const t = setup();
    const answer = (key: string, window: 'hour' | 'day' = 'day') =>
      t.report(0, 1, { budgetKey: key, window });
    assert.equal(answer('other/bot/daily|policy').ignored, 1);
    assert.equal(answer(`${NS}/bot/nope|policy`).ignored, 1);
    assert.equal(answer(DAILY, 'hour').ignored, 1);
    assert.equal(answer(`${NS}/bot/daily|header:x=1`).ignored, 1);
    const stranger = { namespace: NS, name: 'x', uid: 'u', labels: { app: 'web' } };
    const r = fleet.report(stranger, {
      instance: 'inst-xxxx',
      records: [{ budgetKey: DAILY, window: 'day', windowStart: dayStart, usedUSD: 5 }],
    });
    assert.deepEqual([r?.recorded, r?.ignored], [0, 1]);
    assert.equal(answer(DAILY).recorded, 1);
  });

  it('seeds from status once per term; live sidecars’ carried spend is not counted twice', () => {
    const t = setup();
    fleet.seed(NS, 'bot', {
      spend: [{ budget: 'daily', windowStart: '2026-11-22T00:00:00Z', usedUSD: '4.00' }],
    });
    fleet.seed(NS, 'bot', {
      spend: [{ budget: 'daily', windowStart: '2026-11-22T00:00:00Z', usedUSD: '99' }],
    });
    assert.equal(spendOf()?.[0]?.usedUSD, '4.00');
    t.report(0, 2.5, { carriedUSD: 2 }); // 2 of it was in the seed, 0.5 is new
    assert.equal(spendOf()?.[0]?.usedUSD, '4.50');
    const epoch = fleet.epoch;
    fleet.reset();
    assert.notEqual(fleet.epoch, epoch);
    assert.equal(fleet.statusSpend(NS, 'bot'), undefined, 'a new term starts over from status');
  });

  it('status entries: policy scope first, header scopes by their value, biggest spenders first', () => {
    const t = setup();
    fleet.seed(NS, 'bot', {});
    for (const [tenant, usd] of [
      ['acme', 0.2],
      ['zeta', 0.7],
    ] as const)
      t.report(0, usd, { budgetKey: `${NS}/bot/tenant|header:x-tenant=${tenant}` });
    t.report(1, 1);
    assert.deepEqual(
      spendOf()?.map((e) => [e.budget, e.scopeKey, e.usedUSD]),
      [
        ['daily', undefined, '1.00'],
        ['tenant', 'zeta', '0.70'],
        ['tenant', 'acme', '0.20'],
      ],
    );
  });

  it('status shows header scopes as /metrics does; totals stay per raw scope and survive a new term', () => {
    const t = setup();
    fleet.seed(NS, 'bot', {});
    const tenantKey = (value: string) => `${NS}/bot/tenant|header:x-tenant=${value}`;
    // Two secret-shaped values redact to the same text; a long one is cut; one is the provider's key.
    const [first, long] = ['Bearer sk-proj-FIRSTCALLERSECRET0123456789', 'T'.repeat(300)];
    const spent: [value: string, usd: number][] = [
      [first, 0.3],
      ['Bearer sk-proj-OTHERCALLERSECRET987654321', 0.2],
      [long, 0.1],
      [API_KEY, 0.04],
      ['acme', 0.05],
    ];
    for (const [value, usd] of spent) t.report(0, usd, { budgetKey: tenantKey(value) });
    const before = spendOf();
    const text = JSON.stringify(before);
    for (const secret of ['FIRSTCALLERSECRET', 'OTHERCALLERSECRET', API_KEY, 'T'.repeat(65)])
      assert.ok(!text.includes(secret), `${secret} in status: ${text}`);
    const shown = before?.map((e) => [e.scopeKey, e.usedUSD]);
    assert.equal(shown?.length, 5, 'the two values that redact alike stay two entries');
    assert.match(String(shown?.[0]?.[0]), /^Bearer \[REDACTED\]#[0-9a-f]{16}$/);
    assert.match(String(shown?.[1]?.[0]), /^Bearer \[REDACTED\]#[0-9a-f]{16}$/);
    assert.notEqual(shown?.[0]?.[0], shown?.[1]?.[0]);
    assert.deepEqual(shown?.slice(2), [
      [`${'T'.repeat(64)}…#${String(shown[2]?.[0]).slice(-16)}`, '0.10'],
      ['acme', '0.05'],
      [`[REDACTED]#${String(shown[4]?.[0]).slice(-16)}`, '0.04'],
    ]);
    assert.deepEqual(
      shown?.slice(0, 2).map((e) => e[1]),
      ['0.30', '0.20'],
    );

    // A new leader reads the labels back. Each raw scope reported again (carrying what the seed holds)
    // finds its own seed; one nobody reports again stays in status as it was.
    fleet.reset();
    fleet.seed(NS, 'bot', { spend: before });
    assert.deepEqual(spendOf(), before, 'seeded, not yet reported: the same entries');
    t.report(1, 0.3 + 0.01, { budgetKey: tenantKey(first), carriedUSD: 0.3 });
    t.report(1, 0.1, { budgetKey: tenantKey(long), carriedUSD: 0.1 });
    t.report(1, 0.02, { budgetKey: tenantKey('new') });
    const after = new Map(spendOf()?.map((e) => [e.scopeKey, e.usedUSD]));
    assert.equal(
      after.get(before?.[0]?.scopeKey),
      '0.31',
      'the first secret-shaped scope: its seed, plus 0.01',
    );
    assert.equal(
      after.get(before?.[1]?.scopeKey),
      '0.20',
      'the other: nobody re-reported it, the seed stays',
    );
    assert.equal(after.get(before?.[2]?.scopeKey), '0.10', 'the long one: re-reported, counted once');
    assert.equal(after.get('new'), '0.02');
    assert.equal(after.size, 6);
    // The re-reported scopes are raw keys again: a sidecar's event names them as it reported them.
    const e = t.connect(1);
    assert.ok(record(e, tenantKey(first)));
    assert.ok(!e.records.some((r) => r.budgetKey.includes('#')), 'no event names a label as a key');
  });

  it('window rollover: the new window starts from nothing', () => {
    const t = setup();
    fleet.seed(NS, 'bot', {});
    t.report(0, 3);
    clock = noon + DAY;
    assert.deepEqual(spendOf(), []);
    assert.ok(t.report(0, 3).ignored === 1, 'a report for the ended window counts for nothing');
  });

  it('a departed pod’s spend stays counted; its lease share goes to the others', () => {
    const t = setup(9);
    fleet.seed(NS, 'bot', {});
    t.connect(0);
    t.connect(1);
    t.report(2, 3); // c spent 3, then its pod was deleted
    t.observe(t.pods.slice(0, 2));
    assert.equal(spendOf()?.[0]?.usedUSD, '3.00');
    assert.equal(record(t.event(0))?.leaseUSD, 3, '(9 − 3) / 2 live sidecars');
  });

  it('spend events: the others’ spend, own spend, a lease of remaining / sidecars, default leases', () => {
    const t = setup(9);
    fleet.seed(NS, 'bot', {});
    for (const i of [0, 1, 2]) t.connect(i);
    t.report(0, 1);
    t.report(1, 2);
    const e = t.event(0);
    assert.equal(e.epoch, fleet.epoch);
    assert.deepEqual(record(e), {
      budgetKey: DAILY,
      windowStart: '2026-11-22T00:00:00Z',
      usedUSD: 2,
      ownUSD: 1,
      leaseUSD: 2, // (9 − 3) / 3
      persistedUSD: 0,
    });
    assert.deepEqual(
      e.defaults.map((d) => [d.budget, d.windowStart, d.leaseUSD]),
      [
        [`${NS}/bot/daily`, '2026-11-22T00:00:00Z', 3],
        [`${NS}/bot/daily`, '2026-11-23T00:00:00Z', 3],
        [`${NS}/bot/tenant`, '2026-11-22T00:00:00Z', 1 / 3],
        [`${NS}/bot/tenant`, '2026-11-23T00:00:00Z', 1 / 3],
      ].map(([b, w, l]) => [b, w, Math.floor((l as number) * 1e6) / 1e6]),
    );
    fleet.statusSpend(NS, 'bot')?.written();
    assert.equal(record(t.event(0))?.persistedUSD, 1, 'told what of its spend status now holds');
  });

  it('no leases for a policy not seeded this term', () => {
    const t = setup();
    t.report(0, 1);
    const e = t.connect(0);
    assert.deepEqual([e.records, e.defaults], [[], []]);
  });

  it('a growing lease waits until the shrinking ones are acknowledged', () => {
    const t = setup(9);
    t.observe(t.pods.slice(0, 2)); // a and b only
    fleet.seed(NS, 'bot', {});
    t.connect(0);
    t.connect(1);
    assert.equal(record(t.event(0))?.leaseUSD, undefined, 'nothing spent: default leases only');
    assert.equal(t.event(0).defaults[0]?.leaseUSD, 4.5);
    t.report(1, 4);
    // Even would be (9 − 4) / 2 = 2.5 each; a still may hold 4.5 until it acknowledges its cut.
    assert.equal(record(t.event(0))?.leaseUSD, 2.5);
    assert.equal(record(t.event(1))?.leaseUSD, 0.5, 'b: only what is free even if a had not heard');
    t.ack(0);
    assert.equal(record(t.event(1))?.leaseUSD, 2.5);
  });

  it('a sidecar out of reach keeps what it may hold; back, it gets more only once that is safe', () => {
    const t = setup(9);
    t.observe(t.pods.slice(0, 2));
    fleet.seed(NS, 'bot', {});
    t.connect(0);
    t.connect(1);
    t.report(1, 4);
    t.event(0);
    t.ack(0);
    assert.equal(record(t.event(1))?.leaseUSD, 2.5);
    t.disconnect(1); // b may spend up to 4 + 2.5 without us
    assert.equal(record(t.event(0))?.leaseUSD, 2.5, 'a gets what is left after b’s reserve');
    t.ack(0);
    t.report(1, 6); // a late report: b spent 2 of its 2.5 while away
    // b is back: the even share is (9 − 6) / 2 = 1.5, but a may hold 2.5 of the 3 left until it
    // acknowledges its cut, so b gets only the 0.5 it already had.
    assert.equal(record(t.connect(1))?.leaseUSD, 0.5);
    assert.equal(record(t.event(0))?.leaseUSD, 1.5);
    t.ack(0);
    assert.equal(record(t.event(1))?.leaseUSD, 1.5);
  });

  it('an unchanged event is not sent again to an open stream', () => {
    const t = setup();
    fleet.seed(NS, 'bot', {});
    t.connect(0);
    const pod = t.pods[0] as PodIdentity;
    assert.equal(fleet.eventFor(pod, 'inst-a', false), undefined);
    t.report(0, 1);
    assert.ok(fleet.eventFor(pod, 'inst-a', false));
  });
});

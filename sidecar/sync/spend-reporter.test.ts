// The sidecar's spend reports: only what changed, everything again after a reconnect or a new operator
// term, carried amounts after a term change, and `spend` events into the ledger.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpendRecordBody } from '../../operator/push/spend-protocol.ts';
import { BudgetLedger } from '../limits/budget-ledger.ts';
import { SpendReporter } from './spend-reporter.ts';

const noon = Date.parse('2026-11-22T12:00:00Z');
const daily = { budgetKey: 'ns/p/daily|policy', limitUSD: 10, window: 'day' as const };
const other = { budgetKey: 'ns/p/daily|header:x-t=a', limitUSD: 10, window: 'day' as const };

function spend(l: BudgetLedger, spec: typeof daily, usd: number) {
  const r = l.reserve(spec, usd, noon);
  assert.ok(r.ok);
  r.reservation.settle(usd);
}

function harness(epoch = 'e1') {
  const ledger = new BudgetLedger({ now: () => noon });
  const reporter = new SpendReporter(ledger);
  const posts: SpendRecordBody[][] = [];
  let answer: string | undefined;
  const report = () =>
    reporter.report((body) => {
      assert.equal(body.instance, reporter.instance);
      if (answer) return Promise.resolve(answer);
      posts.push(body.records);
      acks.push(body.leaseSeq);
      return Promise.resolve({ recorded: body.records.length, ignored: 0, epoch });
    });
  let seq = 0;
  const event = (e: string, records: object[] = [], defaults: object[] = []) =>
    reporter.absorb(JSON.stringify({ epoch: e, seq: ++seq, records, defaults }));
  const acks: (number | undefined)[] = [];
  return { ledger, reporter, posts, acks, report, event, fail: (a: string | undefined) => (answer = a) };
}

const keys = (records: SpendRecordBody[] | undefined) =>
  records?.map((r) => [r.budgetKey, r.usedUSD, r.carriedUSD]);

describe('SpendReporter', () => {
  it('reports own settled spend when it changed, nothing when it did not', async () => {
    const h = harness();
    assert.equal(await h.report(), true);
    assert.equal(h.posts.length, 0, 'nothing spent, nothing sent');
    spend(h.ledger, daily, 0.5);
    spend(h.ledger, other, 0.25);
    await h.report();
    assert.deepEqual(keys(h.posts[0]), [
      [other.budgetKey, 0.25, undefined],
      [daily.budgetKey, 0.5, undefined],
    ]);
    await h.report();
    assert.equal(h.posts.length, 1);
    spend(h.ledger, daily, 0.1);
    await h.report();
    assert.deepEqual(keys(h.posts[1]), [[daily.budgetKey, 0.6, undefined]], 'only the key that changed');
  });

  it('a failed report is sent again; a reconnect resends everything', async () => {
    const h = harness();
    spend(h.ledger, daily, 0.5);
    h.fail('503: not_serving');
    assert.equal(await h.report(), '503: not_serving');
    h.fail(undefined);
    await h.report();
    assert.equal(h.posts.length, 1);
    h.reporter.reconnected();
    await h.report();
    assert.deepEqual(keys(h.posts[1]), [[daily.budgetKey, 0.5, undefined]]);
  });

  it('a new operator term: what the old one persisted is reported as carried, and all is resent', async () => {
    const h = harness('e2');
    spend(h.ledger, daily, 0.5);
    h.event('e1', [
      {
        budgetKey: daily.budgetKey,
        windowStart: '2026-11-22T00:00:00Z',
        usedUSD: 0,
        ownUSD: 0.5,
        persistedUSD: 0.4,
      },
    ]);
    await h.report(); // answered by e2: a new term
    await h.report();
    assert.deepEqual(keys(h.posts[1]), [[daily.budgetKey, 0.5, 0.4]]);
  });

  it('feeds spend events to the ledger: the fleet’s spend and the leases', () => {
    const h = harness();
    h.event(
      'e1',
      [
        {
          budgetKey: daily.budgetKey,
          windowStart: '2026-11-22T00:00:00Z',
          usedUSD: 9,
          ownUSD: 0,
          leaseUSD: 0.5,
          persistedUSD: 0,
        },
      ],
      [{ budget: 'ns/p/daily', windowStart: '2026-11-22T00:00:00Z', leaseUSD: 0.2 }],
    );
    const u = h.ledger.usage(daily, noon);
    assert.deepEqual([u.remoteUSD, u.leaseRemainingUSD], [9, 0.5]);
    assert.equal(h.ledger.usage(other, noon).leaseRemainingUSD, 0.2, 'the default lease for unseen scopes');
    assert.throws(() => h.reporter.absorb('{"epoch":1}'), /spend event/);
  });

  it('acknowledges the last event it applied, even when its own spend did not change', async () => {
    const h = harness();
    h.event('e1');
    h.event('e1');
    await h.report();
    assert.deepEqual([h.posts, h.acks], [[[]], [2]]);
    await h.report();
    assert.equal(h.posts.length, 1, 'acknowledged once');
    spend(h.ledger, daily, 0.5);
    await h.report();
    assert.deepEqual(h.acks, [2, undefined], 'a report with nothing new to acknowledge');
    h.event('e2'); // a new term numbers its events afresh
    await h.report();
    assert.deepEqual(h.acks.at(-1), 3);
  });

  it('does not acknowledge a smaller lease while calls admitted under the larger one still run', async () => {
    const h = harness();
    const lease = (leaseUSD: number) =>
      h.event('e1', [
        {
          budgetKey: daily.budgetKey,
          windowStart: '2026-11-22T00:00:00Z',
          usedUSD: 0,
          ownUSD: 0,
          leaseUSD,
          persistedUSD: 0,
        },
      ]);
    lease(1);
    const r = h.ledger.reserve(daily, 0.8, noon);
    assert.ok(r.ok);
    lease(0.2);
    await h.report();
    assert.deepEqual(h.acks, [], 'the operator must keep counting the larger lease');
    r.reservation.settle(0.8);
    await h.report();
    assert.deepEqual(h.acks, [2]);
  });
});

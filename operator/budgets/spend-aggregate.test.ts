import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scopeHash, scopeLabel } from '../../sidecar/telemetry/scope-label.ts';
import { SpendAggregate, totalOf } from './spend-aggregate.ts';

const DAY = 86_400_000;
const day0 = Date.UTC(2026, 10, 22);
const key = (budgetKey = 'ns/p/daily|policy', start = day0) => ({ budgetKey, start, end: start + DAY });
const total = (agg: SpendAggregate, k = key()) => {
  const s = agg.get(k.budgetKey, k.start);
  return s ? totalOf(s) : 0;
};

describe('SpendAggregate', () => {
  it('sums sidecar processes; a repeated or reordered report changes nothing', () => {
    const agg = new SpendAggregate();
    agg.record('a', key(), 300, 0);
    agg.record('b', key(), 200, 0);
    agg.record('a', key(), 300, 0); // re-delivered
    agg.record('a', key(), 100, 0); // an older report arriving late
    assert.equal(total(agg), 500);
    agg.record('a', key(), 450, 0);
    assert.equal(total(agg), 650);
  });

  it('a restarted sidecar (new instance) adds to its predecessor instead of replacing it', () => {
    const agg = new SpendAggregate();
    agg.record('pod1-first', key(), 400, 0);
    agg.record('pod1-second', key(), 50, 0); // same pod, fresh ledger
    assert.equal(total(agg), 450);
  });

  it('keeps a departed pod’s spend until its window ends, then drops the window', () => {
    const agg = new SpendAggregate();
    agg.record('gone', key(), 700, 0);
    agg.record('live', key(), 100, 0);
    assert.equal(
      agg.prune(day0 + DAY - 1, () => true),
      false,
    );
    assert.equal(total(agg), 800, 'nothing but the window ending removes spend');
    agg.record('live', key('ns/p/daily|policy', day0 + DAY), 5, 0);
    assert.equal(
      agg.prune(day0 + DAY, () => true),
      true,
    );
    assert.equal(agg.get('ns/p/daily|policy', day0), undefined);
    assert.equal(
      total(agg, key('ns/p/daily|policy', day0 + DAY)),
      5,
      'the new window starts from its own spend',
    );
  });

  it('drops keys of budgets that no longer exist', () => {
    const agg = new SpendAggregate();
    agg.record('a', key('ns/p/old|policy'), 10, 0);
    agg.record('a', key(), 20, 0);
    agg.prune(day0, (k) => !k.startsWith('ns/p/old|'));
    assert.deepEqual([agg.size, total(agg)], [1, 20]);
  });

  it('seed: what a previous leader persisted, minus what live processes say it already contains', () => {
    const agg = new SpendAggregate();
    // Status said 1.000: a (0.400, persisted), b (0.300, persisted) and a pod since deleted (0.300).
    agg.seed(key(), 1000);
    assert.equal(total(agg), 1000, 'before any re-report the seed stands alone');
    agg.record('a', key(), 450, 400); // spent 0.050 more since
    agg.record('b', key(), 300, 300);
    assert.equal(total(agg), 300 + 450 + 300);
    agg.record('a', key(), 450, 400); // re-sent: carried is credited once
    assert.equal(total(agg), 1050);
  });

  it('carried amounts never push the seed below zero nor exceed the process’s own spend', () => {
    const agg = new SpendAggregate();
    agg.seed(key(), 100);
    agg.record('a', key(), 80, 500);
    assert.equal(total(agg), 100, 'credited ≤ used (80): seed 100 − 80 + 80');
    agg.record('b', key(), 60, 60);
    assert.equal(total(agg), 140, 'seed fully credited: only the live spend remains');
  });

  it('marks what a status write contained as persisted, only up to what was reported', () => {
    const agg = new SpendAggregate();
    agg.record('a', key(), 100, 0);
    const k = agg.get('ns/p/daily|policy', day0);
    assert.ok(k);
    const mark = agg.mark([k]);
    agg.record('a', key(), 150, 0); // reported after the status was computed
    agg.persisted(mark);
    assert.equal(k.byInstance.get('a')?.persisted, 100);
  });

  it('bounds the keys one budget can hold; other budgets are unaffected', () => {
    const agg = new SpendAggregate({ maxKeysPerBudget: 2 });
    assert.ok(agg.record('a', key('ns/p/t|header:x-t=1'), 1, 0));
    assert.ok(agg.record('a', key('ns/p/t|header:x-t=2'), 1, 0));
    assert.equal(agg.record('a', key('ns/p/t|header:x-t=3'), 1, 0), false);
    assert.ok(agg.record('a', key('ns/p/t|header:x-t=1'), 2, 0), 'a known key still updates');
    assert.ok(agg.record('a', key('ns/p/u|policy'), 1, 0));
  });

  describe('seeds from status entries that show a scope other than as sent', () => {
    const raw = `ns/p/daily|header:x-user=${'u'.repeat(200)}`;
    const shownKey = `ns/p/daily|${scopeLabel(raw.slice('ns/p/daily|'.length), undefined)}`;
    const hash = scopeHash(raw.slice('ns/p/daily|'.length)) ?? '';
    const shown = { shownKey, hash, start: day0, end: day0 + DAY };

    it('waits for the raw key with the same hash, which then starts from the seed', () => {
      const agg = new SpendAggregate();
      agg.seedShown(shown, 900);
      assert.deepEqual(
        agg.pendingOf('ns/p/daily', day0).map((p) => p.seed),
        [900],
      );
      assert.equal(agg.size, 0, 'no key is made up for it');
      agg.record('live', key(`ns/p/daily|header:x-user=${'u'.repeat(199)}v`), 50, 0);
      assert.equal(agg.pendingOf('ns/p/daily', day0).length, 1, 'another value: still waiting');
      agg.record('live', key(raw), 300, 200);
      assert.equal(total(agg, key(raw)), 900 - 200 + 300);
      assert.equal(agg.pendingOf('ns/p/daily', day0).length, 0);
    });

    it('goes to the raw key at once when it is already known', () => {
      const agg = new SpendAggregate();
      agg.record('live', key(raw), 100, 100);
      agg.seedShown(shown, 400);
      assert.equal(total(agg, key(raw)), 400);
      assert.equal(agg.pendingOf('ns/p/daily', day0).length, 0);
    });

    it('a reported key spelled like the label is another scope: it never takes the seed', () => {
      const agg = new SpendAggregate();
      agg.seedShown(shown, 900);
      agg.record('poser', key(shownKey), 10, 0);
      assert.equal(total(agg, key(shownKey)), 10);
      assert.equal(agg.pendingOf('ns/p/daily', day0)[0]?.seed, 900);
    });

    it('is dropped with its window or its budget', () => {
      const agg = new SpendAggregate();
      agg.seedShown(shown, 900);
      assert.equal(
        agg.prune(day0 + 1, () => true),
        false,
      );
      assert.equal(
        agg.prune(day0 + 1, (k) => !k.startsWith('ns/p/daily|')),
        true,
      );
      agg.seedShown(shown, 900);
      assert.equal(
        agg.prune(day0 + DAY, () => true),
        true,
      );
      assert.equal(agg.pendingOf('ns/p/daily', day0).length, 0);
    });
  });
});

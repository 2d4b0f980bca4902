import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from './queue.ts';
import { RevisionClock } from './revision-clock.ts';
import { sameStatus, withTransitions } from './conditions.ts';

describe('WorkQueue', () => {
  it('merges repeated adds and never runs one key twice at once', async () => {
    const runs: string[] = [];
    let active = 0;
    const q = new WorkQueue(
      async (key) => {
        assert.equal(active++, 0);
        runs.push(key);
        await sleep(10);
        active--;
      },
      { concurrency: 1 },
    );
    q.add('a');
    q.add('a');
    await sleep(1);
    q.add('a'); // while running: once more afterwards
    q.add('a');
    await sleep(50);
    await q.idle();
    assert.deepEqual(runs, ['a', 'a']);
  });

  it('retries a failing key with backoff and forgets the failures on success', async () => {
    let calls = 0;
    const q = new WorkQueue(() => (++calls < 3 ? Promise.reject(new Error('boom')) : Promise.resolve()), {
      baseDelayMs: 5,
      maxDelayMs: 20,
    });
    q.add('ns');
    for (let i = 0; i < 100 && calls < 3; i++) await sleep(5);
    await q.idle();
    assert.equal(calls, 3);
    assert.equal(q.failures('ns'), 0);
  });
});

describe('RevisionClock', () => {
  it('increases strictly, above the clock and above what another leader published', () => {
    let now = 1000;
    const clock = new RevisionClock(() => now);
    assert.equal(clock.next(0), 1000);
    assert.equal(clock.next(1000), 1001);
    clock.observe(5000);
    assert.equal(clock.next(1001), 5001);
    now = 9000;
    assert.equal(clock.next(5001), 9000);
    assert.equal(clock.highest, 9000);
  });
});

describe('conditions', () => {
  it('keeps lastTransitionTime unless the status flips, and ignores it when comparing', () => {
    const before = withTransitions(
      [{ type: 'Ready', status: 'True', reason: 'A', message: 'm' }],
      [],
      1,
      't1',
    );
    const same = withTransitions(
      [{ type: 'Ready', status: 'True', reason: 'B', message: 'm' }],
      before,
      2,
      't2',
    );
    assert.equal(same[0]?.lastTransitionTime, 't1');
    const flipped = withTransitions(
      [{ type: 'Ready', status: 'False', reason: 'B', message: 'm' }],
      before,
      2,
      't2',
    );
    assert.equal(flipped[0]?.lastTransitionTime, 't2');
    const again = withTransitions(
      [{ type: 'Ready', status: 'True', reason: 'A', message: 'm' }],
      before,
      1,
      't3',
    );
    assert.ok(sameStatus({ conditions: before, spend: [] }, { conditions: again }));
    assert.ok(!sameStatus({ conditions: before }, { conditions: same }));
  });
});

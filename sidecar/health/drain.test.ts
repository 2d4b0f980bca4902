import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TurnoutError } from '../errors.ts';
import { Drain, shuttingDown } from './drain.ts';

const reason = (ms: number) => shuttingDown(`cut after ${ms} ms`);

describe('Drain', () => {
  it('is not draining until begun, and counts the calls that finish inside the window', async () => {
    const drain = new Drain();
    const cuts: TurnoutError[] = [];
    const end = drain.track((e) => cuts.push(e));
    assert.equal(drain.draining, false);
    const settled = drain.settle(60_000, reason);
    assert.equal(drain.draining, true, 'settle begins draining at once');
    assert.equal(drain.inFlight, 1);
    end();
    end(); // ending twice counts once
    assert.deepEqual(await settled, { finished: 1, cut: 0, ms: (await settled).ms });
    assert.deepEqual(cuts, []);
  });

  it('cuts the calls still in flight when the window closes, with a retriable shutting_down error', async () => {
    const drain = new Drain();
    const cuts: TurnoutError[] = [];
    drain.track((e) => cuts.push(e));
    const end = drain.track((e) => cuts.push(e));
    drain.begin();
    end();
    const report = await drain.settle(20, reason);
    assert.equal(report.finished, 1);
    assert.equal(report.cut, 1);
    assert.equal(cuts.length, 1);
    assert.equal(cuts[0]?.code, 'shutting_down');
    assert.equal(cuts[0]?.status, 503);
    assert.equal(cuts[0]?.retryAfter, 1);
    assert.equal(cuts[0]?.message, 'cut after 20 ms');
    assert.equal(drain.inFlight, 0);
  });

  it('endWindow cuts at once, even when called before settle', async () => {
    const drain = new Drain();
    let cut = 0;
    drain.track(() => cut++);
    drain.begin();
    drain.endWindow();
    const report = await drain.settle(Number.POSITIVE_INFINITY, reason);
    assert.equal(report.cut, 1);
    assert.equal(cut, 1);

    const later = new Drain();
    later.track(() => cut++);
    const settling = later.settle(Number.POSITIVE_INFINITY, reason);
    later.endWindow();
    assert.equal((await settling).cut, 1);
  });

  it('with no call in flight, settles at once even with an unbounded window', async () => {
    assert.equal((await new Drain().settle(Number.POSITIVE_INFINITY, reason)).cut, 0);
  });
});

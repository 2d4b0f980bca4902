import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AFTER_CALL_MAX_QUEUED, AfterCallQueue } from './after-call.ts';

const unexpected = (e: unknown) => assert.fail(`no task should throw: ${String(e)}`);

describe('AfterCallQueue', () => {
  it('runs nothing at once, then every task in the order queued after its delay', async () => {
    const ran: number[] = [];
    const q = new AfterCallQueue(unexpected, 5);
    for (let i = 0; i < 3; i++) q.defer(() => ran.push(i));
    assert.deepEqual(ran, []);
    assert.equal(q.pending, 3);
    await sleep(30);
    assert.deepEqual(ran, [0, 1, 2]);
    assert.equal(q.pending, 0);
  });

  it('flush() runs what is queued now, and the timer then finds nothing to run twice', async () => {
    const ran: string[] = [];
    const q = new AfterCallQueue(unexpected, 5);
    q.defer(() => ran.push('a'));
    q.flush();
    assert.deepEqual(ran, ['a']);
    await sleep(30);
    assert.deepEqual(ran, ['a']);
  });

  it('a task that throws is reported and the rest of its batch still runs', () => {
    const errors: unknown[] = [];
    const ran: number[] = [];
    const q = new AfterCallQueue((e) => errors.push(e), 1_000);
    q.defer(() => ran.push(1));
    q.defer(() => {
      throw new Error('boom');
    });
    q.defer(() => ran.push(3));
    q.flush();
    assert.deepEqual(ran, [1, 3]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /boom/);
  });

  it('a burst runs as soon as the queue is full instead of growing without bound', () => {
    let ran = 0;
    const q = new AfterCallQueue(unexpected, 60_000);
    for (let i = 0; i < AFTER_CALL_MAX_QUEUED - 1; i++) q.defer(() => ran++);
    assert.equal(ran, 0);
    q.defer(() => ran++);
    assert.equal(ran, AFTER_CALL_MAX_QUEUED);
    assert.equal(q.pending, 0);
  });

  it('a task that queues or flushes during a flush neither reruns the batch nor loses the new task', async () => {
    const ran: string[] = [];
    const q = new AfterCallQueue(unexpected, 5);
    q.defer(() => {
      ran.push('first');
      q.defer(() => ran.push('queued by first'));
      q.flush();
    });
    q.defer(() => ran.push('second'));
    q.flush();
    assert.deepEqual(ran, ['first', 'queued by first', 'second']);
    await sleep(30);
    assert.deepEqual(ran, ['first', 'queued by first', 'second']);
  });
});

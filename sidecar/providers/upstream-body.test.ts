import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DispatchedBody, type FlowControl } from './upstream-body.ts';

function recordingFlow(): FlowControl & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    abort: (reason) => calls.push(`abort:${reason.message}`),
  };
}

async function collect(body: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of body) text += chunk.toString();
  return text;
}

describe('DispatchedBody', () => {
  it('hands over chunks pushed before and after the reader waits, in order, then ends', async () => {
    const body = new DispatchedBody(recordingFlow());
    body.push(Buffer.from('a'));
    const reading = collect(body);
    body.push(Buffer.from('b'));
    setImmediate(() => {
      body.push(Buffer.from('c'));
      body.end();
    });
    assert.equal(await reading, 'abc');
  });

  it('delivers what arrived before an error, then throws that error', async () => {
    const body = new DispatchedBody(recordingFlow());
    body.push(Buffer.from('partial'));
    body.fail(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    const first = await body.next();
    assert.equal(String(first.value), 'partial');
    await assert.rejects(body.next(), /other side closed/);
  });

  it('rejects a waiting reader when the upstream fails, wrapping non-Error reasons', async () => {
    const body = new DispatchedBody(recordingFlow());
    const waiting = body.next();
    body.fail('reset');
    await assert.rejects(waiting, (e: Error) => e.message === 'reset');
  });

  it('pauses the upstream past the high-water mark and resumes once the reader drains it', async () => {
    const flow = recordingFlow();
    const body = new DispatchedBody(flow);
    const big = Buffer.alloc(16 * 1024, 120);
    for (let i = 0; i < 4; i++) body.push(big);
    assert.deepEqual(flow.calls, ['pause']);
    await body.next();
    assert.deepEqual(flow.calls, ['pause'], 'still above half the mark');
    await body.next();
    await body.next();
    assert.deepEqual(flow.calls, ['pause', 'resume']);
    body.end();
    assert.equal((await body.next()).done, false);
    assert.equal((await body.next()).done, true);
  });

  it('aborts the upstream when the reader stops early, and only once', async () => {
    const flow = recordingFlow();
    const body = new DispatchedBody(flow);
    body.push(Buffer.from('x'));
    body.push(Buffer.from('y'));
    for await (const chunk of body) {
      assert.equal(chunk.toString(), 'x');
      break; // calls return(): the rest of the answer is not wanted
    }
    body.destroy();
    assert.deepEqual(flow.calls, ['abort:upstream body no longer read']);
    body.push(Buffer.from('late'));
    await assert.rejects(body.next(), /no longer read/);
  });

  it('does not abort an upstream that already finished', () => {
    const flow = recordingFlow();
    const body = new DispatchedBody(flow);
    body.end();
    body.destroy(new Error('too late'));
    assert.deepEqual(flow.calls, []);
  });
});

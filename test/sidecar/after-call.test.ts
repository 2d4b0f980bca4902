// A call's bookkeeping (metrics, spans, decision) is recorded in batches shortly after its answer is sent
// (sidecar/telemetry/after-call.ts). Whoever reads it must still see every answered call, and the
// spans must carry the call's own times, not the time of the batch.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { chat } from './harness.ts';
import { policyYaml, providersYaml } from './manifests.ts';
import { callTree, inProcessSidecar, traceparent, type InProcess } from './telemetry-harness.ts';

let s: InProcess;

/** One route to the primary fake, with the secondary as its fallback. */
const load = (on: InProcess) =>
  on.load({
    'p.yaml': providersYaml(on.primary.url, on.secondary.url),
    'r.yaml': policyYaml(),
  });

before(async () => {
  s = await inProcessSidecar();
  await load(s);
});
after(() => s.close());
beforeEach(() => {
  s.sidecar.settle();
  s.exporter.reset();
  s.decisions.length = 0;
});

const requestsOk = (text: string) =>
  Number(/^turnout_requests_total\{[^}]*outcome="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0);

describe('bookkeeping after the answer', () => {
  it('is not done while the answer is sent, and lands on its own within a batch', async () => {
    const res = await chat(s.url, { model: 'smart' });
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(s.decisions.length, 0, 'recorded off the answer path');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.decisions.length, 1);
    assert.equal(s.decisions[0]?.status, 200);
  });

  it("a decision's latency is the call's own, not the wait for its batch", async () => {
    await (await chat(s.url, { model: 'smart' })).text(); // connection and first-call costs out of the way
    const sent = performance.now();
    const res = await chat(s.url, { model: 'smart' });
    await res.text();
    const elapsedMs = performance.now() - sent;
    await new Promise((r) => setTimeout(r, 100));
    const latencyMs = s.decisions.at(-1)?.latencyMs;
    assert.ok(latencyMs !== undefined);
    // Slack for Date.now()'s millisecond steps and a busy machine; a batch waits 25 ms.
    assert.ok(latencyMs <= elapsedMs + 3, `latency ${latencyMs} ms, call took ${elapsedMs} ms`);
  });

  it('a scrape right after an answer counts that call', async () => {
    const before = requestsOk(await (await fetch(`${s.url}/metrics`)).text());
    const res = await chat(s.url, { model: 'smart' });
    await res.text();
    const text = await (await fetch(`${s.url}/metrics`)).text();
    assert.equal(requestsOk(text), before + 1);
  });

  it("telemetry.forceFlush() right after an answer exports that call's spans", async () => {
    const tp = traceparent();
    const res = await chat(s.url, { model: 'smart' }, { traceparent: tp.header });
    await res.text();
    await s.sidecar.telemetry.forceFlush();
    const spans = s.exporter.getFinishedSpans().filter((sp) => sp.spanContext().traceId === tp.traceId);
    assert.ok(spans.length >= 2, `call and attempt spans (${spans.length})`);
  });

  it("spans end when the call ended, not when the batch was recorded, and the decision gets the span's ids", async () => {
    const tp = traceparent();
    const res = await chat(s.url, { model: 'smart' }, { traceparent: tp.header });
    await res.text();
    const answeredAt = performance.timeOrigin + performance.now();
    await new Promise((r) => setTimeout(r, 100));
    const { call } = await callTree(s.exporter, tp.traceId);
    assert.ok(
      hrTimeToMilliseconds(call.endTime) <= answeredAt + 5,
      `span ended ${(hrTimeToMilliseconds(call.endTime) - answeredAt).toFixed(1)} ms after the answer`,
    );
    assert.equal(s.decisions.at(-1)?.traceId, tp.traceId);
  });

  it('close() records what answered calls still owed', async () => {
    const own = await inProcessSidecar();
    await load(own);
    const res = await chat(own.url, { model: 'smart' });
    await res.text();
    await own.close();
    assert.equal(own.decisions.length, 1);
    assert.equal(own.decisions[0]?.status, 200);
  });
});

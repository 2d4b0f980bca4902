// OTLP export end to end: a `turnout dev` process configured only by the standard OTEL_* variables
// exports OTLP/HTTP protobuf to a real OpenTelemetry Collector (built from Go modules), which decodes it
// and forwards it as OTLP/JSON to this test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { configDir, startTurnout, type TurnoutProcess } from '../helpers/turnout-process.ts';
import { chat } from './harness.ts';
import { policyYaml, providersYaml } from './manifests.ts';
import {
  attributes,
  ensureCollector,
  receivedSpans,
  startCollector,
  startJsonReceiver,
  type Collector,
  type OtlpJsonReceiver,
} from './telemetry-collector.ts';
import { traceparent } from './telemetry-harness.ts';

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const STATUS_ERROR = 2;

let receiver: OtlpJsonReceiver;
let collector: Collector;
let primary: FakeProvider;
let secondary: FakeProvider;
let turnout: TurnoutProcess;
let removeDir: () => Promise<void>;

before(async () => {
  const bin = await ensureCollector(); // the first run builds it (a few minutes), later runs reuse it
  receiver = await startJsonReceiver();
  collector = await startCollector(bin, receiver.url);
  primary = await startFakeProvider({ dialect: 'openai' });
  secondary = await startFakeProvider({ dialect: 'openai' });
  const dir = await configDir({
    'p.yaml': providersYaml(primary.url, secondary.url),
    'r.yaml': policyYaml(),
  });
  removeDir = () => dir.remove();
  turnout = await startTurnout(['dev', '--config', dir.dir, '--listen', '127.0.0.1:0', '--json'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_SERVICE_NAME: 'checkout-sidecar',
    OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=checkout-7d9f,deployment.environment.name=test',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  await turnout.waitForLine(/loaded snapshot/);
});

after(async () => {
  await turnout?.stop();
  await collector?.stop();
  await receiver?.close();
  await primary?.close();
  await secondary?.close();
  await removeDir?.();
});

async function spansOf(traceId: string, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const spans = receivedSpans(receiver).filter((s) => s.span.traceId === traceId);
    if (spans.length >= count) return spans;
    if (Date.now() > deadline)
      throw new Error(
        `got ${spans.length} of ${count} spans for ${traceId}; collector log:\n${collector.log()}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('OTLP export to a real OpenTelemetry Collector', () => {
  it('exports the call and attempt spans of a failover, resource from OTEL_* included', async () => {
    primary.onNext({ kind: 'status', status: 502 });
    const tp = traceparent();
    const res = await chat(turnout.url, {}, { traceparent: tp.header });
    assert.equal(res.status, 200);
    await res.text();
    const spans = await spansOf(tp.traceId, 3);
    const call = spans.find((s) => s.span.kind === SPAN_KIND_SERVER);
    assert.ok(call, 'a server span');
    assert.equal(call.span.parentSpanId, tp.parentId, 'continues the incoming traceparent');
    assert.equal(call.span.name, 'chat smart');
    assert.equal(call.scope, 'turnout-sidecar');
    const resource = attributes(call.resource);
    assert.equal(resource['service.name'], 'checkout-sidecar');
    assert.equal(resource['k8s.pod.name'], 'checkout-7d9f');
    const ca = attributes(call.span.attributes);
    assert.equal(ca['gen_ai.operation.name'], 'chat');
    assert.equal(ca['gen_ai.request.model'], 'smart');
    assert.equal(ca['gen_ai.response.model'], 'backup-model');
    assert.equal(ca['turnout.route'], 'smart');
    assert.equal(ca['turnout.attempts'], 2);
    assert.deepEqual(ca['turnout.candidates'], ['primary/gpt-4o', 'secondary/backup-model']);
    assert.ok(Number(ca['turnout.cost_usd']) > 0);
    const attempts = spans
      .filter((s) => s.span.parentSpanId === call.span.spanId)
      .map((s) => ({ span: s.span, a: attributes(s.span.attributes) }))
      .sort((x, y) => Number(x.a['turnout.attempt.number']) - Number(y.a['turnout.attempt.number']));
    assert.equal(attempts.length, 2);
    assert.ok(attempts.every((x) => x.span.kind === SPAN_KIND_CLIENT));
    assert.equal(attempts[0]?.a['turnout.failure_class'], 'server-error');
    assert.equal(attempts[0]?.a['http.response.status_code'], 502);
    assert.equal(attempts[0]?.span.status?.code, STATUS_ERROR);
    assert.equal(attempts[1]?.a['gen_ai.provider.name'], 'openai_compatible');
    assert.ok(Number(attempts[1]?.a['gen_ai.usage.output_tokens']) > 0);
    for (const s of spans)
      assert.ok(BigInt(s.span.endTimeUnixNano) >= BigInt(s.span.startTimeUnixNano), 'real timestamps');
    // The JSON decision log names the same trace.
    const line = await turnout.waitForLine(new RegExp(`"traceId":"${tp.traceId}"`));
    assert.equal((JSON.parse(line) as { spanId: string }).spanId, call.span.spanId);
  });

  it('starts a new trace when the caller sends none', async () => {
    const before = receivedSpans(receiver).length;
    assert.equal((await chat(turnout.url)).status, 200);
    const deadline = Date.now() + 15_000;
    while (receivedSpans(receiver).length < before + 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const fresh = receivedSpans(receiver).slice(before);
    const root = fresh.find((s) => s.span.kind === SPAN_KIND_SERVER);
    assert.ok(root);
    assert.ok(!root.span.parentSpanId, 'a root span');
  });
});

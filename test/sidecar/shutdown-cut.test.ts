// A stream still running when the drain window closes is cut by the sidecar, not broken by its upstream:
// the in-band error (in both caller dialects), the decision, the requests metric, the call and attempt
// spans and the upstream's circuit breaker all say so, instead of blaming the provider with
// upstream_stream_error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { inProcessSidecar, type InProcess } from './telemetry-harness.ts';
import { policyYaml, providersYaml } from './manifests.ts';

/** The sidecar's close() shuts its exporter down, which empties an in-memory one: this one keeps its spans. */
class SpansKeptAtShutdown extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return this.forceFlush();
  }
}

let s: InProcess;
before(async () => {
  s = await inProcessSidecar({ exporter: new SpansKeptAtShutdown() });
  // One failure would open the primary's breaker: a cut blamed on it would show there.
  const breaker = 'circuitBreaker: { consecutiveFailures: 1 }';
  await s.load({
    'providers.yaml': providersYaml(s.primary.url, s.secondary.url, breaker),
    'policy.yaml': policyYaml('smart'),
  });
});
after(() => s.close());

/** A committed stream (its headers arrive once the answer has started), read to its end. */
async function openStream(path: string, body: Record<string, unknown>): Promise<{ text: Promise<string> }> {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'smart',
      stream: true,
      messages: [{ role: 'user', content: 'long' }],
      ...body,
    }),
  });
  assert.equal(res.status, 200);
  return { text: res.text() };
}

/** The data of the stream's `event: error`. */
function errorEvent(text: string): Record<string, unknown> {
  const data = /event: error\ndata: (.*)\n\n/.exec(text)?.[1];
  assert.ok(data, `an in-band error event in:\n${text}`);
  return JSON.parse(data) as Record<string, unknown>;
}

describe('a stream cut when the drain window closes', () => {
  it('carries shutting_down in-band (both dialects), in the decision, the metrics and the spans; the upstream is not blamed', async () => {
    const long = { kind: 'ok', chunks: 40, chunkDelayMs: 100 } as const;
    s.primary.script([long, long]);
    const openai = await openStream('/v1/chat/completions', {});
    const anthropic = await openStream('/v1/messages', { max_tokens: 64 });

    const report = await s.sidecar.close({ drainMs: 200 });
    assert.equal(report.cut, 2);

    const openaiText = await openai.text;
    assert.ok(!openaiText.includes('[DONE]'), 'a cut stream never ends as if complete');
    const openaiError = errorEvent(openaiText).error as Record<string, unknown>;
    assert.equal(openaiError.code, 'shutting_down');
    assert.equal(openaiError.type, 'service_unavailable');
    assert.match(String(openaiError.message), /shutting down.*drain window/);
    const anthropicText = await anthropic.text;
    assert.ok(!anthropicText.includes('message_stop'));
    const anthropicError = errorEvent(anthropicText);
    assert.equal(anthropicError.type, 'error');
    assert.deepEqual(Object.keys(anthropicError.error as object), ['type', 'message']);
    assert.equal((anthropicError.error as { type: string }).type, 'overloaded_error', "Anthropic's 503 type");

    const streams = s.decisions.filter((d) => d.stream);
    assert.equal(streams.length, 2);
    for (const d of streams) {
      assert.equal(d.errorCode, 'shutting_down');
      assert.equal(s.sidecar.telemetry.decisionRecord(d).outcome, 'shutting_down');
    }
    const metrics = await s.sidecar.metrics.registry.metrics();
    const outcomes = metrics.split('\n').filter((l) => l.startsWith('turnout_requests_total{'));
    assert.ok(
      outcomes.some((l) => /outcome="shutting_down"\} 2$/.test(l)),
      `requests by outcome:\n${outcomes.join('\n')}`,
    );
    assert.ok(!metrics.includes('upstream_stream_error'));
    assert.match(metrics, /turnout_circuit_breaker_state\{provider="[^"]*primary",state="closed"\} 1/);

    const spans = s.exporter.getFinishedSpans();
    const calls = spans.filter((x) => x.kind === SpanKind.SERVER);
    const attempts = spans.filter((x) => x.kind === SpanKind.CLIENT);
    assert.equal(calls.length, 2);
    assert.equal(attempts.length, 2, 'one attempt per call: a committed stream is not retried');
    for (const span of [...calls, ...attempts]) {
      const label = `${span.kind === SpanKind.SERVER ? 'call' : 'attempt'} span ${span.name}`;
      assert.equal(span.attributes['error.type'], 'shutting_down', label);
      assert.equal(span.status.code, SpanStatusCode.ERROR, label);
      assert.match(String(span.status.message), /shutting down.*drain window/, label);
    }
  });
});

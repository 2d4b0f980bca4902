// The span tree of a call, read from an in-memory exporter: a SERVER span per call continuing the
// caller's traceparent, a CLIENT span per upstream attempt, GenAI attributes and turnout.* decisions;
// and the traceparent each upstream attempt is sent.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AlwaysOffSampler, ParentBasedSampler, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { loadConfigDir } from '../../cli/config-dir.ts';
import { startSidecar } from '../../sidecar/index.ts';
import type { FakeProvider } from '../fakes/index.ts';
import { configDir } from '../helpers/turnout-process.ts';
import { chat } from './harness.ts';
import { providersYaml } from './manifests.ts';
import { callTree, inProcessSidecar, traceparent, type InProcess } from './telemetry-harness.ts';

let s: InProcess;
before(async () => {
  s = await inProcessSidecar();
});
after(() => s.close());
beforeEach(() => {
  s.primary.reset();
  s.secondary.reset();
  s.exporter.reset();
  s.decisions.length = 0;
});

const policy = (routeExtra = '', policyExtra = '') => `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: t }
spec:
  routes:
    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      fallbacks: [{ provider: secondary, model: backup-model }]
${routeExtra}
${policyExtra}`;

async function load(routeExtra = '', policyExtra = '', primaryExtra?: string) {
  await s.load({
    'p.yaml': providersYaml(s.primary.url, s.secondary.url, primaryExtra),
    'r.yaml': policy(routeExtra, policyExtra),
  });
}

async function traced(body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const tp = traceparent();
  const res = await chat(s.url, body, { traceparent: tp.header, ...headers });
  const text = await res.text();
  return { res, text, tp, tree: await callTree(s.exporter, tp.traceId) };
}

const attr = (span: ReadableSpan | undefined, key: string) => span?.attributes[key];

/**
 * Waits until `x` has recorded `n` decisions — a call's spans are recorded just before its decision —
 * then flushes the exporter: what was not exported by then never will be.
 */
async function recorded(x: InProcess, n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    x.sidecar.settle();
    if (x.decisions.length >= n) break;
    if (Date.now() > deadline) throw new Error(`${x.decisions.length} of ${n} decisions recorded`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await x.sidecar.telemetry.forceFlush();
}

describe('call and attempt spans', () => {
  it('success: one SERVER span continuing the traceparent, one CLIENT attempt span, GenAI and turnout attributes', async () => {
    await load();
    const { res, tp, tree } = await traced();
    assert.equal(res.status, 200);
    const { call, attempts } = tree;
    assert.equal(call.name, 'chat smart');
    assert.equal(call.kind, SpanKind.SERVER);
    assert.equal(call.parentSpanContext?.spanId, tp.parentId, 'continues the caller trace');
    assert.equal(call.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(
      {
        op: attr(call, 'gen_ai.operation.name'),
        requested: attr(call, 'gen_ai.request.model'),
        provider: attr(call, 'gen_ai.provider.name'),
        response: attr(call, 'gen_ai.response.model'),
        finish: attr(call, 'gen_ai.response.finish_reasons'),
        stream: attr(call, 'gen_ai.request.stream'),
        status: attr(call, 'http.response.status_code'),
        policy: attr(call, 'turnout.policy'),
        namespace: attr(call, 'turnout.policy.namespace'),
        route: attr(call, 'turnout.route'),
        strategy: attr(call, 'turnout.strategy'),
        candidates: attr(call, 'turnout.candidates'),
        outcome: attr(call, 'turnout.outcome'),
        attempts: attr(call, 'turnout.attempts'),
        cacheHit: attr(call, 'turnout.cache.hit'),
        providerResource: attr(call, 'turnout.provider'),
        api: attr(call, 'turnout.api'),
      },
      {
        op: 'chat',
        requested: 'smart',
        provider: 'openai',
        response: 'gpt-4o',
        finish: ['stop'],
        stream: false,
        status: 200,
        policy: 'app',
        namespace: 't',
        route: 'smart',
        strategy: 'priority',
        candidates: ['primary/gpt-4o', 'secondary/backup-model'],
        outcome: 'ok',
        attempts: 1,
        cacheHit: undefined,
        providerResource: 'primary',
        api: 'openai.chat',
      },
    );
    assert.ok(Number(attr(call, 'gen_ai.usage.input_tokens')) > 0);
    assert.ok(Number(attr(call, 'gen_ai.usage.output_tokens')) > 0);
    assert.ok(Number(attr(call, 'turnout.cost_usd')) > 0);
    assert.equal(typeof attr(call, 'turnout.policy.generation'), 'number');
    assert.match(String(attr(call, 'turnout.snapshot.version')), /^sha256:/);
    assert.equal(attr(call, 'gen_ai.input.messages'), undefined, 'no content unless enabled');

    assert.equal(attempts.length, 1);
    const [a] = attempts;
    assert.equal(a?.name, 'chat gpt-4o');
    assert.equal(a?.kind, SpanKind.CLIENT);
    assert.equal(attr(a, 'gen_ai.provider.name'), 'openai');
    assert.equal(attr(a, 'gen_ai.request.model'), 'gpt-4o');
    assert.equal(attr(a, 'gen_ai.response.model'), 'gpt-4o');
    assert.equal(attr(a, 'turnout.attempt.number'), 1);
    assert.equal(attr(a, 'turnout.attempt.outcome'), 'ok');
    assert.equal(attr(a, 'http.response.status_code'), 200);
    assert.equal(attr(a, 'server.address'), '127.0.0.1');
    assert.equal(attr(a, 'server.port'), s.primary.port);
    assert.ok(Number(attr(a, 'gen_ai.usage.input_tokens')) > 0);
    assert.equal(a?.status.code, SpanStatusCode.UNSET);
    assert.ok(spanWithin(a, call), 'the attempt lies inside the call');
    const d = s.decisions.at(-1);
    assert.equal(d?.traceId, tp.traceId, 'the decision log carries the trace');
    assert.equal(d?.spanId, call.spanContext().spanId);
  });

  it('failover: a failed attempt span with its failure class, then the fallback that answered', async () => {
    await load();
    s.primary.onNext({ kind: 'status', status: 503 });
    const { res, tree } = await traced();
    assert.equal(res.status, 200);
    const { call, attempts } = tree;
    assert.equal(attempts.length, 2);
    const [failed, served] = attempts;
    assert.equal(attr(failed, 'turnout.attempt.outcome'), 'server-error');
    assert.equal(attr(failed, 'turnout.failure_class'), 'server-error');
    assert.equal(attr(failed, 'error.type'), 'server-error');
    assert.equal(attr(failed, 'http.response.status_code'), 503);
    assert.equal(failed?.status.code, SpanStatusCode.ERROR);
    assert.equal(attr(served, 'turnout.attempt.number'), 2);
    assert.equal(attr(served, 'turnout.fallback'), true);
    assert.equal(attr(served, 'gen_ai.provider.name'), 'openai_compatible');
    assert.equal(attr(served, 'turnout.provider'), 'secondary');
    assert.equal(served?.status.code, SpanStatusCode.UNSET);
    assert.ok(hrMs(served?.startTime) >= hrMs(failed?.endTime) - 0.01, 'attempts in order');
    assert.equal(attr(call, 'turnout.provider'), 'secondary');
    assert.equal(attr(call, 'turnout.attempts'), 2);
    assert.equal(attr(call, 'turnout.outcome'), 'ok');
    assert.equal(call.status.code, SpanStatusCode.UNSET);
  });

  it('retry after backoff: the attempt of a new round carries the delay it waited', async () => {
    await s.load({
      'p.yaml': providersYaml(s.primary.url, s.secondary.url),
      'r.yaml': `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: t }
spec:
  routes:
    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      retry: { attempts: 1, backoff: { base: 20ms, max: 20ms } }`,
    });
    s.primary.onNext({ kind: 'status', status: 500 });
    const { res, tree } = await traced();
    assert.equal(res.status, 200);
    const [first, second] = tree.attempts;
    assert.equal(attr(first, 'turnout.retry.delay_ms'), undefined);
    assert.ok(Number(attr(second, 'turnout.retry.delay_ms')) >= 10);
  });

  it('budget rejection: the call span alone, an error with the budget named, no attempt spans', async () => {
    await load(
      '',
      '  budgets:\n    - { name: tiny, limitUSD: 0.000001, window: day, scope: policy, action: reject }',
    );
    const { res, tree } = await traced({ max_tokens: 1000 });
    assert.equal(res.status, 429);
    const { call, attempts } = tree;
    assert.equal(attempts.length, 0);
    assert.equal(call.status.code, SpanStatusCode.ERROR);
    assert.match(call.status.message ?? '', /budget "tiny"/);
    assert.equal(attr(call, 'error.type'), 'budget_exceeded');
    assert.equal(attr(call, 'turnout.outcome'), 'budget_exceeded');
    assert.equal(attr(call, 'http.response.status_code'), 429);
    assert.equal(s.primary.count + s.secondary.count, 0);
  });

  it('cache hit: the call span says so, no attempt spans, no tokens billed', async () => {
    await load('      cache: { ttl: 1m, maxEntries: 10 }');
    const body = { messages: [{ role: 'user', content: 'cache me' }] };
    const first = await traced(body);
    assert.equal(attr(first.tree.call, 'turnout.cache.hit'), undefined, 'set only on hits');
    const { res, tree } = await traced(body);
    assert.equal(res.headers.get('x-turnout-cache'), 'hit');
    assert.equal(tree.attempts.length, 0);
    assert.equal(attr(tree.call, 'turnout.cache.hit'), true);
    assert.equal(attr(tree.call, 'turnout.outcome'), 'cache_hit');
    assert.equal(attr(tree.call, 'turnout.cost_usd'), 0);
    assert.equal(attr(tree.call, 'gen_ai.usage.input_tokens'), undefined);
    assert.equal(attr(tree.call, 'gen_ai.response.model'), 'gpt-4o');
  });

  it('cut stream: the attempt span and the call span are errors; time to first chunk recorded', async () => {
    await load();
    s.primary.onNext({ kind: 'cut-stream', afterChunks: 2 });
    const { res, text, tree } = await traced({ stream: true });
    assert.equal(res.status, 200);
    assert.match(text, /upstream_stream_error/);
    const { call, attempts } = tree;
    assert.equal(attempts.length, 1, 'a committed stream is not retried');
    const [a] = attempts;
    assert.equal(a?.status.code, SpanStatusCode.ERROR);
    assert.equal(attr(a, 'error.type'), 'upstream_stream_error');
    assert.match(String(attr(a, 'turnout.stream.error')), /./);
    assert.ok(Number(attr(a, 'gen_ai.response.time_to_first_chunk')) >= 0);
    assert.ok(a?.events.some((e) => e.name === 'turnout.first_chunk'));
    assert.equal(call.status.code, SpanStatusCode.ERROR);
    assert.equal(attr(call, 'error.type'), 'upstream_stream_error');
    assert.equal(attr(call, 'gen_ai.request.stream'), true);
    assert.ok(Number(attr(call, 'gen_ai.response.time_to_first_chunk')) >= 0);
  });

  it('a caller who leaves mid-stream: outcome caller_disconnected, not an upstream stream error', async () => {
    await load();
    s.primary.onNext({ kind: 'ok', content: 'a b c d e f g h', chunks: 8, chunkDelayMs: 200 });
    const tp = traceparent();
    const controller = new AbortController();
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', traceparent: tp.header },
      body: JSON.stringify({ model: 'smart', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    await res.body?.getReader().read(); // the answer has started
    controller.abort();
    await recorded(s, 1);
    const d = s.decisions.at(-1);
    assert.equal(d?.status, 499);
    assert.equal(d?.errorCode, 'caller_disconnected');
    const { call, attempts } = await callTree(s.exporter, tp.traceId);
    assert.equal(attr(call, 'turnout.outcome'), 'caller_disconnected');
    // The caller's choice, not a failure of the sidecar or the upstream: named, but not an error status.
    assert.equal(call.status.code, SpanStatusCode.UNSET);
    assert.equal(attr(call, 'error.type'), 'caller_disconnected');
    assert.equal(attr(attempts[0], 'error.type'), 'caller_disconnected');
  });

  it('skipped candidates: an open breaker shows as a skip event with its reason', async () => {
    await load('', '', 'circuitBreaker: { consecutiveFailures: 1, openFor: 30s }');
    s.primary.onNext({ kind: 'status', status: 503 });
    await traced(); // trips the breaker, served by the fallback
    const { tree } = await traced();
    const { call, attempts } = tree;
    assert.equal(attempts.length, 1);
    assert.equal(attr(attempts[0], 'turnout.provider'), 'secondary');
    assert.deepEqual(attr(call, 'turnout.skipped.targets'), ['primary/gpt-4o']);
    assert.deepEqual(attr(call, 'turnout.skipped.reasons'), ['breaker-open']);
    const event = call.events.find((e) => e.name === 'turnout.candidate.skipped');
    assert.equal(event?.attributes?.['turnout.skip.reason'], 'breaker-open');
    assert.match(String(event?.attributes?.['turnout.skip.detail']), /^circuit open/);
  });

  it('a request refused before routing still gets a span (unknown model)', async () => {
    await load();
    const tp = traceparent();
    const res = await chat(s.url, { model: 'nope' }, { traceparent: tp.header });
    assert.equal(res.status, 404);
    const { call, attempts } = await callTree(s.exporter, tp.traceId);
    assert.equal(attempts.length, 0);
    assert.equal(attr(call, 'error.type'), 'model_not_found');
    assert.equal(call.parentSpanContext?.spanId, tp.parentId);
  });

  it('honours the caller sampling decision: a not-sampled traceparent records nothing', async () => {
    await load();
    const tp = traceparent(false);
    const res = await chat(s.url, {}, { traceparent: tp.header });
    assert.equal(res.status, 200);
    await res.text();
    await recorded(s, 1);
    assert.equal(
      s.exporter.getFinishedSpans().filter((x) => x.spanContext().traceId === tp.traceId).length,
      0,
    );
    assert.equal(s.decisions.at(-1)?.traceId, undefined);
  });
});

describe('trace context sent upstream', () => {
  const sentTraceparent = (f: FakeProvider) => f.requests.at(-1)?.headers.traceparent;

  it('each upstream attempt is sent its own CLIENT span as W3C traceparent, with the caller tracestate', async () => {
    await load();
    s.primary.onNext({ kind: 'status', status: 503 });
    const { res, tp, tree } = await traced({}, { tracestate: 'vendor=abc,other=1' });
    assert.equal(res.status, 200);
    const [failed, served] = tree.attempts;
    assert.ok(failed && served, 'two attempt spans');
    assert.equal(sentTraceparent(s.primary), `00-${tp.traceId}-${failed.spanContext().spanId}-01`);
    assert.equal(sentTraceparent(s.secondary), `00-${tp.traceId}-${served.spanContext().spanId}-01`);
    assert.equal(s.primary.requests.at(-1)?.headers.tracestate, 'vendor=abc,other=1');
    assert.equal(s.secondary.requests.at(-1)?.headers.tracestate, 'vendor=abc,other=1');
    assert.notEqual(failed.spanContext().spanId, served.spanContext().spanId);
  });

  it('a call without a parent starts a trace, and its upstream is sent that trace', async () => {
    await load();
    const res = await chat(s.url);
    assert.equal(res.status, 200);
    await res.text();
    await recorded(s, 1);
    const traceId = s.decisions.at(-1)?.traceId;
    assert.ok(traceId, 'the call was sampled');
    const { attempts } = await callTree(s.exporter, traceId);
    assert.equal(sentTraceparent(s.primary), `00-${traceId}-${attempts[0]?.spanContext().spanId}-01`);
  });

  it('a call that is not sampled sends no traceparent upstream, not even the caller one', async () => {
    await load();
    const tp = traceparent(false);
    const res = await chat(s.url, {}, { traceparent: tp.header });
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(s.primary.count, 1);
    assert.equal(sentTraceparent(s.primary), undefined);
  });

  it('with tracing off, upstreams get no traceparent', async () => {
    const untraced = await startSidecar({ port: 0, telemetry: { env: {} } });
    const dir = await configDir({
      'p.yaml': providersYaml(s.primary.url, s.secondary.url),
      'r.yaml': policy(),
    });
    try {
      const loaded = await loadConfigDir(dir.dir, { labels: 'all' });
      assert.ok(loaded.snapshot);
      untraced.store.load(loaded.snapshot);
      assert.equal(untraced.telemetry.tracer, undefined, 'tracing is off');
      const res = await chat(untraced.url, {}, { traceparent: traceparent().header });
      assert.equal(res.status, 200);
      await res.text();
      assert.equal(s.primary.count, 1);
      assert.equal(sentTraceparent(s.primary), undefined);
    } finally {
      await untraced.close();
      await dir.remove();
    }
  });
});

describe('sampling and content', () => {
  it('a sampler that samples nothing records no span', async () => {
    const off = await inProcessSidecar({ sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) });
    try {
      await off.load({ 'p.yaml': providersYaml(off.primary.url, off.secondary.url), 'r.yaml': policy() });
      const res = await chat(off.url);
      assert.equal(res.status, 200);
      await res.text();
      await recorded(off, 1);
      assert.equal(off.decisions.length, 1, 'the call was recorded');
      assert.equal(off.exporter.getFinishedSpans().length, 0);
    } finally {
      await off.close();
    }
  });

  it('content capture, when switched on, puts prompt and completion on the call span', async () => {
    const on = await inProcessSidecar({ captureContent: true });
    try {
      await on.load({ 'p.yaml': providersYaml(on.primary.url, on.secondary.url), 'r.yaml': policy() });
      const tp = traceparent();
      const messages = [{ role: 'user', content: 'what is turnout?' }];
      assert.equal((await chat(on.url, { messages }, { traceparent: tp.header })).status, 200);
      const { call } = await callTree(on.exporter, tp.traceId);
      const input = JSON.parse(String(attr(call, 'gen_ai.input.messages'))) as unknown;
      assert.deepEqual(input, [{ role: 'user', parts: [{ type: 'text', content: 'what is turnout?' }] }]);
      const output = JSON.parse(String(attr(call, 'gen_ai.output.messages'))) as {
        role: string;
        parts: { content: string }[];
      }[];
      assert.equal(output[0]?.role, 'assistant');
      assert.match(output[0]?.parts[0]?.content ?? '', /what is turnout\?/, 'the fake echoes the prompt');
      const streamed = traceparent();
      await (await chat(on.url, { messages, stream: true }, { traceparent: streamed.header })).text();
      const stream = await callTree(on.exporter, streamed.traceId);
      assert.match(String(attr(stream.call, 'gen_ai.output.messages')), /what is turnout\?/);
    } finally {
      await on.close();
    }
  });
});

const hrMs = (t: [number, number] | undefined) => (t ? t[0] * 1000 + t[1] / 1e6 : Number.NaN);

function spanWithin(inner: ReadableSpan | undefined, outer: ReadableSpan): boolean {
  return (
    inner !== undefined &&
    hrMs(inner.startTime) >= hrMs(outer.startTime) - 0.01 &&
    hrMs(inner.endTime) <= hrMs(outer.endTime) + 0.01
  );
}

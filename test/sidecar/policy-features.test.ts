// Breakers, limits, budgets, cache, affinity and latency-aware routing, through a real turnout dev
// process to fake upstreams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repeatStep } from '../helpers/fake-upstreams.ts';
import * as manifest from '../helpers/manifests.ts';
import { chat, errorOf, sharedHarness } from './harness.ts';
import { providersYaml } from './manifests.ts';

const h = sharedHarness();

const providers = (primaryExtra: string) => providersYaml(h.primary.url, h.secondary.url, primaryExtra);
const fallbackRoute = (more = '') => `    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      fallbacks: [{ provider: secondary, model: backup-model }]
${more}`;

describe('circuit breaker', () => {
  it('opens after consecutive failures, skips the provider while open, and probes it again after openFor', async () => {
    const t = await h.run({
      'p.yaml': providers('circuitBreaker: { consecutiveFailures: 2, openFor: 1s }'),
      'r.yaml': manifest.routingPolicy(fallbackRoute()),
    });
    h.primary.script(repeatStep({ kind: 'status', status: 503 }, 2));
    for (let i = 0; i < 2; i++)
      assert.equal((await chat(t.url)).headers.get('x-turnout-provider'), 'secondary');
    assert.equal(h.primary.count, 2);
    const skipped = await chat(t.url);
    assert.equal(skipped.headers.get('x-turnout-provider'), 'secondary');
    assert.equal(skipped.headers.get('x-turnout-attempts'), '1', 'the open provider was not attempted');
    assert.equal(h.primary.count, 2, 'no request reached the open provider');
    await t.waitForLine(/skipped\[primary\/gpt-4o: circuit open/);
    await new Promise((r) => setTimeout(r, 1100));
    const probe = await chat(t.url);
    assert.equal(
      probe.headers.get('x-turnout-provider'),
      'primary',
      'half-open probe succeeded and closed it',
    );
    assert.equal(h.primary.count, 3);
  });

  it('is not tripped by 4xx answers other than 429', async () => {
    const t = await h.run({
      'p.yaml': providers('circuitBreaker: { consecutiveFailures: 2, openFor: 30s }'),
      'r.yaml': manifest.routingPolicy(fallbackRoute()),
    });
    h.primary.script(repeatStep({ kind: 'status', status: 400 }, 3));
    for (let i = 0; i < 3; i++) assert.equal((await chat(t.url)).status, 400);
    assert.equal((await chat(t.url)).headers.get('x-turnout-provider'), 'primary');
  });
});

describe('budgets', () => {
  // max_tokens 1000 at $10/1M output → each call reserves ≈ $0.010005; $0.0501 affords exactly 5.
  const budgeted = (action: string) =>
    manifest.routingPolicy(
      fallbackRoute() +
        `    - name: cheap
      match: { model: ["cheap"] }
      targets: [{ provider: secondary, model: backup-model }]`,
      `  budgets:\n    - { name: daily, limitUSD: 0.0501, window: day, scope: policy, action: "${action}" }`,
    );

  it('20 concurrent calls cannot overspend a budget that affords 5', async () => {
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': budgeted('reject') });
    h.primary.setDefault({ kind: 'ok', delayMs: 300 });
    const results = await Promise.all(Array.from({ length: 20 }, () => chat(t.url, { max_tokens: 1000 })));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(ok.length, 5);
    assert.equal(refused.length, 15);
    const err = await errorOf(refused[0] as Response);
    assert.equal(err.code, 'budget_exceeded');
    // Refused by the five reservations in flight, not by spend: worth retrying in a second.
    assert.match(err.message, /budget "daily" of policy app is reserved by calls in flight: .* per day/);
    assert.equal(refused[0]?.headers.get('retry-after'), '1');
    assert.equal(h.primary.count + h.secondary.count, 5, 'refused calls never reached an upstream');
  });

  it('action route:<name> sends calls over budget to that route instead', async () => {
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': budgeted('route:cheap') });
    h.primary.setDefault({ kind: 'ok', delayMs: 300 });
    const results = await Promise.all(Array.from({ length: 8 }, () => chat(t.url, { max_tokens: 1000 })));
    assert.ok(results.every((r) => r.status === 200));
    const routes = results.map((r) => r.headers.get('x-turnout-route'));
    assert.equal(routes.filter((r) => r === 'smart').length, 5);
    assert.equal(routes.filter((r) => r === 'cheap').length, 3);
  });
});

describe('rate limits', () => {
  it('limits requests per minute per header scope, others unaffected', async () => {
    const t = await h.run({
      'p.yaml': providers(''),
      'r.yaml': manifest.routingPolicy(
        fallbackRoute(),
        '  rateLimits:\n    - { scope: "header:x-user-id", requestsPerMinute: 3 }',
      ),
    });
    for (let i = 0; i < 3; i++) assert.equal((await chat(t.url, {}, { 'x-user-id': 'alice' })).status, 200);
    const limited = await chat(t.url, {}, { 'x-user-id': 'alice' });
    assert.equal(limited.status, 429);
    assert.equal((await errorOf(limited)).code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await chat(t.url, {}, { 'x-user-id': 'bob' })).status, 200);
  });

  it('a provider at maxConcurrent sends the overflow to the fallback', async () => {
    const t = await h.run({
      'p.yaml': providers('limits: { maxConcurrent: 1 }'),
      'r.yaml': manifest.routingPolicy(fallbackRoute()),
    });
    h.primary.setDefault({ kind: 'ok', delayMs: 300 });
    const [a, b] = await Promise.all([chat(t.url), chat(t.url)]);
    assert.deepEqual([a?.headers.get('x-turnout-provider'), b?.headers.get('x-turnout-provider')].sort(), [
      'primary',
      'secondary',
    ]);
  });
});

describe('response cache', () => {
  const cachedPolicy = () =>
    manifest.routingPolicy(fallbackRoute('      cache: { ttl: 1m, maxEntries: 100 }'));

  it('answers a repeated request from the cache, stream included, without calling upstream', async () => {
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': cachedPolicy() });
    const first = await chat(t.url, { messages: [{ role: 'user', content: 'cache me' }] });
    const firstBody = await first.text();
    const second = await chat(t.url, { messages: [{ role: 'user', content: 'cache me' }] });
    assert.equal(second.headers.get('x-turnout-cache'), 'hit');
    assert.equal(await second.text(), firstBody);
    assert.equal(h.primary.count, 1);
    const s1 = await (
      await chat(t.url, { stream: true, messages: [{ role: 'user', content: 'stream me' }] })
    ).text();
    const s2res = await chat(t.url, { stream: true, messages: [{ role: 'user', content: 'stream me' }] });
    assert.equal(s2res.headers.get('x-turnout-cache'), 'hit');
    assert.equal(await s2res.text(), s1);
    assert.match(s1, /data: \[DONE\]/);
    assert.equal(h.primary.count, 2);
    const bypass = await chat(
      t.url,
      { messages: [{ role: 'user', content: 'cache me' }] },
      { 'x-turnout-cache': 'no-store' },
    );
    assert.equal(bypass.headers.get('x-turnout-cache'), null);
    assert.equal(h.primary.count, 3);
  });

  it('never caches a failed or cut answer', async () => {
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': cachedPolicy() });
    h.primary.onNext({ kind: 'cut-stream', afterChunks: 1 });
    const cut = await (
      await chat(t.url, { stream: true, messages: [{ role: 'user', content: 'cut' }] })
    ).text();
    assert.match(cut, /upstream_stream_error/);
    const again = await chat(t.url, { stream: true, messages: [{ role: 'user', content: 'cut' }] });
    assert.equal(again.headers.get('x-turnout-cache'), null);
  });
});

describe('routing by session and latency', () => {
  it('keeps a session on the target that first served it', async () => {
    const route = `    - name: smart
      match: { model: ["smart"] }
      strategy: weighted
      targets: [{ provider: primary, model: gpt-4o, weight: 50 }, { provider: secondary, model: backup-model, weight: 50 }]
      affinity: { header: x-session-id, ttl: 10m }`;
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': manifest.routingPolicy(route) });
    for (const session of ['s1', 's2', 's3', 's4']) {
      const first = (await chat(t.url, {}, { 'x-session-id': session })).headers.get('x-turnout-provider');
      for (let i = 0; i < 6; i++) {
        assert.equal(
          (await chat(t.url, {}, { 'x-session-id': session })).headers.get('x-turnout-provider'),
          first,
          session,
        );
      }
    }
  });

  it('least-latency moves traffic to the faster target', async () => {
    const route = `    - name: smart
      match: { model: ["smart"] }
      strategy: least-latency
      targets: [{ provider: primary, model: gpt-4o }, { provider: secondary, model: backup-model }]`;
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': manifest.routingPolicy(route) });
    h.primary.delayAll(80);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const p = (await chat(t.url)).headers.get('x-turnout-provider') ?? '';
      counts[p] = (counts[p] ?? 0) + 1;
    }
    assert.ok((counts.secondary ?? 0) >= 30, JSON.stringify(counts));
    assert.ok((counts.primary ?? 0) >= 1, 'the slower target was measured at least once');
  });

  it('skips a target whose context window is too small for the request', async () => {
    const t = await h.run({
      'p.yaml': providers('').replace(
        'pricing: { input: 2.5, output: 10 }, capabilities',
        'pricing: { input: 2.5, output: 10 }, contextWindow: 100, capabilities',
      ),
      'r.yaml': manifest.routingPolicy(fallbackRoute()),
    });
    const res = await chat(t.url, { messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
    assert.equal(res.headers.get('x-turnout-provider'), 'secondary');
    assert.equal(h.primary.count, 0);
    await t.waitForLine(/primary\/gpt-4o: context window: the request needs ~500 tokens, the model has 100/);
  });
});

describe('shadow traffic', () => {
  it('mirrors the configured share to the shadow target, never returns it, never slows the caller', async () => {
    const route = `    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      shadow: { provider: secondary, model: backup-model, percent: 100 }`;
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': manifest.routingPolicy(route) });
    h.secondary.setDefault({ kind: 'ok', delayMs: 1500, content: 'shadow answer' });
    const started = Date.now();
    const res = await chat(t.url, { stream: true });
    const text = await res.text();
    assert.ok(Date.now() - started < 1000, 'the caller did not wait for the slow shadow');
    assert.equal(res.headers.get('x-turnout-provider'), 'primary');
    assert.doesNotMatch(text, /shadow answer/);
    const copy = await h.secondary.waitFor(() => true, 3000);
    assert.equal(copy.stream, false, 'the copy is sent non-streaming');
    assert.equal(copy.model, 'backup-model');
    await t.waitForLine(/route=app\/smart \(shadow\) secondary\/backup-model ✓200/, 5000);
  });

  it('percent 0 sends nothing', async () => {
    const route = `    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      shadow: { provider: secondary, model: backup-model, percent: 0 }`;
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': manifest.routingPolicy(route) });
    for (let i = 0; i < 5; i++) await chat(t.url);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.secondary.count, 0);
  });
});

describe('cascade', () => {
  const cascade = (accept: string) =>
    manifest.routingPolicy(`    - name: smart
      match: { model: ["smart"] }
      strategy: cascade
      targets: [{ provider: primary, model: gpt-4o }, { provider: secondary, model: backup-model }]
      cascade: { accept: ${accept} }`);

  it('asks the cheapest target first and escalates when its answer fails the JSON schema', async () => {
    const t = await h.run({
      'p.yaml': providers(''),
      'r.yaml': cascade(
        '{ jsonSchema: { type: object, required: [answer], properties: { answer: { type: number } } } }',
      ),
    });
    h.secondary.onNext({ kind: 'ok', content: 'not json at all' });
    h.primary.onNext({ kind: 'ok', content: '{"answer": 42}' });
    const res = await chat(t.url);
    assert.equal(res.headers.get('x-turnout-provider'), 'primary');
    assert.equal(res.headers.get('x-turnout-attempts'), '2');
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]?.message.content, '{"answer": 42}');
    await t.waitForLine(/secondary\/backup-model ✗rejected → primary\/gpt-4o ✓200/);
  });

  it('never streams a rejected answer: the caller sees only the accepted one', async () => {
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': cascade('{ minOutputTokens: 20 }') });
    h.secondary.onNext({ kind: 'ok', content: 'too short', chunks: 2, usage: { completionTokens: 3 } });
    h.primary.onNext({
      kind: 'ok',
      content: 'a long enough answer from the stronger model',
      chunks: 4,
      usage: { completionTokens: 30 },
    });
    const raw = await (await chat(t.url, { stream: true })).text();
    const text = raw
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map(
        (l) =>
          (JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta
            .content ?? '',
      )
      .join('');
    assert.equal(text, 'a long enough answer from the stronger model');
    assert.match(raw, /\[DONE\]/);
  });

  it('when no answer is acceptable: 502 no_acceptable_answer, nothing unacceptable returned', async () => {
    const t = await h.run({ 'p.yaml': providers(''), 'r.yaml': cascade('{ finishReasons: [stop] }') });
    h.secondary.onNext({ kind: 'ok', content: 'cut', finishReason: 'length' });
    h.primary.onNext({ kind: 'ok', content: 'cut too', finishReason: 'length' });
    const res = await chat(t.url);
    assert.equal(res.status, 502);
    const err = await errorOf(res);
    assert.equal(err.code, 'no_acceptable_answer');
    assert.match(err.message, /finish reason length is not one of stop/);
  });
});

describe('compliance constraints', () => {
  it('providerTags are hard: a failing compliant target is never replaced by a non-compliant one', async () => {
    const route = `    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      fallbacks: [{ provider: secondary, model: backup-model }]
      constraints: { providerTags: { hipaa: "true" } }`;
    const t = await h.run({
      'p.yaml': providers('tags: { hipaa: "true" }\n  circuitBreaker: { consecutiveFailures: 1000 }'),
      'r.yaml': manifest.routingPolicy(route),
    });
    assert.equal((await chat(t.url)).headers.get('x-turnout-provider'), 'primary');
    h.primary.onNext({ kind: 'status', status: 503 });
    const res = await chat(t.url);
    assert.equal(res.status, 502);
    assert.equal(h.secondary.count, 0, 'the untagged provider never saw the request');
    await t.waitForLine(/skipped\[secondary\/backup-model: constraint: provider tags do not match\]/);
  });
});

// Credentials never leave in what Turnout writes: every path (success, stream, failover, refusal passed
// through, all targets failing, budget, rate limit, cache, cut stream, timeout, connection reset, an
// Anthropic caller, a prompt holding a key with content capture on) is driven with known fake keys that
// upstreams echo back, and then the decision log, spans, metrics and error bodies are scanned for them.
// One key looks like a provider key (sk-…); the other does not, so only the exact-secret net catches it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decisionLine } from '../../cli/decision-line.ts';
import { configDir, startTurnout } from '../helpers/turnout-process.ts';
import { inProcessSidecar, type InProcess } from './telemetry-harness.ts';

const KEY_SHAPED = 'sk-turnout-canary-5f0c2d9e7a1b4c38';
const KEY_PLAIN = 'canary-7f3a9c2e5b1d4f60aa';
const KEYS = [KEY_SHAPED, KEY_PLAIN];

const providers = (primaryUrl: string, secondaryUrl: string) => `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: t }
stringData: { primary: ${KEY_SHAPED}, secondary: ${KEY_PLAIN} }
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: primary, namespace: t }
spec:
  type: openai
  endpoint: ${primaryUrl}
  auth: { secretRef: { name: keys, key: primary } }
  circuitBreaker: { consecutiveFailures: 1000 }
  timeouts: { total: 300ms, firstToken: 300ms }
  models: [{ name: gpt-4o, pricing: { input: 2.5, output: 10 } }]
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: secondary, namespace: t }
spec:
  type: openai-compatible
  endpoint: ${secondaryUrl}
  auth: { secretRef: { name: keys, key: secondary } }
  circuitBreaker: { consecutiveFailures: 1000 }
  models: [{ name: backup-model, pricing: { input: 0.1, output: 0.2 } }]
`;

const policy = `
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: app, namespace: t }
spec:
  routes:
    - name: smart
      match: { model: ["smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
      fallbacks: [{ provider: secondary, model: backup-model }]
      cache: { ttl: 1m, maxEntries: 10 }
    - name: solo
      match: { model: ["solo"] }
      targets: [{ provider: primary, model: gpt-4o }]
    - name: broke
      match: { model: ["broke"] }
      targets: [{ provider: primary, model: gpt-4o }]
  rateLimits:
    - { scope: "header:x-user", requestsPerMinute: 1 }
  budgets:
    - { name: tenant, limitUSD: 0.000001, window: day, scope: "header:x-tenant", action: reject }
`;

/** An upstream error that quotes the key it was sent, as a misbehaving upstream or proxy might. */
const echo = (status: number, key: string) => ({
  kind: 'status' as const,
  status,
  message: `invalid credentials: ${key} (Authorization: Bearer ${key})`,
});

interface Seen {
  label: string;
  text: string;
}

/** Drives every path against `url`; returns what came back to the caller (statuses, headers, bodies). */
async function driveEveryPath(
  url: string,
  s: Pick<InProcess, 'primary' | 'secondary'>,
  anthropicUrl = `${url}/v1/messages`,
): Promise<Seen[]> {
  const seen: Seen[] = [];
  const send = async (label: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hi' }], ...body }),
    });
    const text = await res.text();
    const headerText = JSON.stringify([...res.headers]);
    // Success bodies are the model's answer (the fake echoes the prompt); only error bodies are Turnout's words.
    seen.push({ label, text: res.status >= 400 || /error/.test(text) ? text + headerText : headerText });
    return res.status;
  };
  const { primary, secondary } = s;
  assert.equal(await send('success', {}), 200);
  assert.equal(await send('stream', { stream: true }), 200);
  primary.onNext(echo(500, KEY_SHAPED));
  assert.equal(await send('failover', { messages: [{ role: 'user', content: 'failover' }] }), 200);
  primary.onNext(echo(401, KEY_SHAPED));
  assert.equal(await send('refused as is', { model: 'solo' }), 401);
  primary.onNext(echo(503, KEY_SHAPED));
  secondary.onNext(echo(503, KEY_PLAIN));
  assert.equal(await send('all failed', { messages: [{ role: 'user', content: 'all fail' }] }), 502);
  // Distinct prompts: the route caches, and a cache hit is answered before budgets and limits.
  const fresh = (content: string) => ({ messages: [{ role: 'user', content }] });
  assert.equal(await send('budget', fresh('budget'), { 'x-tenant': 'acme' }), 429);
  assert.equal(await send('rate limit 1', fresh('rate 1'), { 'x-user': 'u1' }), 200);
  assert.equal(await send('rate limit 2', fresh('rate 2'), { 'x-user': 'u1' }), 429);
  assert.equal(await send('cache hit', {}), 200);
  primary.onNext({ kind: 'cut-stream', afterChunks: 1 });
  assert.equal(await send('cut stream', { stream: true, messages: [{ role: 'user', content: 'cut' }] }), 200);
  primary.onNext({ kind: 'hang' });
  assert.ok([502, 504].includes(await send('timeout', { model: 'broke' })));
  primary.onNext({ kind: 'reset' });
  assert.equal(await send('reset', { model: 'broke' }), 502);
  assert.equal(
    await send('prompt holds keys', { messages: [{ role: 'user', content: `my keys: ${KEYS.join(' ')}` }] }),
    200,
  );
  assert.equal(await send('unknown model', { model: 'nope' }), 404);
  primary.onNext(echo(400, KEY_SHAPED));
  const anth = await fetch(anthropicUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'solo', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
  });
  seen.push({ label: 'anthropic caller, upstream 400', text: await anth.text() });
  assert.equal(anth.status, 400);
  return seen;
}

function assertClean(label: string, text: string): void {
  for (const key of KEYS) assert.ok(!text.includes(key), `${label} leaks ${key}:\n${text.slice(0, 2000)}`);
}

let s: InProcess;
before(async () => {
  s = await inProcessSidecar({ captureContent: true });
  await s.load({ 'p.yaml': providers(s.primary.url, s.secondary.url), 'r.yaml': policy });
});
after(() => s.close());

describe('redaction: no credential in logs, spans, metrics or error bodies', () => {
  it('in-process: decision log, dev lines, every span, /metrics and every error body are clean', async () => {
    const seen = await driveEveryPath(s.url, s);
    // The keys really were in play: upstreams received them, and echoed them where Turnout had to scrub.
    assert.ok(s.primary.requests.some((r) => r.apiKey === KEY_SHAPED));
    assert.ok(s.secondary.requests.some((r) => r.apiKey === KEY_PLAIN));
    assert.match(seen.find((x) => x.label === 'refused as is')?.text ?? '', /\[REDACTED\]/);
    assert.match(seen.find((x) => x.label.startsWith('anthropic'))?.text ?? '', /\[REDACTED\]/);
    for (const x of seen) assertClean(`error body (${x.label})`, x.text);

    await s.sidecar.telemetry.forceFlush();
    const spans = s.exporter.getFinishedSpans();
    assert.ok(spans.length >= 20, `spans recorded (${spans.length})`);
    const withContent = spans.find((sp) =>
      String(sp.attributes['gen_ai.input.messages']).includes('my keys'),
    );
    assert.ok(withContent, 'content capture was on, so the prompt holding the keys is on a span');
    assert.match(String(withContent.attributes['gen_ai.input.messages']), /\[REDACTED\]/);
    for (const sp of spans)
      assertClean(
        `span ${sp.name}`,
        JSON.stringify({
          name: sp.name,
          attributes: sp.attributes,
          events: sp.events,
          status: sp.status,
          resource: sp.resource.attributes,
        }),
      );

    assert.ok(s.decisions.length >= 14);
    for (const d of s.decisions) {
      assertClean('decision log', JSON.stringify(s.sidecar.telemetry.decisionRecord(d)));
      assertClean('dev decision line', s.sidecar.telemetry.redact(decisionLine(d)));
    }
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /gen_ai_client_token_usage/);
    assertClean('/metrics', metrics);
  });

  it('turnout dev --json, content capture on: nothing it prints holds a key', async () => {
    s.primary.reset();
    s.secondary.reset();
    const dir = await configDir({ 'p.yaml': providers(s.primary.url, s.secondary.url), 'r.yaml': policy });
    const t = await startTurnout(['dev', '--config', dir.dir, '--listen', '127.0.0.1:0', '--json'], {
      OTEL_TRACES_EXPORTER: 'console',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
    });
    try {
      await t.waitForLine(/loaded snapshot/);
      const seen = await driveEveryPath(t.url, s);
      for (const x of seen) assertClean(`error body (${x.label})`, x.text);
      await t.waitForLine(/"requestedModel":"nope"|"errorCode":"model_not_found"|"solo"/);
      await new Promise((r) => setTimeout(r, 300));
      const out = t.output();
      assert.match(out, /"outcome":"budget_exceeded"/, 'decision log lines were printed');
      assert.match(out, /gen_ai\.input\.messages/, 'spans (console exporter) were printed');
      assertClean('turnout dev output', out);
    } finally {
      await t.stop();
      await dir.remove();
    }
  });
});

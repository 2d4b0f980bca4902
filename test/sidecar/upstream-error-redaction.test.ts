// Upstream error text that quotes the provider key never reaches the caller: in-band stream errors in
// every pair of caller and upstream dialect, error events and error bodies that spell the key with JSON
// escapes (only the caller's parser would turn them back into it), and non-JSON error pages, which reach
// a same-dialect caller as its own error JSON with a short, redacted excerpt. The key does not look like
// a provider key, so only the exact-secret net of the redactor can catch it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { inProcessSidecar, type InProcess } from './telemetry-harness.ts';

const KEY_PLAIN = 'canary-3d8e1f7a9b2c4e60bb';

function assertClean(label: string, text: string): void {
  assert.ok(!text.includes(KEY_PLAIN), `${label} leaks the key:\n${text.slice(0, 2000)}`);
}

/** An OpenAI and an Anthropic upstream on routes of their own (no fallback: an error must reach the caller). */
const twoDialects = (openAiUrl: string, anthropicUrl: string) => `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: t }
stringData: { plain: ${KEY_PLAIN} }
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: oai, namespace: t }
spec:
  type: openai
  endpoint: ${openAiUrl}
  auth: { secretRef: { name: keys, key: plain } }
  circuitBreaker: { consecutiveFailures: 1000 }
  models: [{ name: gpt-4o }]
---
apiVersion: turnout.dev/v1alpha1
kind: ModelProvider
metadata: { name: claude, namespace: t }
spec:
  type: anthropic
  endpoint: ${anthropicUrl}
  auth: { secretRef: { name: keys, key: plain } }
  circuitBreaker: { consecutiveFailures: 1000 }
  models: [{ name: claude-x }]
---
apiVersion: turnout.dev/v1alpha1
kind: RoutingPolicy
metadata: { name: dialects, namespace: t }
spec:
  routes:
    - { name: openai, match: { model: ["via-openai"] }, targets: [{ provider: oai, model: gpt-4o }] }
    - { name: anthropic, match: { model: ["via-claude"] }, targets: [{ provider: claude, model: claude-x }] }
`;

/** The key as JSON may spell it, every character a \u escape: only a JSON parser turns it back. */
const ESCAPED = [...KEY_PLAIN].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

type Caller = 'openai' | 'anthropic';

async function call(caller: Caller, model: string, stream: boolean) {
  const res = await fetch(`${s.url}/v1/${caller === 'openai' ? 'chat/completions' : 'messages'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** What a caller's JSON parser makes of a body or of every SSE data line: escapes decoded. */
function decoded(text: string): string {
  const datas = text.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]');
  const parse = (json: string): unknown => JSON.parse(json);
  const values = datas.length > 0 ? datas.map((l) => parse(l.slice(6))) : [parse(text)];
  return JSON.stringify(values);
}

let s: InProcess;
let claude: FakeProvider;
before(async () => {
  s = await inProcessSidecar();
  claude = await startFakeProvider({ dialect: 'anthropic' });
  await s.load({ 'p.yaml': twoDialects(s.primary.url, claude.url) });
});
after(async () => {
  await s.close();
  await claude.close();
});

describe('redaction: upstream error text that quotes the key, in both dialects', () => {
  const upstreams = () => ({ openai: s.primary, anthropic: claude });

  for (const upstream of ['openai', 'anthropic'] as const)
    for (const caller of ['openai', 'anthropic'] as const)
      it(`in-band stream error, ${upstream} upstream → ${caller} caller`, async () => {
        const model = upstream === 'openai' ? 'via-openai' : 'via-claude';
        const message = `key ${KEY_PLAIN} revoked`;
        upstreams()[upstream].onNext({ kind: 'stream-error', afterChunks: 1, status: 500, message });
        const r = await call(caller, model, true);
        assert.equal(r.status, 200, 'the answer had started: the error is in-band');
        assert.match(r.text, /"error"/);
        assert.match(r.text, /key \[REDACTED\] revoked/);
        assertClean(`${upstream} → ${caller} stream`, r.text);
      });

  it('in-band error events that JSON-escape the key, passed through in each dialect', async () => {
    s.primary.onNext({
      kind: 'stream-error',
      afterChunks: 1,
      frame: `data: {"error":{"message":"key ${ESCAPED} revoked","type":"server_error"}}\n\n`,
    });
    claude.onNext({
      kind: 'stream-error',
      afterChunks: 1,
      frame: `event: error\ndata: {"type":"error","error":{"type":"api_error","message":"key ${ESCAPED}"}}\n\n`,
    });
    for (const [caller, model] of [
      ['openai', 'via-openai'],
      ['anthropic', 'via-claude'],
    ] as const) {
      const r = await call(caller, model, true);
      assert.equal(r.status, 200);
      assert.match(r.text, /\[REDACTED\]/);
      assertClean(`${caller} stream, decoded`, decoded(r.text));
    }
  });

  it('error bodies that JSON-escape the key, passed through in each dialect', async () => {
    s.primary.onNext({
      kind: 'status',
      status: 401,
      raw: `{"error":{"message":"bad key ${ESCAPED}","type":"invalid_request_error","code":"invalid_api_key"}}`,
    });
    claude.onNext({
      kind: 'status',
      status: 401,
      raw: `{"type":"error","error":{"type":"authentication_error","message":"bad key ${ESCAPED}"}}`,
    });
    for (const [caller, model] of [
      ['openai', 'via-openai'],
      ['anthropic', 'via-claude'],
    ] as const) {
      const r = await call(caller, model, false);
      assert.equal(r.status, 401);
      assert.match(r.text, /bad key \[REDACTED\]/);
      assertClean(`${caller} error body, decoded`, decoded(r.text));
    }
  });

  it("a non-JSON error (a proxy's HTML page) reaches a same-dialect caller as its error JSON, excerpted", async () => {
    const page = `<html>\n<body><h1>403 Forbidden</h1> blocked (key ${KEY_PLAIN})${' '.repeat(50)}${'.'.repeat(5000)}</body></html>`;
    const html = {
      kind: 'status',
      status: 403,
      raw: page,
      headers: { 'content-type': 'text/html' },
    } as const;
    s.primary.onNext(html);
    claude.onNext(html);
    const openai = await call('openai', 'via-openai', false);
    const anthropic = await call('anthropic', 'via-claude', false);
    for (const r of [openai, anthropic]) {
      assert.equal(r.status, 403, 'the upstream status is kept');
      assert.equal(r.type, 'application/json');
      assertClean('HTML error', r.text);
    }
    const o = (JSON.parse(openai.text) as { error: { message: string; code: string } }).error;
    assert.equal(o.code, 'upstream_auth_failed');
    const a = JSON.parse(anthropic.text) as { type: string; error: { type: string; message: string } };
    assert.deepEqual([a.type, a.error.type], ['error', 'permission_error']);
    for (const message of [o.message, a.error.message]) {
      assert.match(
        message,
        /^upstream answered HTTP 403: <html> <body><h1>403 Forbidden<\/h1> blocked \(key \[REDACTED\]\) \.+…$/,
      );
      assert.ok(message.length < 300, 'a short excerpt, not the page');
    }
  });

  it('the decision log holds none of it', () => {
    for (const d of s.decisions)
      assertClean('decision log', JSON.stringify(s.sidecar.telemetry.decisionRecord(d)));
  });
});

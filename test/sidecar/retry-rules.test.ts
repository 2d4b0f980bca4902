// Which failures are retried where and when, and what they teach the breaker: Retry-After is honoured
// per target (never hammered while another target is tried), a 408 fails over without tripping the
// breaker, and a prompt too long for every target is the caller's to fix. Real `turnout dev` process,
// fake upstreams.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { repeatStep } from '../helpers/fake-upstreams.ts';
import * as manifest from '../helpers/manifests.ts';
import { fresh, postJson, provider, startMesh, type Mesh } from './failover-harness.ts';

let m: Mesh;

const STEADY = 'circuitBreaker: { consecutiveFailures: 1000 }';
const GPT = `[{ name: gpt-a, capabilities: [chat, streaming] }, { name: gpt-tiny, contextWindow: 50, capabilities: [chat, streaming] }]`;
const BACKUP = `[{ name: backup-model, capabilities: [chat, streaming] }]`;
const FAST_RETRY = `retry: { attempts: 2, backoff: { base: 50ms, max: 100ms } }, timeouts: { total: 5s }`;

before(async () => {
  m = await startMesh((u) => [
    provider('oa', 'openai', u.oa.url, GPT, STEADY),
    provider('backup', 'openai', u.backup.url, BACKUP, STEADY),
    provider('r408', 'openai', u.oa.url, GPT, 'circuitBreaker: { consecutiveFailures: 2, openFor: 60s }'),
    manifest.routingPolicy(`
    - { name: pair, match: { model: ["pair-*"] }, targets: [{ provider: oa, model: gpt-a }, { provider: backup, model: backup-model }], ${FAST_RETRY} }
    - { name: solo, match: { model: ["solo-*"] }, targets: [{ provider: oa, model: gpt-a }], ${FAST_RETRY} }
    - { name: r408, match: { model: ["r408-*"] }, targets: [{ provider: r408, model: gpt-a }], fallbacks: [{ provider: backup, model: backup-model }], retry: { attempts: 0 } }
    - { name: tiny, match: { model: ["tiny-*"] }, targets: [{ provider: oa, model: gpt-tiny }] }
`),
  ]);
});
after(() => m.close());
beforeEach(() => m.reset());

const chat = (model: string, content = 'hi') =>
  postJson(`${m.t.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content }] });

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] ?? 0));

describe('Retry-After', () => {
  it('a target that sent Retry-After is left alone while the other target is retried', async () => {
    m.oa.setDefault({ kind: 'status', status: 429, retryAfter: '2' });
    m.backup.setDefault({ kind: 'status', status: 503 });
    const res = await chat(fresh('pair'));
    assert.equal(res.status, 502);
    assert.equal(m.oa.count, 1, 'asked to wait 2 s, it was not asked again within the call');
    assert.equal(m.backup.count, 3, 'the other target had its retries');
  });

  it('when no other target is left, the next attempt waits for Retry-After', async () => {
    m.oa.script([
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'ok', content: 'after the wait' },
    ]);
    const res = await chat(fresh('solo'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-turnout-attempts'), '2');
    const [gap] = gaps(m.oa.requests.map((r) => r.receivedAt));
    assert.ok((gap ?? 0) >= 990, `asked again after ${gap} ms`);
  });

  it('a Retry-After beyond the deadline is answered at once: 429 rate_limited with Retry-After', async () => {
    m.oa.setDefault({ kind: 'status', status: 429, retryAfter: '10' });
    const res = await chat(fresh('solo'));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '10');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'rate_limited');
    assert.equal(m.oa.count, 1);
  });
});

describe('the circuit breaker', () => {
  it('a 408 fails over but, like any 4xx other than 429, does not count against the breaker', async () => {
    m.oa.script(repeatStep({ kind: 'status', status: 408 }, 2));
    for (let i = 0; i < 2; i++) {
      const res = await chat(fresh('r408'));
      assert.equal(res.headers.get('x-turnout-provider'), 'backup', 'a 408 is still failed over');
    }
    const res = await chat(fresh('r408'));
    assert.equal(res.headers.get('x-turnout-provider'), 'r408', 'the breaker stayed closed');
  });
});

describe('a prompt too long for every target', () => {
  const long = 'word '.repeat(200);

  it('is a 400 context_length_exceeded for an OpenAI caller, not a retryable 503', async () => {
    const res = await chat(fresh('tiny'), long);
    assert.equal(res.status, 400);
    const error = ((await res.json()) as { error: { code: string; type: string; message: string } }).error;
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /too long for every target/);
    assert.equal(m.oa.count, 0);
  });

  it('is an invalid_request_error for an Anthropic caller', async () => {
    const body = { model: fresh('tiny'), max_tokens: 5, messages: [{ role: 'user', content: long }] };
    const res = await postJson(`${m.t.url}/v1/messages`, body);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-turnout-error-code'), 'context_length_exceeded');
    const json = (await res.json()) as { type: string; error: { type: string } };
    assert.deepEqual([json.type, json.error.type], ['error', 'invalid_request_error']);
  });
});

// Calls refused before they are routed are answered calls too: each is counted in turnout_requests_total
// (empty route labels, its status, its error code as outcome, never the caller's model name), written to
// the decision log (JSON record and human line, with what the caller sent escaped and capped) and, when
// traced, given a span whose ids the decision carries.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decisionLine } from '../../cli/decision-line.ts';
import { loadConfigDir } from '../../cli/config-dir.ts';
import { startSidecar, type Decision } from '../../sidecar/index.ts';
import { MAX_REFUSAL_MESSAGE_CHARS } from '../../sidecar/telemetry/index.ts';
import { configDir } from '../helpers/turnout-process.ts';
import { chat } from './harness.ts';
import { policyYaml, providersYaml } from './manifests.ts';
import { callTree, inProcessSidecar, traceparent, type InProcess } from './telemetry-harness.ts';

let s: InProcess;
before(async () => {
  s = await inProcessSidecar();
  await s.load({ 'p.yaml': providersYaml(s.primary.url, s.secondary.url), 'r.yaml': policyYaml('smart') });
});
after(() => s.close());
beforeEach(() => {
  s.sidecar.settle(); // what a previous test left queued lands before the list is cleared
  s.primary.reset();
  s.secondary.reset();
  s.exporter.reset();
  s.decisions.length = 0;
});

/** A request with headers fetch does not send as given (Host); resolves with the status. */
function raw(
  url: string,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${opts.path ?? '/v1/chat/completions'}`,
      // A connection of its own: a draining sidecar closes idle keep-alive ones.
      { method: opts.method ?? 'POST', headers: opts.headers ?? {}, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  raw(url, { headers: { 'content-type': 'application/json', ...headers }, body });

const messages = [{ role: 'user', content: 'hi' }];
const hello = JSON.stringify({ model: 'smart', messages });

/** turnout_requests_total for a refusal: empty policy, route, provider and model. */
async function refusals(
  x: { metrics: { registry: { metrics(): Promise<string> } } },
  status: number,
  outcome: string,
) {
  const text = await x.metrics.registry.metrics();
  const series = `turnout_requests_total{policy="",route="",provider="",model="",status="${status}",outcome="${outcome}"}`;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Waits until `n` decisions have been recorded (they are recorded a moment after the answer). */
async function decided(decisions: Decision[], settle: () => void, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    settle();
    if (decisions.length >= n) return;
    if (Date.now() > deadline) throw new Error(`${decisions.length} of ${n} decisions recorded`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const oneLine = (text: string) => text.split('\n').length === 1;

describe('refused calls in metrics and the decision log', () => {
  it('every kind of refusal is counted with its status and code, and logged with an empty route', async () => {
    const cases: [string, () => Promise<number>, number, string][] = [
      [
        'unknown model',
        () => post(s.url, JSON.stringify({ model: 'nope', messages })),
        404,
        'model_not_found',
      ],
      ['broken JSON', () => post(s.url, '{"model": "smart",'), 400, 'invalid_json'],
      [
        'model name too long',
        () => post(s.url, JSON.stringify({ model: 'm'.repeat(300), messages })),
        400,
        'invalid_request',
      ],
      ['wrong method', () => raw(s.url, { method: 'GET' }), 405, 'method_not_allowed'],
      ['a web page', () => post(s.url, hello, { origin: 'https://evil.example' }), 403, 'forbidden'],
      ['a non-loopback Host', () => post(s.url, hello, { host: 'evil.example' }), 403, 'forbidden'],
      [
        'multipart',
        () => post(s.url, hello, { 'content-type': 'multipart/form-data; boundary=x' }),
        415,
        'unsupported_media_type',
      ],
    ];
    const counted = new Map<string, number>();
    for (const [, , status, code] of cases)
      counted.set(`${status} ${code}`, await refusals(s.sidecar, status, code));
    for (const [what, send, status] of cases) assert.equal(await send(), status, what);
    await decided(s.decisions, () => s.sidecar.settle(), cases.length);
    assert.equal(s.primary.count + s.secondary.count, 0, 'nothing reached an upstream');
    const expected = new Map<string, number>();
    for (const [, , status, code] of cases)
      expected.set(`${status} ${code}`, (expected.get(`${status} ${code}`) ?? 0) + 1);
    for (const [key, n] of expected) {
      const [status, code] = key.split(' ') as [string, string];
      const now = await refusals(s.sidecar, Number(status), code);
      assert.equal(now - (counted.get(key) ?? 0), n, `turnout_requests_total for ${key}`);
      assert.equal(
        s.decisions.filter((d) => `${d.status} ${d.errorCode}` === key).length,
        n,
        `decisions for ${key}`,
      );
    }
    for (const d of s.decisions) {
      const record = s.sidecar.telemetry.decisionRecord(d);
      assert.equal(record.outcome, d.errorCode);
      assert.equal(record.route, '');
      assert.equal(record.policy, '');
      assert.equal(record.api, 'openai.chat');
      assert.deepEqual(record.attempts, []);
      assert.match(record.snapshot, /^sha256:/, 'the snapshot served when it was refused');
      assert.ok(record.latencyMs >= 0);
      assert.match(
        decisionLine(d),
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${d.status} refused openai\\.chat error=${d.errorCode}: .+`,
        ),
      );
    }
  });

  it('what the caller sent is escaped and capped in the log, and never becomes a label', async () => {
    const forged = `x\n12:00:00.000 200 model=smart route=app/smart FORGED \u001b[31m${'y'.repeat(150)}`;
    const names = [forged, ...Array.from({ length: 19 }, (_, i) => `unknown-model-${i}`)];
    const counted = await refusals(s.sidecar, 404, 'model_not_found');
    for (const model of names) assert.equal(await post(s.url, JSON.stringify({ model, messages })), 404);
    const longHost = `evil.example${'a'.repeat(5000)}`;
    assert.equal(await post(s.url, hello, { host: longHost }), 403);
    await decided(s.decisions, () => s.sidecar.settle(), names.length + 1);

    assert.equal(
      (await refusals(s.sidecar, 404, 'model_not_found')) - counted,
      names.length,
      'one series, whatever the names',
    );
    const metrics = await s.sidecar.metrics.registry.metrics();
    assert.ok(!metrics.includes('unknown-model-'), 'no model name in any label');

    const forgedDecision = s.decisions.find((d) => d.errorMessage?.includes('FORGED'));
    assert.ok(forgedDecision, 'the model name is quoted in the message');
    const line = decisionLine(forgedDecision);
    assert.ok(oneLine(line), line);
    assert.doesNotMatch(line, /\u001b/); // eslint-disable-line no-control-regex
    assert.match(line, /x\\n12:00:00\.000 200 model=smart/);

    const hostDecision = s.decisions.find((d) => d.status === 403);
    const record = JSON.stringify(s.sidecar.telemetry.decisionRecord(hostDecision as Decision));
    assert.ok(!record.includes(longHost), 'the 5000-character Host is not logged whole');
    const error = (hostDecision as Decision).errorMessage ?? '';
    assert.ok(error.length <= MAX_REFUSAL_MESSAGE_CHARS + 40, `${error.length} characters`);
    assert.match(error, /… \(\d+ more characters\)$/);
  });

  it('a traced refusal carries its span in the decision log', async () => {
    const tp = traceparent();
    assert.equal((await chat(s.url, { model: 'nope' }, { traceparent: tp.header })).status, 404);
    await decided(s.decisions, () => s.sidecar.settle(), 1);
    const { call } = await callTree(s.exporter, tp.traceId);
    const d = s.decisions[0];
    assert.equal(d?.traceId, tp.traceId);
    assert.equal(d?.spanId, call.spanContext().spanId);
    assert.equal(call.attributes['turnout.outcome'], 'model_not_found');
  });

  it('no snapshot yet: 503 not_ready is counted and logged', async () => {
    const empty = await inProcessSidecar();
    try {
      assert.equal(await post(empty.url, hello), 503);
      await decided(empty.decisions, () => empty.sidecar.settle(), 1);
      assert.equal(await refusals(empty.sidecar, 503, 'not_ready'), 1);
      assert.equal(empty.decisions[0]?.errorCode, 'not_ready');
      assert.equal(empty.decisions[0]?.snapshot, '');
    } finally {
      await empty.close();
    }
  });

  it('with tracing off: a body too large and a call while shutting down are counted and logged too', async () => {
    const decisions: Decision[] = [];
    const untraced = await startSidecar({
      port: 0,
      maxBodyBytes: 1024,
      onDecision: (d) => decisions.push(d),
      telemetry: { env: {} },
    });
    const dir = await configDir({
      'p.yaml': providersYaml(s.primary.url, s.secondary.url),
      'r.yaml': policyYaml('smart'),
    });
    let closing: Promise<unknown> | undefined;
    try {
      const loaded = await loadConfigDir(dir.dir, { labels: 'all' });
      assert.ok(loaded.snapshot);
      untraced.store.load(loaded.snapshot);
      const big = JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'x'.repeat(4096) }] });
      assert.equal(await post(untraced.url, big), 413);
      // A stream in flight keeps the drain open while a new call arrives.
      s.primary.onNext({ kind: 'ok', chunks: 4, chunkDelayMs: 150 });
      const stream = await chat(untraced.url, { stream: true });
      const reader = stream.body?.getReader();
      await reader?.read();
      closing = untraced.close({ drainMs: 5000 });
      assert.equal(await post(untraced.url, hello), 503);
      while (!(await reader?.read())?.done);
      await closing;
      assert.equal(await refusals(untraced, 413, 'body_too_large'), 1);
      assert.equal(await refusals(untraced, 503, 'shutting_down'), 1);
      const refused = decisions.filter((d) => d.route === '');
      assert.deepEqual(refused.map((d) => d.errorCode).sort(), ['body_too_large', 'shutting_down']);
      for (const d of refused) {
        assert.equal(d.latencyMs, 0, 'not measured without tracing');
        assert.equal(d.traceId, undefined);
      }
    } finally {
      await (closing ?? untraced.close());
      await dir.remove();
    }
  });
});

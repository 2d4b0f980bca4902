// Graceful shutdown of real `turnout dev` and `turnout sidecar` processes: on SIGTERM readiness fails at
// once and new calls get a retriable 503, calls in flight run to completion within the drain window,
// those still running when it closes end with an in-band error (never a clean end), and the exit code is 0.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigDir } from '../../cli/config-dir.ts';
import { spawnSidecar } from '../../operator/push/testing/index.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import { configDir, startTurnout, type TurnoutProcess } from '../helpers/turnout-process.ts';
import { policyYaml, providersYaml } from './manifests.ts';

let primary: FakeProvider;
let secondary: FakeProvider;
let config: Awaited<ReturnType<typeof configDir>>;
const started: TurnoutProcess[] = [];

before(async () => {
  primary = await startFakeProvider({ dialect: 'openai' });
  secondary = await startFakeProvider({ dialect: 'openai' });
  config = await configDir({
    'providers.yaml': providersYaml(primary.url, secondary.url),
    'policy.yaml': policyYaml('smart'),
  });
});

after(async () => {
  for (const t of started) if (t.child.exitCode === null) t.child.kill('SIGKILL');
  await config?.remove();
  await primary?.close();
  await secondary?.close();
});

async function dev(drainTimeout: string): Promise<TurnoutProcess & { exited: Promise<number | null> }> {
  const t = await startTurnout([
    'dev',
    '--config',
    config.dir,
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    '127.0.0.1:0',
    '--drain-timeout',
    drainTimeout,
  ]);
  started.push(t);
  await t.waitForLine(/loaded snapshot/);
  const exited = new Promise<number | null>((resolve) => {
    if (t.child.exitCode !== null) resolve(t.child.exitCode);
    else t.child.once('exit', (code) => resolve(code));
  });
  return { ...t, exited };
}

interface LiveStream {
  /** Resolves once the first body bytes arrived: the call is committed and in flight. */
  started: Promise<void>;
  /** The whole body, once the sidecar ends it. */
  text: Promise<string>;
  status: Promise<number>;
}

/** A streaming call read as it arrives, so a test can act while it is in flight. */
function openStream(url: string, path: string, body: Record<string, unknown>): LiveStream {
  let markStarted: () => void = () => undefined;
  const startedP = new Promise<void>((resolve) => (markStarted = resolve));
  const response = fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const text = response.then(async (res) => {
    const decoder = new TextDecoder();
    let out = '';
    if (!res.body) return out;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      out += decoder.decode(chunk, { stream: true });
      markStarted();
    }
    markStarted();
    return out;
  });
  return { started: startedP, text, status: response.then((r) => r.status) };
}

const openAiStream = (url: string, content: string) =>
  openStream(url, '/v1/chat/completions', { model: 'smart', messages: [{ role: 'user', content }] });
const anthropicStream = (url: string, content: string) =>
  openStream(url, '/v1/messages', {
    model: 'smart',
    max_tokens: 64,
    messages: [{ role: 'user', content }],
  });

/** The text deltas of an OpenAI chat stream, and its in-band error if any. */
function readOpenAiStream(text: string): { content: string; done: boolean; error?: string } {
  let content = '';
  let error: string | undefined;
  const datas = text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
  for (const d of datas) {
    if (d === '[DONE]') continue;
    const event = JSON.parse(d) as {
      choices?: { delta?: { content?: string } }[];
      error?: { message: string };
    };
    content += event.choices?.[0]?.delta?.content ?? '';
    if (event.error) error = event.error.message;
  }
  return { content, done: datas.includes('[DONE]'), ...(error !== undefined && { error }) };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  json: () => unknown;
}

/** One call on a connection of its own: a pooled keep-alive socket would race the server closing it. */
function callOnce(url: string, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false, headers: { 'content-type': 'application/json' } });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: (): unknown => JSON.parse(text) }),
      );
      res.on('error', reject);
    });
    req.end(body);
  });
}

const chatOnce = (url: string, path = '/v1/chat/completions') =>
  callOnce(
    `${url}${path}`,
    'POST',
    JSON.stringify({ model: 'smart', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }),
  );

const readyStatus = async (base: string) => (await callOnce(`${base}/readyz`)).status;

describe('graceful shutdown of turnout dev', () => {
  it('fails readiness at once, refuses new calls with a retriable 503, finishes live streams, exits 0', async () => {
    const t = await dev('20s');
    const metricsUrl = /health and metrics on (http:\/\/\S+)/.exec(t.output())?.[1] ?? '';
    assert.equal(await readyStatus(t.url), 200);
    assert.equal(await readyStatus(metricsUrl), 200);
    // Two slow streams (12 deltas, 100 ms apart): well over a second each, far inside the window.
    const slow = { kind: 'ok', chunks: 12, chunkDelayMs: 100 } as const;
    primary.script([slow, slow]);
    const a = openAiStream(t.url, 'first');
    const b = anthropicStream(t.url, 'second');
    await Promise.all([a.started, b.started]);

    t.child.kill('SIGTERM');
    await t.waitForLine(/draining/);
    const streamsDone = Promise.all([a.text, b.text]).then(() => true);
    // Readiness fails while the streams are still running, on the routing and the ops port.
    assert.equal(await readyStatus(metricsUrl), 503);
    assert.equal(await readyStatus(t.url), 503);
    const health = await callOnce(`${metricsUrl}/healthz`);
    assert.equal(health.status, 200, 'liveness holds while draining, or the kubelet would kill it');

    const refused = await chatOnce(t.url);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['x-should-retry'], 'true');
    assert.equal(refused.headers.connection, 'close');
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'shutting_down');
    const refusedAnthropic = await chatOnce(t.url, '/v1/messages');
    assert.equal(refusedAnthropic.status, 503);
    assert.deepEqual((refusedAnthropic.json() as { error: { type: string } }).error.type, 'overloaded_error');
    assert.equal(
      await Promise.race([streamsDone, new Promise((r) => setTimeout(r, 0, false))]),
      false,
      'the checks above ran while the streams were still in flight',
    );

    const openai = readOpenAiStream(await a.text);
    assert.equal(openai.error, undefined);
    assert.ok(openai.done, 'the OpenAI stream ends with [DONE]');
    assert.equal(openai.content, 'echo:gpt-4o:first');
    const anthropic = await b.text;
    assert.match(anthropic, /event: message_stop/);
    assert.doesNotMatch(anthropic, /event: error/);
    assert.equal(await a.status, 200);

    assert.equal(await t.exited, 0);
    assert.match(t.output(), /stopped after \d+ ms: 2 calls finished, 0 cut/);
  });

  it('cuts a stream longer than the drain window with an in-band error, answers a pending call 503, exits 0', async () => {
    const t = await dev('1s');
    // Streams of 40 deltas 100 ms apart (4 s), and a non-streaming call whose upstream waits 10 s.
    const long = { kind: 'ok', chunks: 40, chunkDelayMs: 100 } as const;
    primary.script([long, long]);
    const a = openAiStream(t.url, 'long');
    const b = anthropicStream(t.url, 'long');
    await Promise.all([a.started, b.started]);
    primary.onNext({ kind: 'ok', delayMs: 10_000 });
    const pending = chatOnce(t.url);
    await primary.waitFor((r) => r.stream === false && r.step === 'ok', 5000);

    t.child.kill('SIGTERM');
    const openaiText = await a.text;
    const openai = readOpenAiStream(openaiText);
    assert.equal(openai.done, false, 'a cut stream never ends as if complete');
    assert.match(openai.error ?? '', /shutting down.*drain window/);
    assert.match(openaiText, /"code":"shutting_down"/, 'the sidecar cut it: not an upstream_stream_error');
    assert.ok('echo:gpt-4o:long'.startsWith(openai.content), 'what was sent is a true prefix');
    assert.ok(openai.content.length < 'echo:gpt-4o:long'.length);
    const anthropic = await b.text;
    assert.match(anthropic, /event: error\ndata: .*shutting down/);
    assert.match(anthropic, /"type":"overloaded_error"/);
    assert.doesNotMatch(anthropic, /message_stop/);

    const cut = await pending;
    assert.equal(cut.status, 503);
    assert.equal(cut.headers['retry-after'], '1');
    const error = (cut.json() as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'shutting_down');
    assert.match(error.message, /drain window/);

    assert.equal(await t.exited, 0);
    assert.match(t.output(), /3 cut/);
  });

  it('a second signal cuts calls in flight at once instead of waiting out the window', async () => {
    const t = await dev('60s');
    primary.onNext({ kind: 'ok', chunks: 100, chunkDelayMs: 100 });
    const a = openAiStream(t.url, 'very long');
    await a.started;
    t.child.kill('SIGTERM');
    await t.waitForLine(/draining/);
    t.child.kill('SIGTERM');
    const openai = readOpenAiStream(await a.text);
    assert.equal(openai.done, false);
    assert.match(openai.error ?? '', /shutting down/);
    assert.equal(await t.exited, 1, 'a forced shutdown says so in its exit code');
    assert.match(t.output(), /cutting calls in flight now/);
  });
});

describe('graceful shutdown of turnout sidecar (restored from its state dir, no operator)', () => {
  it('fails readiness, finishes a live stream and exits 0 with a stopped line', async () => {
    const state = await mkdtemp(join(tmpdir(), 'turnout-drain-'));
    try {
      const loaded = await loadConfigDir(config.dir, { labels: 'all' });
      assert.ok(loaded.snapshot, 'the test manifests compile');
      await writeFile(
        join(state, 'snapshot.json'),
        JSON.stringify({ revision: 1, snapshot: loaded.snapshot }),
      );
      await writeFile(join(state, 'token'), 'test-token');
      const sidecar = await spawnSidecar({
        // Nothing listens there: the sidecar serves its restored snapshot and keeps retrying the operator.
        TURNOUT_OPERATOR_URL: 'https://127.0.0.1:1',
        TURNOUT_TOKEN_FILE: join(state, 'token'),
        TURNOUT_POD_NAMESPACE: 't',
        TURNOUT_POD_NAME: 'drain-test',
        TURNOUT_STATE_DIR: state,
        TURNOUT_DRAIN_TIMEOUT: '20s',
      });
      const exited = new Promise<number | null>((resolve) => sidecar.child.once('exit', resolve));
      await sidecar.waitFor((l) => l.msg === 'sync.restored');
      assert.equal(await readyStatus(sidecar.url), 200);
      primary.onNext({ kind: 'ok', chunks: 12, chunkDelayMs: 100 });
      const a = openAiStream(sidecar.url, 'in a pod');
      await a.started;

      sidecar.child.kill('SIGTERM');
      const draining = await sidecar.waitFor((l) => l.msg === 'draining');
      assert.equal(draining.drainMs, 20_000);
      assert.equal(await readyStatus(sidecar.url), 503);
      assert.equal((await chatOnce(sidecar.url)).status, 503);

      const openai = readOpenAiStream(await a.text);
      assert.ok(openai.done);
      assert.equal(openai.content, 'echo:gpt-4o:in a pod');
      assert.equal(await exited, 0);
      const stopped = await sidecar.waitFor((l) => l.msg === 'stopped');
      assert.equal(stopped.finished, 1);
      assert.equal(stopped.cut, 0);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});

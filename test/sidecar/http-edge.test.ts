// The routing port's edge against hostile or careless callers: model names of any length, numbers a
// float cannot hold, web pages (Origin, DNS rebinding), compressed bodies, bodies that trickle in or
// stop half way, wrong methods and paths. First through a real `turnout dev` process, then in-process
// where a span, a drain or a short request timeout has to be observed.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { loadConfigDir } from '../../cli/config-dir.ts';
import { createSidecarServer } from '../../sidecar/http/server.ts';
import { startSidecar, SidecarMetrics, SnapshotStore, Telemetry } from '../../sidecar/index.ts';
import { createSidecarState } from '../../sidecar/runtime-state.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import * as manifest from '../helpers/manifests.ts';
import { configDir, startDev, type ConfigDir, type DevTurnout } from '../helpers/turnout-process.ts';
import { PRIMARY_KEY } from './manifests.ts';

const manifests = (upstream: string) => ({
  'all.yaml': manifest.file(
    manifest.secret({ primary: PRIMARY_KEY }),
    manifest.modelProvider({
      name: 'primary',
      type: 'openai',
      endpoint: upstream,
      key: 'primary',
      models: '[{ name: gpt-4o, capabilities: [chat, streaming] }]',
    }),
    manifest.mockProvider(
      'sim',
      '[{ name: slow, capabilities: [chat, streaming] }]',
      '{ latency: 1ms, chunks: 10, chunkInterval: 100ms }',
    ),
    manifest.routingPolicy(`
    - name: mini
      match: { model: ["*mini*", "smart"] }
      targets: [{ provider: primary, model: gpt-4o }]
    - name: slow
      match: { model: ["slow"] }
      targets: [{ provider: sim, model: slow }]`),
  ),
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request with full control of its headers (fetch will not send a foreign Host). */
function send(
  url: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const chatBody = (model: string, extra = '') =>
  `{"model":${JSON.stringify(model)},"messages":[{"role":"user","content":"hi"}]${extra}}`;
const messagesBody = (model: string, extra = '') =>
  `{"model":${JSON.stringify(model)},"max_tokens":16,"messages":[{"role":"user","content":"hi"}]${extra}}`;

interface OpenAiError {
  error: { code: string; param: string | null; message: string; type: string };
}
interface AnthropicError {
  type: string;
  error: { type: string; message: string };
}
const openAiError = (a: Answer) => (JSON.parse(a.text) as OpenAiError).error;
const anthropicError = (a: Answer) => JSON.parse(a.text) as AnthropicError;

describe('the HTTP edge of turnout dev', () => {
  let upstream: FakeProvider;
  let t: DevTurnout;

  before(async () => {
    upstream = await startFakeProvider({ dialect: 'openai' });
    t = await startDev(manifests(upstream.url));
  });
  after(async () => {
    await t?.close();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('refuses a model name longer than any model id with 400 invalid_request, in each dialect', async () => {
    const longest = `gpt-4o-mini-${'x'.repeat(256 - 12)}`;
    assert.equal((await send(t.url, '/v1/chat/completions', chatBody(longest), json)).status, 200);
    const tooLong = await send(t.url, '/v1/chat/completions', chatBody(`${longest}x`), json);
    assert.equal(tooLong.status, 400);
    assert.equal(openAiError(tooLong).code, 'invalid_request');
    assert.equal(openAiError(tooLong).param, 'model');
    assert.ok(tooLong.text.length < 1000, 'the name is not echoed back');
    const anthropic = await send(t.url, '/v1/messages', messagesBody('m'.repeat(100_000)), json);
    assert.equal(anthropic.status, 400);
    assert.equal(anthropicError(anthropic).error.type, 'invalid_request_error');
    assert.match(anthropicError(anthropic).error.message, /^model: /);
    assert.equal(upstream.count, 1, 'only the call with a plausible name went upstream');
  });

  it('answers a long name against a many-star glob at once, and /healthz meanwhile', async () => {
    // Against the regex this glob used to become, each of these calls held the event loop ~1 s.
    const calls = Array.from({ length: 4 }, (_, i) =>
      send(t.url, '/v1/chat/completions', chatBody(`${i}${'mini'.repeat(15_000)}\n`), json),
    );
    const health = await send(t.url, '/healthz', undefined, {}, 'GET');
    assert.equal(health.status, 200);
    for (const c of await Promise.all(calls)) assert.equal(c.status, 400);
  });

  it('refuses numbers a float cannot hold as sent, naming the field, and sends nothing upstream', async () => {
    const cases: [path: string, body: string, param: string][] = [
      ['/v1/chat/completions', chatBody('smart', ',"max_tokens":1e999'), 'max_tokens'],
      ['/v1/chat/completions', chatBody('smart', ',"seed":18446744073709551615'), 'seed'],
      ['/v1/chat/completions', chatBody('smart', ',"metadata":{"n":[1,-1e400]}'), 'metadata.n[1]'],
      ['/v1/messages', messagesBody('smart', ',"temperature":1e999'), 'temperature'],
    ];
    for (const [path, body, param] of cases) {
      const res = await send(t.url, path, body, json);
      assert.equal(res.status, 400, `${body}: ${res.text}`);
      const message = path === '/v1/messages' ? anthropicError(res).error.message : openAiError(res).message;
      assert.ok(message.startsWith(`${param}: `), message);
      assert.match(message, /cannot forward exactly/);
      if (path !== '/v1/messages') assert.equal(openAiError(res).param, param);
    }
    assert.equal(upstream.count, 0);
    const largest = await send(
      t.url,
      '/v1/chat/completions',
      chatBody('smart', ',"seed":9007199254740991,"logit_bias":{"1":-9007199254740991}'),
      json,
    );
    assert.equal(largest.status, 200);
    assert.match(JSON.stringify(upstream.requests[0]?.body), /"seed":9007199254740991/);
  });

  it('refuses web pages: a request with Origin, or addressed to a foreign Host, gets 403 in its dialect', async () => {
    const port = new URL(t.url).port;
    const csrf = await send(t.url, '/v1/chat/completions', chatBody('smart'), {
      'content-type': 'text/plain',
      origin: 'http://attacker.example',
    });
    assert.equal(csrf.status, 403);
    assert.equal(openAiError(csrf).code, 'forbidden');
    const rebound = await send(t.url, '/v1/messages', messagesBody('smart'), {
      ...json,
      host: `attacker.example:${port}`,
    });
    assert.equal(rebound.status, 403);
    assert.equal(anthropicError(rebound).error.type, 'permission_error');
    assert.equal((await send(t.url, '/metrics', undefined, { host: 'attacker.example' }, 'GET')).status, 403);
    assert.equal(upstream.count, 0);
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      'localhost',
      'app.localhost',
      '127.1.2.3',
      `[::1]:${port}`,
    ])
      assert.equal(
        (await send(t.url, '/v1/chat/completions', chatBody('smart'), { ...json, host })).status,
        200,
        host,
      );
  });

  it('checks the Host of every request on a keep-alive connection, not only its first', async () => {
    const port = new URL(t.url).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const hosts = [
      `127.0.0.1:${port}`,
      `attacker.example:${port}`,
      `localhost:${port}`,
      'evil.localhost.example',
    ];
    const seen: { status: number; reused: boolean }[] = [];
    for (const host of hosts) {
      seen.push(
        await new Promise((resolve, reject) => {
          const req = request(
            `${t.url}/v1/chat/completions`,
            { method: 'POST', headers: { ...json, host }, agent },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
            },
          );
          req.on('error', reject);
          req.end(chatBody('smart'));
        }),
      );
    }
    agent.destroy();
    assert.deepEqual(seen, [
      { status: 200, reused: false },
      { status: 403, reused: true },
      { status: 200, reused: true },
      { status: 403, reused: true },
    ]);
    assert.equal(upstream.count, 2);
  });

  it('answers a compressed body with 415, a wrong method with 405 and Allow, unknown Messages paths as Anthropic', async () => {
    const gz = await send(t.url, '/v1/messages', gzipSync(messagesBody('smart')), {
      ...json,
      'content-encoding': 'gzip',
    });
    assert.equal(gz.status, 415);
    assert.match(anthropicError(gz).error.message, /Content-Encoding gzip is not supported/);
    const br = await send(t.url, '/v1/chat/completions', 'x', { ...json, 'content-encoding': 'br' });
    assert.equal(br.status, 415);
    assert.equal(openAiError(br).code, 'unsupported_media_type');
    const get = await send(t.url, '/v1/chat/completions', undefined, {}, 'GET');
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    const post = await send(t.url, '/v1/models', '', {}, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET');
    const countTokens = await send(t.url, '/v1/messages/count_tokens', messagesBody('smart'), json);
    assert.equal(countTokens.status, 404);
    assert.equal(anthropicError(countTokens).type, 'error');
    assert.equal(anthropicError(countTokens).error.type, 'not_found_error');
    assert.equal(upstream.count, 0);
  });

  it('a caller that hangs up half way through its body is no internal error', async () => {
    const socket = connect(Number(new URL(t.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{"model":',
    );
    await sleep(100);
    socket.destroy();
    await sleep(200);
    assert.equal((await send(t.url, '/v1/chat/completions', chatBody('smart'), json)).status, 200);
    assert.doesNotMatch(t.output(), /internal error|Error: aborted/);
  });
});

/** Spans that outlive the sidecar's shutdown (InMemorySpanExporter forgets them then). */
class KeptSpans extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The error types of the calls refused so far, once there are `count` (refusals are recorded as they happen). */
async function refusals(exporter: InMemorySpanExporter, count: number): Promise<unknown[]> {
  const found = () =>
    exporter
      .getFinishedSpans()
      .map((span) => span.attributes['error.type'])
      .filter((type) => type !== undefined);
  for (let i = 0; i < 100 && found().length < count; i++) await sleep(20);
  return found();
}

describe('the HTTP edge in process', () => {
  let upstream: FakeProvider;
  let dir: ConfigDir;
  let store: SnapshotStore;

  before(async () => {
    upstream = await startFakeProvider({ dialect: 'openai' });
    dir = await configDir(manifests(upstream.url));
    const loaded = await loadConfigDir(dir.dir, { labels: 'all' });
    assert.ok(loaded.snapshot, JSON.stringify(loaded.diagnostics));
    store = new SnapshotStore();
    store.load(loaded.snapshot);
  });
  after(async () => {
    await store?.close();
    await upstream?.close();
    await dir?.remove();
  });

  it('gives a trickling request its time for the request only: it gets 408, a stream outlasting it is whole', async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = await Telemetry.create({ env: {}, exporter });
    const server = createSidecarServer({
      store,
      maxBodyBytes: 1 << 20,
      metrics: new SidecarMetrics(),
      state: createSidecarState(),
      requestTimeoutMs: 300,
      telemetry,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      // Ten chunks 100 ms apart: a second of streaming, over three times the request timeout.
      const started = performance.now();
      const stream = await send(
        `http://127.0.0.1:${port}`,
        '/v1/chat/completions',
        chatBody('slow', ',"stream":true'),
        json,
      );
      assert.ok(performance.now() - started > 900, 'the answer outlasted the request timeout');
      assert.equal(stream.status, 200);
      assert.match(stream.text, /"finish_reason":"stop"/);
      assert.match(stream.text, /data: \[DONE\]\n\n$/);

      const socket = connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (c: Buffer) => (got += c.toString()));
      socket.on('error', () => undefined); // a reset, once the server closed on bytes still arriving
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{');
      const trickle = setInterval(() => socket.write(' '), 50); // never done: always one more byte
      await Promise.race([closed, sleep(5000)]);
      clearInterval(trickle);
      assert.ok(socket.destroyed, 'the server closed the connection');
      assert.match(got, /^HTTP\/1\.1 408 /);
      assert.deepEqual(await refusals(exporter, 1), ['request_timeout']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('records a body cut short by the caller as caller_disconnected (499), and a drain cuts a body still arriving', async () => {
    const exporter = new KeptSpans();
    const internal: unknown[] = [];
    const sidecar = await startSidecar({
      port: 0,
      store: new SnapshotStore(),
      onInternalError: (e) => internal.push(e),
      telemetry: await Telemetry.create({ env: {}, exporter }),
    });
    const snapshot = store.snapshot;
    assert.ok(snapshot);
    sidecar.store.load(snapshot);
    const port = Number(new URL(sidecar.url).port);
    const partial = () => {
      const socket = connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (c: Buffer) => (got += c.toString()));
      socket.write(
        'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{"model":',
      );
      return { socket, got: () => got };
    };
    let closing: Promise<unknown> | undefined;
    try {
      const gone = partial();
      await sleep(100);
      gone.socket.destroy();
      assert.deepEqual(await refusals(exporter, 1), ['caller_disconnected']);
      assert.equal(exporter.getFinishedSpans()[0]?.attributes['http.response.status_code'], 499);

      const stalled = partial();
      await sleep(100);
      closing = sidecar.close({ drainMs: 200 });
      await Promise.race([new Promise((r) => stalled.socket.once('close', r)), sleep(5000)]);
      assert.match(stalled.got(), /^HTTP\/1\.1 503 /);
      assert.match(stalled.got(), /"code":"shutting_down"/);
      // The call ends there too (it used to wait for a body that would never come, unrecorded).
      assert.deepEqual(await refusals(exporter, 2), ['caller_disconnected', 'shutting_down']);
      await closing;
      assert.deepEqual(internal, [], 'no internal error');
    } finally {
      await (closing ?? sidecar.close());
    }
  });
});

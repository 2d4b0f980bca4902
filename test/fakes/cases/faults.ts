import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startFakeProvider, type DialectName, type FakeProvider } from '../index.ts';

// Azure's faults are exercised in cases/azure-openai.ts: its requests need a key and a deployment.
type FaultDialect = Exclude<DialectName, 'azure-openai'>;
import { countOf, post, readBody, readUntil } from './http.ts';

const chat = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
const streamChat = { ...chat, stream: true };

describe('fault steps (openai dialect)', () => {
  let fake: FakeProvider;
  let url: string;
  before(async () => {
    fake = await startFakeProvider({ dialect: 'openai' });
    url = `${fake.url}/chat/completions`;
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  it('reset: the socket dies before any headers, so fetch rejects', async () => {
    fake.onNext({ kind: 'reset' });
    await assert.rejects(post(url, chat), TypeError);
    const ok = await post(url, chat);
    assert.equal(ok.status, 200);
    assert.equal(fake.requests[0]?.aborted, false);
  });

  it('status: 429 with Retry-After and the dialect error JSON; errorCode and body override', async () => {
    fake.script([
      { kind: 'status', status: 429, retryAfter: '2' },
      { kind: 'status', status: 400, errorCode: 'context_length_exceeded', message: 'too long' },
      { kind: 'status', status: 503, body: { custom: true } },
    ]);
    const limited = await post(url, chat);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '2');
    const error = ((await limited.json()) as { error: Record<string, unknown> }).error;
    assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(error.code, 'rate_limit_exceeded');
    const coded = (await (await post(url, chat)).json()) as { error: Record<string, unknown> };
    assert.deepEqual([coded.error.code, coded.error.message], ['context_length_exceeded', 'too long']);
    const custom = await post(url, chat);
    assert.deepEqual([custom.status, await custom.json()], [503, { custom: true }]);
  });

  it('status with raw: the exact bytes, text/plain unless headers name a type', async () => {
    const page = '<html><body>403 Forbidden</body></html>';
    fake.script([
      { kind: 'status', status: 403, raw: page, headers: { 'content-type': 'text/html' } },
      { kind: 'status', status: 401, raw: '{"error":{"message":"\\u0062ad"}}' },
    ]);
    const html = await post(url, chat);
    assert.deepEqual(
      [html.status, html.headers.get('content-type'), await html.text()],
      [403, 'text/html', page],
    );
    const escaped = await post(url, chat);
    assert.equal(escaped.headers.get('content-type'), 'text/plain');
    assert.equal(await escaped.text(), '{"error":{"message":"\\u0062ad"}}');
  });

  it('stream-error with frame: that exact event after the deltas asked for', async () => {
    const frame = 'data: {"error":{"message":"\\u0062ad"}}\n\n';
    fake.onNext({ kind: 'stream-error', afterChunks: 1, content: 'one two', chunks: 2, frame });
    const { text } = await readBody(await post(url, streamChat));
    assert.ok(text.includes('one ') && !text.includes('two'));
    assert.ok(text.endsWith(frame), text);
  });

  it('hang: never answers; a client abort is recorded and close() releases the rest', async () => {
    fake.script([{ kind: 'hang' }, { kind: 'hang' }]);
    await assert.rejects(post(url, chat, {}, AbortSignal.timeout(100)), { name: 'TimeoutError' });
    const first = await fake.waitFor((request) => request.seq === 1 && request.aborted);
    assert.equal(first.completed, false);
    const second = await startFakeProvider({ dialect: 'openai' });
    second.onNext({ kind: 'hang' });
    const pending = post(`${second.url}/chat/completions`, chat);
    await second.waitFor(() => true);
    await second.close();
    await assert.rejects(pending, TypeError);
    assert.equal(second.requests[0]?.aborted, false);
  });

  it('slow-first-token: headers at once, the first data only after the delay', async () => {
    fake.onNext({ kind: 'slow-first-token', delayMs: 300 });
    const res = await post(url, streamChat);
    const started = performance.now();
    const text = await readUntil(res, (body) => body.length > 0);
    // A lower bound only: the headers came before the delay ended, so reading waited for most of it.
    assert.ok(performance.now() - started >= 150, 'first data arrived with the headers');
    assert.match(text, /^data: /);
    assert.match(text + (await readBody(res)).text, /data: \[DONE\]\n\n$/);
  });

  it('cut-stream: some deltas, then the connection ends without [DONE]', async () => {
    fake.onNext({ kind: 'cut-stream', afterChunks: 2 });
    const { text, error } = await readBody(await post(url, streamChat));
    assert.ok(error !== undefined, 'the body read should fail');
    assert.equal(countOf(text, '"content":"'), 3); // role chunk ("content":"") + 2 deltas
    assert.ok(!text.includes('[DONE]'));
    assert.equal(fake.requests[0]?.aborted, false);
  });

  it('cut-stream on a non-stream request truncates the JSON body', async () => {
    fake.onNext({ kind: 'cut-stream', afterChunks: 0 });
    const res = await post(url, chat);
    assert.equal(res.status, 200);
    await assert.rejects(res.json());
  });

  it('stall with stallMs: goes silent, then resumes and completes', async () => {
    fake.onNext({ kind: 'stall', afterChunks: 1, stallMs: 200 });
    const started = performance.now();
    const { text, error } = await readBody(await post(url, streamChat));
    assert.equal(error, undefined);
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    assert.ok(performance.now() - started >= 150);
  });

  it('stall without stallMs: silent until the client gives up, recorded as aborted', async () => {
    fake.onNext({ kind: 'stall', afterChunks: 1 });
    const controller = new AbortController();
    const res = await post(url, streamChat, {}, controller.signal);
    const text = await readUntil(res, (body) => countOf(body, '"content":"') === 2);
    controller.abort();
    assert.ok(!text.includes('finish_reason":"stop'));
    const record = await fake.waitFor((request) => request.aborted);
    assert.equal(record.completed, false);
  });

  it('malformed-chunk: a garbage data line mid-stream, then the stream continues', async () => {
    fake.onNext({ kind: 'malformed-chunk', afterChunks: 1 });
    const { text } = await readBody(await post(url, streamChat));
    assert.ok(text.includes('data: {not json\n\n'));
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    fake.onNext({ kind: 'malformed-chunk', afterChunks: 1 });
    const client = new OpenAI({ baseURL: fake.url, apiKey: 'x', maxRetries: 0, logLevel: 'off' });
    const stream = await client.chat.completions.create({
      ...chat,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    await assert.rejects(async () => {
      for await (const _chunk of stream) {
        // drain until the SDK trips on the garbage line
      }
    }, SyntaxError);
  });

  it('stream-error on the Responses API: an error event with code and message after response.created', async () => {
    fake.onNext({ kind: 'stream-error', afterChunks: 0, status: 500, errorCode: 'server_error' });
    const { text } = await readBody(await post(`${fake.url}/responses`, { ...chat, stream: true }));
    assert.match(text, /^event: response.created\n/);
    assert.match(
      text,
      /event: error\ndata: \{"type":"error","code":"server_error","message":"[^"]+","param":null\}\n\n$/,
    );
  });

  it('no-done: every chunk and finish_reason, but no [DONE], and the body ends cleanly', async () => {
    fake.onNext({ kind: 'no-done' });
    const { text, error } = await readBody(await post(url, streamChat));
    assert.equal(error, undefined);
    assert.ok(text.includes('"finish_reason":"stop"'));
    assert.ok(!text.includes('[DONE]'));
  });

  it('a client abort mid-stream is recorded on the request', async () => {
    fake.onNext({ kind: 'ok', chunkDelayMs: 1_000 });
    const controller = new AbortController();
    const res = await post(url, streamChat, {}, controller.signal);
    await readUntil(res, (body) => countOf(body, '"content":"') >= 2);
    controller.abort();
    const record = await fake.waitFor((request) => request.aborted);
    assert.deepEqual([record.aborted, record.completed, record.stream], [true, false, true]);
  });

  it('queues steps in order, falls back to setDefault, and counts requests', async () => {
    fake.script([
      { kind: 'status', status: 500 },
      { kind: 'status', status: 502 },
    ]);
    fake.setDefault({ kind: 'status', status: 503 });
    assert.equal(fake.pending, 2);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await post(url, chat)).status);
    assert.deepEqual(statuses, [500, 502, 503]);
    assert.equal(fake.count, 3);
    assert.deepEqual(
      fake.requests.map((request) => request.step),
      ['status', 'status', 'status'],
    );
    fake.reset();
    assert.deepEqual([fake.count, fake.requests.length, (await post(url, chat)).status], [0, 0, 200]);
  });

  it('delayAll adds latency to every response', async () => {
    fake.delayAll(150);
    const started = performance.now();
    assert.equal((await post(url, chat)).status, 200);
    assert.ok(performance.now() - started >= 120);
  });

  it('requireApiKey refuses a request without a key; unknown paths and bad JSON get dialect errors', async () => {
    const strict = await startFakeProvider({ dialect: 'openai', requireApiKey: true, record: false });
    const denied = await post(`${strict.url}/chat/completions`, chat);
    assert.equal(denied.status, 401);
    assert.equal(((await denied.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
    assert.equal(
      (await post(`${strict.url}/chat/completions`, chat, { authorization: 'Bearer k' })).status,
      200,
    );
    assert.deepEqual([strict.count, strict.requests.length], [2, 0]);
    await strict.close();
    assert.equal((await post(`${fake.url}/nope`, chat)).status, 404);
    const bad = await fetch(url, { method: 'POST', body: '{oops' });
    assert.equal(bad.status, 400);
  });
});

const streamRequests: Record<FaultDialect, (fake: FakeProvider) => [string, unknown]> = {
  openai: (fake) => [`${fake.url}/chat/completions`, streamChat],
  anthropic: (fake) => [`${fake.url}/v1/messages`, { ...streamChat, max_tokens: 10 }],
  gemini: (fake) => [
    `${fake.url}/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
    { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
  ],
};

const endMarkers: Record<FaultDialect, string> = {
  openai: 'data: [DONE]',
  anthropic: 'event: message_stop',
  gemini: '"finishReason"',
};

// [status, the in-band error event the dialect sends for it]
const streamErrors: Record<FaultDialect, [number, RegExp]> = {
  openai: [500, /\ndata: \{"error":\{"message":"The server had an error[^"]*","type":"server_error"/],
  anthropic: [529, /\nevent: error\ndata: \{"type":"error","error":\{"type":"overloaded_error"/],
  gemini: [503, /\ndata: \{"error":\{"code":503,"message":"[^"]*","status":"UNAVAILABLE"\}\}\n\n$/],
};

for (const dialect of ['openai', 'anthropic', 'gemini'] as const) {
  describe(`stream faults in the ${dialect} dialect`, () => {
    let fake: FakeProvider;
    before(async () => {
      fake = await startFakeProvider({ dialect });
    });
    after(() => fake.close());

    const send = async () => readBody(await post(...streamRequests[dialect](fake)));

    it('ends with its end marker normally, and without it under no-done and cut-stream', async () => {
      assert.ok((await send()).text.includes(endMarkers[dialect]));
      fake.script([{ kind: 'no-done' }, { kind: 'cut-stream', afterChunks: 1 }]);
      const noDone = await send();
      assert.equal(noDone.error, undefined);
      assert.ok(!noDone.text.includes(endMarkers[dialect]));
      const cut = await send();
      assert.ok(cut.error !== undefined);
      assert.ok(!cut.text.includes(endMarkers[dialect]));
    });

    it('stream-error: the opening, the deltas asked for, then the error event and a clean end', async () => {
      const [status, event] = streamErrors[dialect];
      fake.onNext({ kind: 'stream-error', afterChunks: 1, status, content: 'one two', chunks: 2 });
      const { text, error } = await send();
      assert.equal(error, undefined);
      assert.match(text, event);
      assert.ok(text.includes('one ') && !text.includes('two'), 'one delta before the error');
      assert.ok(!text.includes(endMarkers[dialect]));
      assert.equal(fake.requests.at(-1)?.completed, true);
      fake.onNext({ kind: 'stream-error', afterChunks: 0, status });
      const [streamUrl, body] = streamRequests[dialect](fake);
      const plain = await post(streamUrl.replace(':streamGenerateContent?alt=sse', ':generateContent'), {
        ...(body as Record<string, unknown>),
        stream: false,
      });
      assert.equal(plain.status, status, 'a JSON request gets the status instead');
    });

    it('content-filter and context-length answer in the dialect', async () => {
      fake.script([{ kind: 'content-filter' }, { kind: 'context-length' }]);
      const [filterUrl, body] = streamRequests[dialect](fake);
      const filtered = await post(filterUrl, body);
      const filterText = await filtered.text();
      if (dialect === 'openai') assert.match(filterText, /"code":"content_filter"/);
      if (dialect === 'anthropic') assert.match(filterText, /"stop_reason":"refusal"/);
      if (dialect === 'gemini') assert.match(filterText, /"blockReason":"SAFETY"/);
      const tooLong = await post(filterUrl, body);
      assert.equal(tooLong.status, 400);
      const tooLongText = await tooLong.text();
      if (dialect === 'openai') assert.match(tooLongText, /context_length_exceeded/);
      if (dialect === 'anthropic') assert.match(tooLongText, /invalid_request_error.*prompt is too long/);
      if (dialect === 'gemini') assert.match(tooLongText, /INVALID_ARGUMENT/);
    });
  });
}

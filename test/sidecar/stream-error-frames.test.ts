// An upstream that sends an in-band error mid-stream (after some content) is reported to the caller by
// that one error event, redacted, and nothing after it: no second, synthetic "truncated" error of the
// sidecar's own, and no end marker ([DONE], message_stop, response.completed) that would claim the
// answer complete. The decision carries the upstream's message, not a sidecar one. Every pair of
// upstream and caller dialect; the real `openai` and `@anthropic-ai/sdk` clients raise that message.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/index.ts';
import * as manifest from '../helpers/manifests.ts';
import { inProcessSidecar, type InProcess } from './telemetry-harness.ts';

/** Quoted in the upstream's error: it must reach neither the caller nor the decision log. */
const KEY = 'canary-51c0e7d2a94b86f3';
const UPSTREAM_MESSAGE = `quota exhausted for key ${KEY} mid-answer`;
const REDACTED_MESSAGE = 'quota exhausted for key [REDACTED] mid-answer';

type Upstream = 'openai' | 'anthropic' | 'gemini';
type Caller = 'openai' | 'anthropic' | 'responses';

const models = '[{ name: m, capabilities: [chat, streaming, tools, json, responses] }]';
const manifests = (urls: Record<Upstream, string>) =>
  manifest.file(
    manifest.secret({ k: KEY }),
    ...(['openai', 'anthropic', 'gemini'] as const).map((type) =>
      manifest.modelProvider({
        name: type,
        type,
        endpoint: urls[type],
        key: 'k',
        models,
        extra: 'circuitBreaker: { consecutiveFailures: 1000 }',
      }),
    ),
    // No fallbacks: the error of a committed stream must reach the caller.
    manifest.routingPolicy(`
    - { name: openai, match: { model: ["via-openai-*"] }, targets: [{ provider: openai, model: m }] }
    - { name: anthropic, match: { model: ["via-anthropic-*"] }, targets: [{ provider: anthropic, model: m }] }
    - { name: gemini, match: { model: ["via-gemini-*"] }, targets: [{ provider: gemini, model: m }] }
`),
  );

let s: InProcess;
let fakes: Record<Upstream, FakeProvider>;
before(async () => {
  s = await inProcessSidecar();
  const anthropic = await startFakeProvider({ dialect: 'anthropic' });
  const gemini = await startFakeProvider({ dialect: 'gemini' });
  fakes = { openai: s.primary, anthropic, gemini };
  await s.load({
    'all.yaml': manifests({ openai: s.primary.url, anthropic: anthropic.url, gemini: gemini.url }),
  });
});
after(async () => {
  await s.close();
  await fakes.anthropic.close();
  await fakes.gemini.close();
});
beforeEach(() => {
  for (const fake of Object.values(fakes)) fake.reset();
});

/** The upstream sends two deltas of its answer, then its dialect's in-band error event, then ends. */
function errMidStream(upstream: Upstream): void {
  fakes[upstream].onNext({
    kind: 'stream-error',
    afterChunks: 2,
    status: 500,
    message: UPSTREAM_MESSAGE,
    content: 'aaaabbbbccccdddd', // four deltas of four letters
  });
}

function post(caller: Caller, model: string): Promise<Response> {
  const [path, body] =
    caller === 'responses'
      ? ['/v1/responses', { model, stream: true, input: 'hi' }]
      : [
          caller === 'openai' ? '/v1/chat/completions' : '/v1/messages',
          { model, stream: true, max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] },
        ];
  return fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
}

function events(text: string): EventSourceMessage[] {
  const all: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => all.push(e) });
  parser.feed(text);
  return all;
}

/** An error event in any of the three dialects: `event: error`, or an unnamed `{"error": …}` chunk. */
function isError(e: EventSourceMessage): boolean {
  return e.event === 'error' || (e.data.startsWith('{') && 'error' in (JSON.parse(e.data) as object));
}

let calls = 0;
/** A model name of its own for each call, so its decision can be told from a previous call's. */
const fresh = (upstream: Upstream) => `via-${upstream}-${++calls}`;

/** The decision record of the call that asked for `model`, once it is recorded. */
async function decision(model: string) {
  for (let waited = 0; ; waited += 5) {
    const d = s.decisions.find((x) => x.requestedModel === model);
    if (d) return s.sidecar.telemetry.decisionRecord(d);
    if (waited > 5000) throw new Error(`no decision recorded for ${model}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const pairs: [Upstream, Caller][] = [
  ['openai', 'openai'],
  ['openai', 'anthropic'],
  ['openai', 'responses'],
  ['anthropic', 'openai'],
  ['anthropic', 'anthropic'],
  ['gemini', 'openai'],
  ['gemini', 'anthropic'],
];

describe('an upstream error event mid-stream reaches the caller once, and ends the stream', () => {
  for (const [upstream, caller] of pairs) {
    it(`${upstream} upstream → ${caller} caller`, async () => {
      errMidStream(upstream);
      const model = fresh(upstream);
      const res = await post(caller, model);
      assert.equal(res.status, 200, 'the answer had started: the error is in-band');
      const text = await res.text();
      const all = events(text);
      const errors = all.filter(isError);
      assert.equal(errors.length, 1, `exactly one error event in:\n${text}`);
      assert.equal(all.at(-1), errors[0], `nothing after the error event in:\n${text}`);
      assert.ok(
        all.slice(0, -1).some((e) => e.data.includes('bbbb')),
        'the content before it was forwarded',
      );
      assert.match(errors[0]?.data ?? '', new RegExp(REDACTED_MESSAGE.replace(/[[\]]/g, '\\$&')));
      assert.ok(!text.includes(KEY), 'the key is redacted');
      assert.doesNotMatch(text, /\[DONE\]|message_stop|response\.completed/, 'nothing claims completion');

      const d = await decision(model);
      assert.equal(d.outcome, 'upstream_stream_error');
      assert.equal(d.error, REDACTED_MESSAGE);
      assert.deepEqual(
        d.attempts.map((a) => [a.outcome, a.streamError]),
        [['ok', REDACTED_MESSAGE]],
      );
    });
  }
});

describe('an end marker the upstream sends after its error is not forwarded', () => {
  // The recorded OpenAI streams end right after the error chunk; some upstreams have followed it with
  // [DONE] (sashabaranov/go-openai#396), which would read as a complete answer to a client that trusts it.
  const frame = `data: {"error":{"message":"${UPSTREAM_MESSAGE}","type":"server_error"}}\n\ndata: [DONE]\n\n`;
  for (const caller of ['openai', 'anthropic'] as const) {
    it(`openai upstream → ${caller} caller`, async () => {
      fakes.openai.onNext({ kind: 'stream-error', afterChunks: 2, frame });
      const model = fresh('openai');
      const text = await (await post(caller, model)).text();
      const all = events(text);
      assert.equal(all.filter(isError).length, 1, text);
      assert.ok(isError(all.at(-1) as EventSourceMessage), `the error event is the last one in:\n${text}`);
      assert.doesNotMatch(text, /\[DONE\]|message_stop/);
      assert.equal((await decision(model)).error, REDACTED_MESSAGE);
    });
  }
});

it('an upstream that holds its connection open after the error event: the caller is answered at once and the upstream released', async () => {
  fakes.openai.onNext({
    kind: 'stream-error',
    afterChunks: 2,
    status: 500,
    message: UPSTREAM_MESSAGE,
    content: 'aaaabbbbccccdddd',
    holdOpen: true,
  });
  const model = fresh('openai');
  const res = await post('openai', model);
  // The provider's idle timeout (60 s) would otherwise end this stream; 5 s means it was not waited for.
  const text = await Promise.race([
    res.text(),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the stream was left open behind the error')), 5000),
    ),
  ]);
  const all = events(text);
  assert.equal(all.filter(isError).length, 1, text);
  assert.ok(isError(all.at(-1) as EventSourceMessage), `the error event is the last one in:\n${text}`);
  await fakes.openai.waitFor((r) => r.aborted, 5000); // its connection was let go, not kept to the idle timeout
  assert.equal((await decision(model)).error, REDACTED_MESSAGE);
});

it('an error chunk that also reports usage reaches a caller who did not ask for usage', async () => {
  // Turnout asks the upstream for usage itself and drops the usage-only chunk the caller did not ask for.
  const usage = '"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}';
  const frame = `data: {"choices":[],${usage},"error":{"message":"${UPSTREAM_MESSAGE}"}}\n\n`;
  fakes.openai.onNext({ kind: 'stream-error', afterChunks: 2, frame });
  const model = fresh('openai');
  const text = await (await post('openai', model)).text();
  const errors = events(text).filter(isError);
  assert.equal(errors.length, 1, text);
  assert.ok(errors[0]?.data.includes(REDACTED_MESSAGE), text);
  assert.equal((await decision(model)).error, REDACTED_MESSAGE);
});

describe('the SDKs raise the upstream error, redacted', () => {
  for (const upstream of ['openai', 'anthropic', 'gemini'] as const) {
    it(`openai chat client, ${upstream} upstream`, async () => {
      errMidStream(upstream);
      const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: fresh(upstream),
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      let content = '';
      await assert.rejects(
        async () => {
          for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
        },
        (e: Error) => e instanceof OpenAI.APIError && e.message === REDACTED_MESSAGE,
      );
      assert.equal(content, 'aaaabbbb', 'the content before the error was delivered');
    });

    it(`anthropic client, ${upstream} upstream`, async () => {
      errMidStream(upstream);
      const client = new Anthropic({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
      const stream = client.messages.stream({
        model: fresh(upstream),
        max_tokens: 32,
        messages: [{ role: 'user', content: 'hi' }],
      });
      await assert.rejects(stream.finalMessage(), (e: Error) => {
        assert.ok(e instanceof Anthropic.APIError, String(e));
        assert.ok(e.message.includes(REDACTED_MESSAGE), e.message);
        assert.ok(!e.message.includes(KEY));
        return true;
      });
    });
  }

  it('openai responses client, openai upstream', async () => {
    errMidStream('openai');
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const stream = await client.responses.create({ model: fresh('openai'), stream: true, input: 'hi' });
    const seen: string[] = [];
    await assert.rejects(
      async () => {
        for await (const event of stream) seen.push(event.type);
      },
      (e: Error) => e instanceof OpenAI.APIError && e.message === REDACTED_MESSAGE,
    );
    assert.ok(seen.includes('response.output_text.delta'), seen.join());
  });
});

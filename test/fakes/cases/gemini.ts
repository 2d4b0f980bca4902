import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { defaultContent, estimateTokens, startFakeProvider, type FakeProvider } from '../index.ts';
import { post, readBody, sseData } from './http.ts';

const request = (text: string, extra: Record<string, unknown> = {}) => ({
  systemInstruction: { parts: [{ text: 'sys' }] },
  contents: [{ role: 'user', parts: [{ text }] }],
  ...extra,
});

interface GeminiChunk {
  candidates?: { content?: { parts: { text?: string; functionCall?: unknown }[] }; finishReason?: string }[];
  usageMetadata?: Record<string, number>;
  promptFeedback?: { blockReason: string };
  modelVersion?: string;
}

describe('gemini dialect over fetch', () => {
  let fake: FakeProvider;
  let model: string;
  before(async () => {
    fake = await startFakeProvider({ dialect: 'gemini' });
    model = `${fake.url}/models/gemini-2.5-flash`;
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  it('answers generateContent with candidates and usageMetadata, key from x-goog-api-key', async () => {
    const res = await post(`${model}:generateContent`, request('hello'), { 'x-goog-api-key': 'g' });
    const body = (await res.json()) as GeminiChunk;
    const text = defaultContent('gemini-2.5-flash', 'hello');
    assert.equal(body.candidates?.[0]?.content?.parts[0]?.text, text);
    assert.equal(body.candidates?.[0]?.finishReason, 'STOP');
    assert.equal(body.modelVersion, 'gemini-2.5-flash');
    const prompt = estimateTokens('sys' + 'hello');
    assert.equal(body.usageMetadata?.promptTokenCount, prompt);
    assert.equal(body.usageMetadata?.candidatesTokenCount, estimateTokens(text));
    assert.equal(body.usageMetadata?.totalTokenCount, prompt + estimateTokens(text));
    assert.equal(fake.requests[0]?.apiKey, 'g');
    assert.equal(fake.requests[0]?.model, 'gemini-2.5-flash');
  });

  it('streams SSE chunks whose last carries finishReason and full usage; key from ?key=', async () => {
    fake.onNext({ kind: 'ok', usage: { cachedTokens: 2, reasoningTokens: 3 } });
    const res = await post(`${model}:streamGenerateContent?alt=sse&key=q`, request('stream'));
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const chunks = sseData((await readBody(res)).text) as GeminiChunk[];
    const text = chunks.map((chunk) => chunk.candidates?.[0]?.content?.parts[0]?.text ?? '').join('');
    assert.equal(text, defaultContent('gemini-2.5-flash', 'stream'));
    assert.equal(chunks.length, 5);
    const last = chunks.at(-1);
    assert.equal(last?.candidates?.[0]?.finishReason, 'STOP');
    assert.equal(last?.usageMetadata?.cachedContentTokenCount, 2);
    assert.equal(last?.usageMetadata?.thoughtsTokenCount, 3);
    assert.equal(chunks[0]?.usageMetadata?.candidatesTokenCount, undefined);
    assert.equal(fake.requests[0]?.apiKey, 'q');
  });

  it('returns a functionCall part when the request has tools', async () => {
    fake.onNext({ kind: 'ok', toolCall: { name: 'get_weather', arguments: { city: 'Kyoto' } } });
    const tools = [{ functionDeclarations: [{ name: 'get_weather' }] }];
    const res = await post(`${model}:streamGenerateContent?alt=sse`, request('weather?', { tools }));
    const chunks = sseData((await readBody(res)).text) as GeminiChunk[];
    const call = chunks
      .flatMap((chunk) => chunk.candidates?.[0]?.content?.parts ?? [])
      .find((part) => part.functionCall);
    assert.deepEqual(call?.functionCall, { name: 'get_weather', args: { city: 'Kyoto' } });
  });

  it('answers errors, context length and content filter the Gemini way', async () => {
    fake.script([
      { kind: 'status', status: 429, retryAfter: '3' },
      { kind: 'context-length' },
      { kind: 'content-filter' },
    ]);
    const limited = await post(`${model}:generateContent`, request('x'));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '3');
    assert.deepEqual(
      ((await limited.json()) as { error: { status: string } }).error.status,
      'RESOURCE_EXHAUSTED',
    );
    const tooLong = await post(`${model}:generateContent`, request('x'));
    const error = ((await tooLong.json()) as { error: { code: number; status: string } }).error;
    assert.deepEqual([tooLong.status, error.code, error.status], [400, 400, 'INVALID_ARGUMENT']);
    const blocked = (await (await post(`${model}:generateContent`, request('x'))).json()) as GeminiChunk;
    assert.equal(blocked.promptFeedback?.blockReason, 'SAFETY');
    assert.equal(blocked.candidates, undefined);
  });

  it('lists models and answers unknown paths with a NOT_FOUND error', async () => {
    const list = (await (await fetch(`${fake.url}/models`)).json()) as { models: { name: string }[] };
    assert.ok(list.models.some((entry) => entry.name === 'models/gemini-2.5-flash'));
    const missing = await post(`${fake.url}/tunedModels/x:generateContent`, request('x'));
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheable, cacheKey } from './cache-key.ts';
import { CacheRegistry } from './cache-registry.ts';
import { ResponseCache, type CachedAnswer } from './response-cache.ts';

const body = {
  model: 'smart',
  messages: [{ role: 'user', content: 'hi' }],
  temperature: 0.7,
};
const key = (b: Record<string, unknown>, route = 'ns/p/smart', api = 'openai.chat') =>
  cacheKey(route, api, b);

const answer = (text: string): CachedAnswer => ({
  stream: false,
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ text })),
  model: 'gpt-4o-mini',
  usage: { inputTokens: 3, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0 },
});

describe('cacheKey', () => {
  it('is a sha256 hex that ignores user, metadata and (for JSON answers) stream_options', () => {
    const k = key(body);
    assert.match(k, /^[0-9a-f]{64}$/);
    assert.equal(
      key({ ...body, user: 'alice', metadata: { trace: 1 }, stream_options: { include_usage: true } }),
      k,
    );
    assert.equal(key({ ...body, stream: false }), k, 'stream: false is the default');
  });

  it('separates streams from JSON answers, and keeps stream_options for streams', () => {
    const s = key({ ...body, stream: true });
    assert.notEqual(s, key(body));
    assert.notEqual(key({ ...body, stream: true, stream_options: { include_usage: true } }), s);
    assert.equal(key({ ...body, stream: true, user: 'bob' }), s);
  });

  it('ignores top-level field order but not nested order, nor any other field', () => {
    const reordered = { temperature: 0.7, messages: body.messages, model: 'smart' };
    assert.equal(key(reordered), key(body));
    const schemaA = { response_format: { type: 'json_schema', schema: { properties: { a: 1, b: 2 } } } };
    const schemaB = { response_format: { type: 'json_schema', schema: { properties: { b: 2, a: 1 } } } };
    assert.notEqual(key({ ...body, ...schemaA }), key({ ...body, ...schemaB }));
    assert.notEqual(key({ ...body, temperature: 0 }), key(body));
    assert.notEqual(key({ ...body, model: 'fast' }), key(body));
  });

  it('includes the route and the API surface', () => {
    assert.notEqual(key(body, 'ns/p/other'), key(body));
    assert.notEqual(key(body, 'ns/p/smart', 'anthropic.messages'), key(body));
    assert.notEqual(cacheKey('a"', 'b', {}), cacheKey('a', '"b', {}), 'parts cannot run into each other');
  });
});

describe('cacheable', () => {
  it('caches regardless of sampling settings, except store: true and non-objects', () => {
    assert.ok(cacheable({ ...body, temperature: 1.5, n: 3 }));
    assert.ok(cacheable({ ...body, store: false }));
    assert.equal(cacheable({ ...body, store: true }), false);
    assert.equal(cacheable(null), false);
    assert.equal(cacheable([body]), false);
    assert.equal(cacheable('x'), false);
  });
});

describe('ResponseCache', () => {
  it('returns what was stored, stamped with storedAt, and counts hits and misses', () => {
    const c = new ResponseCache({ ttlMs: 60_000, maxEntries: 10, now: () => 5_000 });
    assert.ok(c.set('k', answer('a')));
    const hit = c.get('k');
    assert.equal(hit?.storedAt, 5_000);
    assert.ok(hit && !hit.stream && hit.body.toString().includes('"a"'));
    assert.equal(c.get('nope'), undefined);
    assert.deepEqual([c.hits, c.misses], [1, 1]);
    const events = ['data: {"x":1}\n\n', 'data: [DONE]\n\n'];
    c.set('s', { stream: true, status: 200, headers: {}, events, model: 'm' });
    const s = c.get('s');
    assert.deepEqual(s?.stream && s.events, events);
  });

  it('expires entries ttlMs after they were stored; a hit does not extend it', () => {
    let t = 0;
    const c = new ResponseCache({ ttlMs: 1_000, maxEntries: 10, now: () => t });
    c.set('k', answer('a'));
    t = 999;
    assert.ok(c.get('k'));
    t = 1_001;
    assert.equal(c.get('k'), undefined);
    assert.equal(c.size, 0);
  });

  it('evicts the least recently used beyond maxEntries', () => {
    const c = new ResponseCache({ ttlMs: 60_000, maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) c.set(k, answer(k));
    c.get('a');
    c.set('d', answer('d'));
    assert.equal(c.get('b'), undefined);
    assert.ok(c.get('a') && c.get('c') && c.get('d'));
    assert.equal(c.size, 3);
  });

  it('holds at most maxBytes and refuses answers over maxEntryBytes', () => {
    const big = (n: number): CachedAnswer => ({
      stream: false,
      status: 200,
      headers: {},
      model: 'm',
      body: Buffer.alloc(n),
    });
    const c = new ResponseCache({ ttlMs: 60_000, maxEntries: 1_000, maxBytes: 10_000, maxEntryBytes: 5_000 });
    assert.equal(c.set('huge', big(6_000)), false);
    assert.equal(c.get('huge'), undefined);
    for (let i = 0; i < 10; i++) assert.ok(c.set(`k${i}`, big(1_000)));
    assert.ok(c.bytes <= 10_000, `${c.bytes} bytes`);
    assert.ok(c.size < 10);
    assert.ok(c.get('k9'));
  });
});

describe('CacheRegistry', () => {
  it('keeps a route’s cache across reloads while ttl and maxEntries are unchanged', () => {
    const r = new CacheRegistry();
    const c = r.forRoute('ns/p/smart', { ttlMs: 600_000, maxEntries: 100 });
    c.set('k', answer('a'));
    assert.equal(r.forRoute('ns/p/smart', { ttlMs: 600_000, maxEntries: 100 }), c);
    const fresh = r.forRoute('ns/p/smart', { ttlMs: 60_000, maxEntries: 100 });
    assert.notEqual(fresh, c);
    assert.equal(fresh.get('k'), undefined);
    fresh.set('k', answer('a'));
    r.forRoute('ns/p/other', { ttlMs: 600_000, maxEntries: 1 }).set('k', answer('b'));
    assert.equal(r.entries, 2);
    r.retain(['ns/p/other']);
    assert.equal(r.size, 1);
    assert.equal(r.entries, 1, 'the answer cached for smart went with its cache');
    assert.notEqual(r.forRoute('ns/p/smart', { ttlMs: 60_000, maxEntries: 100 }), fresh, 'dropped by retain');
  });
});

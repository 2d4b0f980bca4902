import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { costUSD, usageFromOpenAi } from '../accounting/usage.ts';
import {
  classifyError,
  classifyStatus,
  countsAgainstBreaker,
  parseRetryAfter,
  TimeoutError,
} from './classify.ts';

describe('classify', () => {
  it("maps statuses to failure classes; other 4xx are the caller's", () => {
    assert.equal(classifyStatus(429), 'rate-limited');
    assert.equal(classifyStatus(503), 'server-error');
    assert.equal(classifyStatus(408), 'timeout');
    assert.equal(classifyStatus(400), undefined);
    assert.equal(classifyStatus(401), undefined);
  });
  it('counts 5xx, 429, timeouts and connect failures against the breaker; never another 4xx, 408 included', () => {
    const of = (status: number) => ({ failureClass: classifyStatus(status), status, message: '' });
    assert.deepEqual(
      [500, 503, 429, 408, 400, 404].map((s) => countsAgainstBreaker(of(s))),
      [true, true, true, false, false, false],
    );
    assert.equal(countsAgainstBreaker({ failureClass: 'timeout', message: 'no answer within 500 ms' }), true);
    assert.equal(countsAgainstBreaker({ failureClass: 'connect-failure', message: 'ECONNREFUSED' }), true);
  });
  it('maps transport errors', () => {
    assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'connect-failure');
    assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'connect-failure');
    assert.equal(classifyError(Object.assign(new Error('x'), { code: 'UND_ERR_BODY_TIMEOUT' })), 'timeout');
    assert.equal(classifyError(new TimeoutError('slow')), 'timeout');
  });
  it('reads Retry-After in seconds and as an HTTP date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    assert.equal(parseRetryAfter('2', now), 2000);
    assert.equal(parseRetryAfter('0.5', now), 500);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now), 0, 'a past date means now');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

describe('cost', () => {
  it('prices cached input and reasoning tokens apart', () => {
    const usage = usageFromOpenAi({
      prompt_tokens: 1_000_000,
      completion_tokens: 1_000_000,
      prompt_tokens_details: { cached_tokens: 400_000 },
      completion_tokens_details: { reasoning_tokens: 250_000 },
    });
    assert.ok(usage);
    assert.equal(costUSD(usage, { input: 2, output: 8, cachedInput: 0.5 }), 0.6 * 2 + 0.4 * 0.5 + 8);
    assert.equal(
      costUSD(usage, { input: 2, output: 8, cachedInput: 0.5, reasoning: 4 }),
      0.6 * 2 + 0.4 * 0.5 + 0.75 * 8 + 0.25 * 4,
    );
    assert.equal(costUSD(usage, undefined), undefined);
    assert.equal(usageFromOpenAi(null), undefined);
  });
});

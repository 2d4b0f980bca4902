import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decisionRecord } from './decision-log.ts';
import { failoverDecision } from './testing/decisions.ts';
import { SecretRedactor } from './redact.ts';

describe('decision log record', () => {
  it('has route, target, attempts, tokens, cost, latency and outcome; never content or the span clock', () => {
    const r = decisionRecord(
      failoverDecision({ traceId: 't'.repeat(32), spanId: 's'.repeat(16) }),
      new SecretRedactor(),
    );
    assert.equal(r.outcome, 'ok');
    assert.equal(r.route, 'smart');
    assert.equal(r.target, 'secondary/backup-model');
    assert.deepEqual(r.tokens, { input: 10, output: 20, cachedInput: 0, reasoning: 0 });
    assert.equal(r.costUSD, 0.000005);
    assert.equal(r.latencyMs, 54);
    assert.equal(r.attempts.length, 2);
    assert.deepEqual(r.attempts[0], {
      n: 1,
      target: 'primary/gpt-4o',
      outcome: 'server-error',
      status: 503,
      ms: 12.5,
      startMs: 0.4,
      message: 'primary/gpt-4o answered 503',
    });
    assert.deepEqual(r.skipped, [
      { target: 'tertiary/m', reason: 'breaker-open', detail: 'circuit open until 2026-11-22T10:01:00.000Z' },
    ]);
    assert.equal(r.traceId, 't'.repeat(32));
    const json = JSON.stringify(r);
    assert.doesNotMatch(json, /content|monoStart|"input":"\[/);
  });

  it('names the outcome of failures and redacts their messages', () => {
    const redactor = new SecretRedactor();
    const budget = decisionRecord(
      failoverDecision({
        status: 429,
        errorCode: 'budget_exceeded',
        errorMessage: 'budget "daily" is spent (key sk-abcdefghijklmnop)',
        attempts: [],
      }),
      redactor,
    );
    assert.equal(budget.outcome, 'budget_exceeded');
    assert.equal(budget.error, 'budget "daily" is spent (key [REDACTED])');
    assert.equal(decisionRecord(failoverDecision({ cacheHit: true }), redactor).outcome, 'cache_hit');
    assert.equal(decisionRecord(failoverDecision({ status: 400 }), redactor).outcome, 'upstream_error');
    assert.equal(decisionRecord(failoverDecision({ status: 499 }), redactor).outcome, 'caller_disconnected');
  });
});

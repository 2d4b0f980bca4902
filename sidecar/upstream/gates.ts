// Per-attempt admission to one target, and what each attempt teaches the sidecar afterwards: the
// circuit breaker (only failures that say something about the upstream count), the provider's
// concurrency and RPM/TPM limits, and latency history for least-latency routing.
import type { FailureClass } from '../../api/index.ts';
import type { Candidate } from './candidates.ts';
import { requestedOutputTokens } from './candidates.ts';
import { targetKey, type Call } from './call.ts';

export interface AttemptReport {
  /**
   * What the attempt tells the upstream's circuit breaker: it answered (a 4xx other than 429 included),
   * it failed (a counted failure), or nothing (the caller left, or the call never went upstream).
   */
  breaker: 'success' | 'failure' | 'abandon';
  /** The upstream answered: its latency is remembered and its TPM reservation kept (else released). */
  answered: boolean;
  failureClass?: FailureClass;
  ttftMs?: number;
  totalMs: number;
  tokens?: number;
}

export type Gate =
  | { ok: true; done(report: AttemptReport): void }
  | { ok: false; reason: string; failureClass: FailureClass; retryAfterMs?: number };

export function enterAttempt(call: Call, c: Candidate): Gate {
  const spec = c.provider.spec;
  const breaker = call.state.breakers.get(spec.name, spec.endpoint, {
    consecutiveFailures: spec.circuitBreaker.consecutiveFailures,
    openForMs: spec.circuitBreaker.openForMs,
    probeTimeoutMs: spec.timeouts.totalMs,
  });
  if (!breaker.allow()) {
    // The breaker's clock is monotonic, not wall time: the wall time is derived from what is left.
    const left = breaker.remainingOpenMs;
    const until = left === undefined ? '' : ` until ${new Date(Date.now() + left).toISOString()}`;
    return { ok: false, reason: `circuit open${until}`, failureClass: 'server-error' };
  }
  const leave =
    spec.limits.maxConcurrent === undefined
      ? () => undefined
      : call.state.concurrency.tryEnter(`provider:${spec.name}`, spec.limits.maxConcurrent);
  if (!leave) {
    breaker.abandon();
    return {
      ok: false,
      reason: `provider at maxConcurrent (${spec.limits.maxConcurrent})`,
      failureClass: 'rate-limited',
    };
  }
  const { requestsPerMinute: rpm, tokensPerMinute: tpm } = spec.limits;
  const tokens = call.features.promptTokens + requestedOutputTokens(call, c.model);
  const decision =
    rpm === undefined && tpm === undefined
      ? undefined
      : call.state.limiter.tryAcquire(`provider:${spec.name}`, { rpm, tpm }, { tokens });
  if (decision && !decision.ok) {
    leave();
    breaker.abandon();
    return {
      ok: false,
      reason: `provider ${decision.limit} limit reached`,
      failureClass: 'rate-limited',
      retryAfterMs: decision.retryAfterMs,
    };
  }
  return {
    ok: true,
    done(report) {
      leave();
      if (report.breaker === 'abandon') breaker.abandon();
      else if (report.breaker === 'success') breaker.success();
      else breaker.failure();
      if (decision?.ok) {
        if (report.answered && report.tokens !== undefined) decision.lease.settle(report.tokens);
        else if (!report.answered) decision.lease.release();
      }
      // A fast refusal must not look like a fast target; a timeout is recorded as the time it cost.
      if (report.answered || report.failureClass === 'timeout') {
        call.state.latency.record(targetKey(c.target), {
          totalMs: report.totalMs,
          ...(report.ttftMs !== undefined && { ttftMs: report.ttftMs }),
        });
      }
    },
  };
}

// The attempt loop: try each candidate once per round; a retryable failure moves on to the next
// candidate at once (a different target needs no backoff); after a full round of failures, back off
// (honouring Retry-After) and start another round, up to retry.attempts extra rounds and the deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnoutError } from '../errors.ts';
import type { Random } from '../routing/strategy.ts';
import { runAttempt, servedHeaders, type AttemptResult } from './attempt.ts';
import type { Call } from './call.ts';
import { candidatesFor } from './candidates.ts';
import type { AttemptFailure } from './classify.ts';

export type DispatchOutcome = Extract<AttemptResult, { kind: 'served' }> & {
  provider: string;
  model: string;
  simulated: boolean;
};

export async function dispatch(call: Call, random: Random = Math.random): Promise<DispatchOutcome> {
  const { candidates, skipped } = candidatesFor(call, random);
  call.skipped.push(...skipped);
  if (candidates.length === 0) {
    const why = skipped.map((s) => `${s.provider}/${s.model}: ${s.reason}`).join('; ');
    throw new TurnoutError(
      'no_eligible_target',
      `route "${call.route.route.name}" has no target that may serve this request (${why})`,
    );
  }
  const retry = call.route.route.retry;
  const deadline =
    call.startedAt +
    (call.route.route.timeouts.totalMs ??
      Math.max(...candidates.map((c) => c.provider.spec.timeouts.totalMs)));
  const failures: AttemptFailure[] = [];
  for (let round = 0; round <= retry.attempts; round++) {
    if (round > 0 && !(await backoff(call, round, failures.slice(-candidates.length), deadline, random)))
      break;
    for (const c of candidates) {
      if (Date.now() >= deadline || call.clientSignal.aborted) break;
      const started = Date.now();
      const result = await runAttempt(
        call,
        c.target,
        c.provider,
        c.model,
        call.attempts.length + 1,
        deadline,
      );
      const record = { provider: c.target.provider, model: c.target.model, ms: Date.now() - started };
      if (result.kind === 'served') {
        call.attempts.push({ ...record, outcome: 'ok', status: result.status });
        return {
          ...result,
          provider: c.target.provider,
          model: c.target.model,
          simulated: c.provider.spec.simulated,
        };
      }
      const f = result.failure;
      if (call.clientSignal.aborted) {
        call.attempts.push({ ...record, outcome: 'aborted', message: 'caller disconnected' });
        throw new TurnoutError('upstream_unavailable', 'caller disconnected');
      }
      const failureClass = f.failureClass;
      const retryable = failureClass !== undefined && retry.on.includes(failureClass);
      call.attempts.push({
        ...record,
        outcome: retryable ? failureClass : 'refused',
        message: f.message,
        ...(f.status !== undefined && { status: f.status }),
      });
      if (!retryable) {
        // Not ours to retry (a 400, a 401, a class the route does not fail over on): the caller gets the upstream's answer.
        passThrough(call, result, c);
        return {
          kind: 'served',
          status: f.status ?? 502,
          provider: c.target.provider,
          model: c.target.model,
          simulated: c.provider.spec.simulated,
        };
      }
      failures.push(f);
    }
  }
  throw exhausted(call, failures, deadline);
}

function passThrough(
  call: Call,
  result: Extract<AttemptResult, { kind: 'failed' }>,
  c: ReturnType<typeof candidatesFor>['candidates'][number],
): void {
  const headers = servedHeaders(call, c.target, c.provider, call.attempts.length);
  const status = result.failure.status ?? 502;
  const body = result.body ?? Buffer.alloc(0);
  const type = result.headers?.['content-type'];
  call.res.writeHead(status, {
    ...headers,
    'content-type': typeof type === 'string' ? type : 'application/json',
    'content-length': String(body.length),
  });
  call.res.end(body);
}

/** Waits before another round; false when the wait would overrun the deadline or the caller left. */
async function backoff(
  call: Call,
  round: number,
  lastRound: AttemptFailure[],
  deadline: number,
  random: Random,
): Promise<boolean> {
  const { backoffBaseMs, backoffMaxMs } = call.route.route.retry;
  const exponential = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (round - 1));
  const jittered = exponential * (0.5 + random() / 2);
  // Every candidate asked us to wait: wait for the soonest of them, never hammering a rate-limited target.
  const hints = lastRound.map((f) => f.retryAfterMs);
  const retryAfter = hints.length > 0 && hints.every((h) => h !== undefined) ? Math.min(...hints) : 0;
  const wait = Math.max(jittered, retryAfter);
  if (Date.now() + wait >= deadline) return false;
  try {
    await sleep(wait, undefined, { signal: call.clientSignal });
    return true;
  } catch {
    return false;
  }
}

function exhausted(call: Call, failures: AttemptFailure[], deadline: number): TurnoutError {
  const summary = call.attempts.map((a) => `${a.provider}/${a.model}: ${a.status ?? a.outcome}`).join('; ');
  const message = `all ${call.attempts.length} attempt(s) failed (${summary})`;
  if (failures.length > 0 && failures.every((f) => f.failureClass === 'rate-limited')) {
    const hints = failures.map((f) => f.retryAfterMs).filter((h): h is number => h !== undefined);
    const retryAfter = hints.length > 0 ? Math.min(...hints) / 1000 : 1;
    return new TurnoutError('rate_limited', `every target is rate limited: ${message}`, { retryAfter });
  }
  if (failures.at(-1)?.failureClass === 'timeout' || Date.now() >= deadline) {
    return new TurnoutError('upstream_timeout', message);
  }
  return new TurnoutError('upstream_unavailable', message);
}

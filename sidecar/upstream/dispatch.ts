// The attempt loop: try each candidate once per round; a retryable failure moves on to the next
// candidate at once (a different target needs no backoff); after a full round of failures, back off
// and start another round, up to retry.attempts extra rounds and the deadline. A target that sent
// Retry-After (to this call, or with a 429/503 to any call of this sidecar: see cooldown.ts) is left
// out of the rounds until then; when no other target is left, the call waits for the soonest of them,
// or is refused at once when that is past its deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnoutError } from '../errors.ts';
import { skipReason } from '../telemetry/skip-reasons.ts';
import { runAttempt, servedHeaders, type AttemptResult } from './attempt.ts';
import { targetKey, type AttemptRecord, type Call, type SkipRecord } from './call.ts';
import { candidatesFor, headerValue, routeKeyOf, type Candidate } from './candidates.ts';
import { countsAgainstBreaker, type AttemptFailure } from './classify.ts';
import { coolDownAfter, leftAlone, waitOutCooldowns, type NotBefore } from './call-cooldowns.ts';
import { honouredDelayMs } from './cooldown.ts';
import { enterAttempt } from './gates.ts';

export type Served = Extract<AttemptResult, { kind: 'served' }>;
export type DispatchOutcome = Served & { provider: string; model: string; simulated: boolean };

/** What the attempts so far have taught this call. */
interface Tries extends NotBefore {
  failures: AttemptFailure[];
}

export async function dispatch(call: Call): Promise<DispatchOutcome> {
  const { candidates, skipped } = candidatesFor(call);
  call.skipped.push(...skipped);
  if (call.traced) call.candidates = candidates;
  if (candidates.length === 0) throw noEligibleTarget(call, skipped);
  const retry = call.route.route.retry;
  const deadline =
    call.startedAt +
    (call.route.route.timeouts.totalMs ??
      Math.max(...candidates.map((c) => c.provider.spec.timeouts.totalMs)));
  const tries: Tries = { failures: [] };
  const failures = tries.failures;
  // Checked here, not only inside: no promise on the hot path while nothing is cooling down.
  if (call.state.cooldowns.size > 0) await waitOutCooldowns(call, candidates, tries, deadline);
  for (let round = 0; round <= retry.attempts; round++) {
    if (round > 0 && !(await backoff(call, round, candidates, tries, deadline))) break;
    for (const [i, c] of candidates.entries()) {
      if (Date.now() >= deadline || call.clientSignal.aborted) break;
      call.remaining = candidates.slice(i + 1);
      if (!mayTry(call, c)) continue;
      if (leftAlone(call, c, tries)) continue;
      const outcome = await tryCandidate(call, c, deadline, tries);
      if (outcome) return outcome;
    }
  }
  // Cut by the sidecar's shutdown (not a caller that left): say so rather than blame the upstreams.
  if (call.clientSignal.reason instanceof TurnoutError) throw call.clientSignal.reason;
  if (call.attempts.length === 0 && call.unsuitable) throw call.unsuitable;
  if (call.rejected && call.rejected.size > 0 && failures.length === 0) {
    const why = call.attempts
      .filter((a) => a.outcome === 'rejected')
      .map((a) => `${a.provider}/${a.model}: ${a.message}`);
    throw new TurnoutError(
      'no_acceptable_answer',
      `no cascade candidate gave an acceptable answer (${why.join('; ')})`,
    );
  }
  throw exhausted(call, failures, deadline);
}

/** False for a candidate this call has learnt not to try again (a too-small window is recorded as a skip). */
function mayTry(call: Call, c: Candidate): boolean {
  if (call.rejected?.has(c)) return false; // a cascade answer it gave was rejected: asking again would not help
  if (!tooSmall(call, c)) return true;
  call.skipped.push({
    provider: c.target.provider,
    model: c.target.model,
    reason: 'context window smaller than one an upstream already found too short',
  });
  return false;
}

function tooSmall(call: Call, c: Candidate): boolean {
  const needed = call.minContextWindow;
  return needed !== undefined && (c.model.contextWindow ?? Number.POSITIVE_INFINITY) < needed;
}

/** No target may serve the call: a prompt too long for every one is the caller's to shorten (400). */
function noEligibleTarget(call: Call, skipped: readonly SkipRecord[]): TurnoutError {
  const why = skipped.map((s) => `${s.provider}/${s.model}: ${s.reason}`).join('; ');
  const route = call.route.route.name;
  if (skipped.length > 0 && skipped.every((s) => skipReason(s.reason) === 'context-window')) {
    return new TurnoutError(
      'context_length_exceeded',
      `the request is too long for every target of route "${route}"; shorten it (${why})`,
      { param: 'messages' },
    );
  }
  return new TurnoutError(
    'no_eligible_target',
    `route "${route}" has no target that may serve this request (${why})`,
  );
}

/** A failure that may be retried: remembered, with the time its Retry-After (capped) asks the target to be left alone. */
function recordFailure(tries: Tries, c: Candidate, f: AttemptFailure): void {
  if (f.retryAfterMs === undefined) {
    tries.failures.push(f);
    return;
  }
  const delay = honouredDelayMs(f.retryAfterMs);
  tries.failures.push({ ...f, retryAfterMs: delay });
  (tries.notBefore ??= new Map()).set(c, Date.now() + delay);
}

/** One attempt on one candidate: the outcome when the call is answered, undefined to move on. */
async function tryCandidate(
  call: Call,
  c: Candidate,
  deadline: number,
  tries: Tries,
): Promise<DispatchOutcome | undefined> {
  const gate = enterAttempt(call, c);
  if (!gate.ok) {
    call.skipped.push({ provider: c.target.provider, model: c.target.model, reason: gate.reason });
    recordFailure(tries, c, {
      failureClass: gate.failureClass,
      message: `${targetKey(c.target)}: ${gate.reason}`,
      ...(gate.retryAfterMs !== undefined && { retryAfterMs: gate.retryAfterMs }),
    });
    return undefined;
  }
  const started = performance.now();
  const result = await runAttempt(call, c, call.attempts.length + 1, deadline);
  const record = attemptBase(call, c, started);
  const served = (r: Served): DispatchOutcome => ({
    ...r,
    provider: c.target.provider,
    model: c.target.model,
    simulated: c.provider.spec.simulated,
  });
  if (result.kind === 'rejected') {
    gate.done({ breaker: 'success', answered: true, totalMs: record.ms });
    call.attempts.push({
      ...record,
      outcome: 'rejected',
      message: result.reason,
      ...(result.usage && { usage: result.usage }),
      ...(result.costUSD !== undefined && { costUSD: result.costUSD }),
    });
    call.rejectedCostUSD = (call.rejectedCostUSD ?? 0) + (result.costUSD ?? 0);
    (call.rejected ??= new Set()).add(c);
    return undefined;
  }
  if (result.kind === 'unsuitable') {
    gate.done({ breaker: 'abandon', answered: false, totalMs: 0 });
    call.skipped.push({ provider: c.target.provider, model: c.target.model, reason: result.error.message });
    call.unsuitable = result.error;
    return undefined;
  }
  if (result.kind === 'served') {
    const tokens = result.usage && result.usage.inputTokens + result.usage.outputTokens;
    // A stream that broke after it was committed was served, yet the upstream failed it (a caller who
    // left, or the sidecar cutting it at shutdown, says nothing about the upstream).
    const broken =
      result.streamError !== undefined && result.status !== 499 && result.streamErrorCode === undefined;
    gate.done({
      breaker: broken ? 'failure' : 'success',
      answered: true,
      totalMs: record.ms,
      ...(result.ttftMs !== undefined && { ttftMs: result.ttftMs }),
      ...(tokens !== undefined && { tokens }),
    });
    call.attempts.push({
      ...record,
      outcome: 'ok',
      status: result.status,
      ...(result.ttftMs !== undefined && { ttftMs: result.ttftMs }),
      ...(result.usage && { usage: result.usage }),
      ...(result.costUSD !== undefined && { costUSD: result.costUSD }),
      ...(result.finishReason !== undefined && { finishReason: result.finishReason }),
      ...(result.streamError !== undefined && { streamError: result.streamError }),
      ...(result.streamErrorCode !== undefined && { streamErrorCode: result.streamErrorCode }),
    });
    remember(call, c);
    return served(result);
  }
  const f = result.failure;
  if (call.clientSignal.aborted) {
    const cut = call.clientSignal.reason instanceof TurnoutError ? call.clientSignal.reason : undefined;
    gate.done({ breaker: 'abandon', answered: false, totalMs: record.ms });
    call.attempts.push({ ...record, outcome: 'aborted', message: cut?.message ?? 'caller disconnected' });
    throw cut ?? new TurnoutError('upstream_unavailable', 'caller disconnected');
  }
  const failureClass = f.failureClass;
  gate.done({
    breaker: countsAgainstBreaker(f) ? 'failure' : 'success',
    answered: failureClass === undefined,
    totalMs: record.ms,
    ...(failureClass !== undefined && { failureClass }),
  });
  forget(call, c);
  coolDownAfter(call, c, f);
  // The prompt was too long for this model: worth trying a later candidate with a larger window, if any.
  const largerWindow = f.kind === 'context-length' && hasLargerWindow(call, c);
  const retryable =
    largerWindow || (failureClass !== undefined && call.route.route.retry.on.includes(failureClass));
  call.attempts.push({
    ...record,
    outcome: retryable ? (failureClass ?? 'server-error') : 'refused',
    message: f.message,
    ...(f.status !== undefined && { status: f.status }),
  });
  if (largerWindow) call.minContextWindow = (c.model.contextWindow ?? 0) + 1;
  if (retryable) {
    recordFailure(tries, c, f);
    return undefined;
  }
  // Not ours to retry (a 400, a 401, a class the route does not fail over on): the caller gets the upstream's answer.
  passThrough(call, result, c);
  return served({ kind: 'served', status: f.status ?? 502 });
}

/** What every attempt record holds; timings on the performance clock, to the µs. */
function attemptBase(call: Call, c: Candidate, started: number): Omit<AttemptRecord, 'outcome'> {
  const ended = performance.now();
  const delay = call.retryDelayMs;
  call.retryDelayMs = undefined;
  return {
    provider: c.target.provider,
    model: c.target.model,
    ms: Math.round((ended - started) * 1000) / 1000,
    startMs: Math.round((started - call.t0) * 1000) / 1000,
    ...(delay !== undefined && { retryDelayMs: delay }),
    ...(c.fallback && { fallback: true }),
  };
}

function hasLargerWindow(call: Call, c: Candidate): boolean {
  const current = c.model.contextWindow ?? 0;
  return call.remaining.some((o) => o !== c && (o.model.contextWindow ?? Number.POSITIVE_INFINITY) > current);
}

function sessionOf(call: Call): string | undefined {
  const affinity = call.route.route.affinity;
  return affinity && headerValue(call.features.headers[affinity.header]);
}

function remember(call: Call, c: Candidate): void {
  const session = sessionOf(call);
  const affinity = call.route.route.affinity;
  if (session && affinity)
    call.state.affinity.set(routeKeyOf(call), session, targetKey(c.target), affinity.ttlMs);
}

function forget(call: Call, c: Candidate): void {
  const session = sessionOf(call);
  if (session && call.state.affinity.get(routeKeyOf(call), session) === targetKey(c.target))
    call.state.affinity.forget(routeKeyOf(call), session);
}

function passThrough(call: Call, result: Extract<AttemptResult, { kind: 'failed' }>, c: Candidate): void {
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

/**
 * Waits before another round; false when the wait would overrun the deadline or the caller left. The
 * round must have a target to ask: when every one still to be tried sent Retry-After, that means
 * waiting for the soonest of them — never hammering a rate-limited target.
 */
async function backoff(
  call: Call,
  round: number,
  candidates: readonly Candidate[],
  tries: Tries,
  deadline: number,
): Promise<boolean> {
  const { backoffBaseMs, backoffMaxMs } = call.route.route.retry;
  const exponential = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (round - 1));
  const jittered = exponential * (0.5 + call.state.random() / 2);
  let soonest = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    if (!call.rejected?.has(c) && !tooSmall(call, c))
      soonest = Math.min(soonest, tries.notBefore?.get(c) ?? 0);
  }
  const now = Date.now();
  const wait = Math.max(jittered, soonest === Number.POSITIVE_INFINITY ? 0 : soonest - now);
  if (now + wait >= deadline) return false;
  try {
    await sleep(wait, undefined, { signal: call.clientSignal });
    call.retryDelayMs = Math.round(wait);
    return true;
  } catch {
    return false;
  }
}

function exhausted(call: Call, failures: AttemptFailure[], deadline: number): TurnoutError {
  const parts = [
    ...call.attempts.map((a) => `${a.provider}/${a.model}: ${a.status ?? a.outcome}`),
    ...call.skipped
      .filter((s) => /circuit|limit|maxConcurrent|cooling/.test(s.reason))
      .map((s) => `${s.provider}/${s.model}: ${s.reason}`),
  ];
  const message = `all ${call.attempts.length} attempt(s) failed (${parts.join('; ')})`;
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

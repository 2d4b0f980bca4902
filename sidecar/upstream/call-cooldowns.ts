// What one call does with the sidecar-wide cool-downs (cooldown.ts): it starts one when a target
// answers 429/503 with Retry-After, leaves a cooling target alone (a skip in its decision), and, when
// every candidate is cooling, waits for the soonest or is refused at once with 429 and Retry-After.
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnoutError } from '../errors.ts';
import { targetKey, type Call } from './call.ts';
import type { Candidate } from './candidates.ts';
import type { AttemptFailure } from './classify.ts';
import { startsCooldown, type CooldownTarget } from './cooldown.ts';

/** When each target this call was told to leave alone may be asked again, epoch ms (dispatch's Tries). */
export interface NotBefore {
  notBefore?: Map<Candidate, number>;
}

/** Timers run on the monotonic clock, cool-downs on the wall clock: wake a little late, never early. */
const WAKE_MARGIN_MS = 5;
/** Calls waiting out the same cool-down wake spread over this share of the wait, not all at once. */
const WAKE_SPREAD = 0.1;

const cooldownTarget = (c: Candidate): CooldownTarget => ({
  provider: c.target.provider,
  endpoint: c.provider.spec.endpoint,
  model: c.target.model,
});

/**
 * A 429/503 with Retry-After puts the target in cool-down for every call of the sidecar, whether or not
 * this route retries it: the target said it is out of capacity, not that this request was wrong.
 */
export function coolDownAfter(call: Call, c: Candidate, f: AttemptFailure): void {
  if (startsCooldown(f.status, f.retryAfterMs))
    call.state.cooldowns.coolDown(cooldownTarget(c), f.retryAfterMs ?? 0);
}

/**
 * True while this call must leave the target alone: its own Retry-After, or a cool-down another call
 * learnt, which is recorded as a skip the first time this call meets it.
 */
export function leftAlone(call: Call, c: Candidate, tries: NotBefore): boolean {
  const cooldowns = call.state.cooldowns;
  const cooling = cooldowns.size > 0 ? cooldowns.until(cooldownTarget(c)) : undefined;
  if (cooling !== undefined) noteCooldown(call, c, tries, cooling);
  return (tries.notBefore?.get(c) ?? 0) > Date.now();
}

function noteCooldown(call: Call, c: Candidate, tries: NotBefore, until: number): void {
  const notBefore = (tries.notBefore ??= new Map<Candidate, number>());
  const known = notBefore.get(c);
  if (known === undefined)
    call.skipped.push({ provider: c.target.provider, model: c.target.model, reason: coolingReason(until) });
  if (known === undefined || known < until) notBefore.set(c, until);
}

// The prefix is what telemetry/skip-reasons.ts reads back as the `cooling-down` skip reason.
const coolingReason = (until: number) =>
  `cooling down until ${new Date(until).toISOString()}: it answered 429/503 with Retry-After`;

/**
 * Before the first round: when every candidate is cooling down, wait for the soonest when that fits in
 * the deadline; otherwise refuse at once with 429 and the time left, rather than wait in silence. None
 * of this touches a breaker: no upstream was asked.
 */
export async function waitOutCooldowns(
  call: Call,
  candidates: readonly Candidate[],
  tries: NotBefore,
  deadline: number,
): Promise<void> {
  const cooling: [Candidate, number][] = [];
  for (const c of candidates) {
    const until = call.state.cooldowns.until(cooldownTarget(c));
    if (until === undefined) return; // one target may be asked now
    cooling.push([c, until]);
  }
  const now = Date.now();
  const soonest = Math.min(...cooling.map(([, until]) => until));
  const needed = soonest - now + WAKE_MARGIN_MS;
  if (now + needed < deadline) {
    const wait = Math.min(needed + (soonest - now) * WAKE_SPREAD * call.state.random(), deadline - now);
    try {
      await sleep(wait, undefined, { signal: call.clientSignal });
      call.retryDelayMs = Math.round(wait);
    } catch {
      // The caller left: the rounds see the aborted signal and end the call.
    }
    return;
  }
  for (const [c, until] of cooling) noteCooldown(call, c, tries, until);
  const names = cooling.map(([c, until]) => `${targetKey(c.target)} until ${new Date(until).toISOString()}`);
  const seconds = Math.ceil((soonest - now) / 1000);
  throw new TurnoutError(
    'rate_limited',
    `every target is cooling down after a 429/503 with Retry-After (${names.join(', ')}); retry in ${seconds} s`,
    { retryAfter: seconds },
  );
}

// The rubric as code (docs/benchmarks-scorecard.md explains it): every reading is graded pass, clean
// error or fail, with a one-line reason. Scenario judges are built from these pieces.
import type { RecordedRequest } from '../../test/fakes/index.ts';
import { clip, type Reading, type Usage } from './reading.ts';

export type Grade = 'pass' | 'clean error' | 'fail';

export interface Verdict {
  grade: Grade;
  reason: string;
}

export const pass = (reason: string): Verdict => ({ grade: 'pass', reason });
export const cleanError = (reason: string): Verdict => ({ grade: 'clean error', reason });
export const fail = (reason: string): Verdict => ({ grade: 'fail', reason });

const RANK: Record<Grade, number> = { pass: 0, 'clean error': 1, fail: 2 };

/** The worst of several verdicts; its reason is that of the first verdict with that grade. */
export function worst(...verdicts: Verdict[]): Verdict {
  return verdicts.reduce((a, b) => (RANK[b.grade] > RANK[a.grade] ? b : a));
}

/** A complete answer one fake upstream gives: what the caller must receive, word for word. */
export interface Answer {
  /** Which fake gave it: "primary" or "fallback". */
  from: string;
  text: string;
  model: string;
  usage: Usage;
}

export interface AnswerChecks {
  /** Every `model` the caller saw must be the serving upstream's (failover accounting). */
  model?: boolean;
  /** The usage the caller saw must be exactly the serving upstream's (failover accounting, no [DONE]). */
  usage?: boolean;
}

/** How the caller was let down when it got no answer: the grade shared by every judge. */
export function judgeNonAnswer(r: Exclude<Reading, { kind: 'answer' }>, accepted: Answer[]): Verdict {
  switch (r.kind) {
    case 'error':
      return cleanError(`${r.status} ${r.code ?? ''}: ${clip(r.message)}`.replace(' :', ':'));
    case 'in-band-error':
      return accepted.some((a) => a.text.startsWith(r.text))
        ? cleanError(`in-band error after ${r.text.length} chars: ${clip(r.message)}`)
        : fail(`garbled text before the in-band error: "${clip(r.text)}"`);
    case 'broken':
      return fail(r.why);
    case 'garbled':
      return fail(r.why);
    case 'hang':
      return fail(
        `still waiting at the ${Math.round(r.afterMs / 1000)} s deadline` +
          (r.text === '' ? '' : ` (${r.text.length} chars so far)`),
      );
  }
}

/** Pass only for one of the accepted answers, complete and marked finished; see the rubric. */
export function judgeAnswer(r: Reading, accepted: Answer[], checks: AnswerChecks = {}): Verdict {
  if (r.kind !== 'answer') return judgeNonAnswer(r, accepted);
  const match = accepted.find((a) => a.text === r.text);
  if (!match) {
    const truncated = accepted.some((a) => a.text.startsWith(r.text));
    return fail(
      truncated
        ? `truncated answer presented as complete (${r.text.length} chars: "${clip(r.text, 30)}")`
        : `wrong answer: "${clip(r.text)}"`,
    );
  }
  if (r.finishReason === undefined) return fail('answer ended without a finish_reason');
  // Every OpenAI stream ends with it, and clients that wait for it (rather than for the connection to
  // end) would hang; a gateway relays it, or adds it when the upstream left it out.
  if (r.stream && !r.sawDone) return fail('the stream ended without data: [DONE]');
  if (checks.model) {
    const wrong = r.models.filter((m) => m !== match.model);
    if (r.models.length === 0) return fail(`the answer names no model (${match.from} answered)`);
    if (wrong.length > 0) return fail(`the answer names ${wrong.join(', ')}; ${match.model} answered`);
  }
  if (checks.usage) {
    const u = r.usage;
    if (u === undefined) return fail(`no usage reported (${match.from} reported some)`);
    const want = match.usage;
    if (u.prompt !== want.prompt || u.completion !== want.completion || u.total !== want.total)
      return fail(
        `usage ${u.prompt}+${u.completion}=${u.total} tokens; the ${match.from} attempt used ${want.prompt}+${want.completion}=${want.total}`,
      );
  }
  return pass(`answered by the ${match.from}`);
}

/**
 * Retrying a 429 too soon: each retry must come at least `minGapMs` after the previous attempt
 * (Retry-After, or a backoff when there is none). Fails with the shortest gap seen.
 */
export function judgeRetryGaps(attempts: RecordedRequest[], minGapMs: number, what: string): Verdict {
  const gaps = attempts.slice(1).map((r, i) => r.receivedAt - (attempts[i]?.receivedAt ?? r.receivedAt));
  const shortest = Math.min(...gaps);
  if (gaps.length > 0 && shortest < minGapMs)
    return fail(`retried ${shortest} ms after a 429 ${what} (≥ ${minGapMs} ms expected)`);
  return pass(gaps.length === 0 ? 'not retried' : `retried after ${shortest} ms`);
}

/** Steps whose response, written in full, is an answer a provider would bill (error statuses are not). */
const ANSWERS = new Set(['ok', 'slow-first-token', 'malformed-chunk', 'no-done', 'stall', 'cut-stream']);

/** A complete upstream answer; a JSON body replaced by `{not json` (malformed-chunk) is not one. */
const billed = (r: RecordedRequest) =>
  r.completed && r.step !== undefined && ANSWERS.has(r.step) && (r.stream || r.step !== 'malformed-chunk');

/** Double billing when measurable: one client call may cost at most one complete upstream answer. */
export function judgeBilling(upstream: RecordedRequest[]): Verdict {
  const answers = upstream.filter(billed);
  return answers.length > 1
    ? fail(`double billing: ${answers.length} complete upstream answers for one call`)
    : pass('billed once at most');
}

// The reliability scorecard's failure classes (issue #3, scored in issue #7) as data: what the fake
// upstreams do, which calls the caller makes, and the judge that grades what the caller got. The same
// definitions drive the bench (every gateway) and test/sidecar/scorecard.test.ts (Turnout must pass).
// Fakes are simulated providers (test/fakes); the rubric is in docs/benchmarks-scorecard.md.
import type { RecordedRequest, Step } from '../../test/fakes/index.ts';
import type { Exchange } from './exchange.ts';
import {
  cleanError,
  fail,
  judgeAnswer,
  judgeNonAnswer,
  judgeRetryGaps,
  pass,
  worst,
  type Answer,
  type Verdict,
} from './judges.ts';
import type { Reading } from './reading.ts';

/** The model name callers ask every gateway for. */
export const MODEL = 'scorecard-model';
/** How long the caller waits for a call to end (response and, for a stream, its last byte). */
export const DEADLINE_MS = 12_000;
/** A fault that outlasts any reasonable wait: the caller's deadline decides, not the fake. */
const FOREVER_MS = 120_000;
/** Gap between stream deltas where a fault strikes mid-answer, so the first deltas reach the caller before it. */
const TRICKLE_MS = 100;

const answer = (from: string, model: string, words: string, usage: [number, number]): Answer => ({
  from,
  text: words,
  model,
  usage: { prompt: usage[0], completion: usage[1], total: usage[0] + usage[1] },
});

export const PRIMARY = answer('primary', 'primary-model-2025', 'the primary says: a b c d e f', [11, 13]);
export const FALLBACK = answer('fallback', 'fallback-model-2025', 'the fallback says: u v w x y z', [17, 19]);

/** Answer fields of a step, so the fakes say exactly what the judges expect (6 stream deltas). */
function fields(a: Answer) {
  return {
    content: a.text,
    model: a.model,
    chunks: 6,
    usage: { promptTokens: a.usage.prompt, completionTokens: a.usage.completion },
  };
}
export const primaryOk: Step = { kind: 'ok', ...fields(PRIMARY) };
export const fallbackOk: Step = { kind: 'ok', ...fields(FALLBACK) };
/** A primary fault step that, where it sends an answer at all, sends the primary's. */
const primaryStep = (s: Step): Step => ({ ...fields(PRIMARY), ...s });

export interface ScenarioCall {
  stream: boolean;
  /** What the primary does for this call, attempt by attempt; then it behaves as `primaryThen`. */
  primary: Step[];
}

/** One call as the caller saw it, and what each fake upstream received meanwhile. */
export interface Observation {
  call: ScenarioCall;
  exchange: Exchange;
  reading: Reading;
  primary: RecordedRequest[];
  fallback: RecordedRequest[];
}

export interface Scenario {
  id: string;
  title: string;
  /** `single`: the primary alone; `fallback`: the primary, then the fallback (which always answers). */
  route: 'single' | 'fallback';
  /** One line: what earns a pass. */
  passes: string;
  /** The primary once a call's scripted steps are used up (default: a normal answer). */
  primaryThen?: Step;
  /** Made one after another against one running gateway; the fakes are reset between calls. */
  calls: ScenarioCall[];
  judge(o: Observation): Verdict;
}

const both = (primary: Step[]): ScenarioCall[] => [
  { stream: false, primary },
  { stream: true, primary },
];
const streamOnly = (primary: Step[]): ScenarioCall[] => [{ stream: true, primary }];

const EITHER = [PRIMARY, FALLBACK];
const answered = (accepted: Answer[]) => (o: Observation) => judgeAnswer(o.reading, accepted);

/**
 * Mid-stream failures: content already sent cannot be taken back, so an in-band error after it is the
 * best outcome. The primary sends text before it fails (2 deltas), so an error with no text before it
 * means that text was lost, or that nothing had been committed and the call could have failed over.
 */
function judgeMidStream(o: Observation): Verdict {
  const r = o.reading;
  if (!o.call.stream || r.kind === 'answer') return judgeAnswer(r, EITHER);
  if (r.kind === 'in-band-error' && r.text === '')
    return cleanError(
      `in-band error before any text, though the primary sent text first: ${r.message.slice(0, 50)}`,
    );
  if (r.kind === 'in-band-error' && EITHER.some((a) => a.text.startsWith(r.text)))
    return pass(`in-band error after ${r.text.length} chars`);
  return judgeNonAnswer(r, EITHER);
}

function judgeContextLength(o: Observation): Verdict {
  const r = o.reading;
  if (r.kind !== 'error') return judgeAnswer(r, [FALLBACK]);
  const told = r.code === 'context_length_exceeded' || /context length/i.test(r.message);
  if (r.status >= 400 && r.status < 500 && told)
    return cleanError(`${r.status} context_length_exceeded; the larger fallback was not tried`);
  return fail(`${r.status} "${r.message.slice(0, 50)}": the caller is not told the prompt is too long`);
}

function judgeContentFilter(o: Observation): Verdict {
  const r = o.reading;
  if (o.primary.length > 1 || o.fallback.length > 0)
    return fail(
      `content-policy refusal retried (primary ×${o.primary.length}, fallback ×${o.fallback.length})`,
    );
  if (r.kind !== 'error')
    return r.kind === 'answer' ? fail('a refused prompt got an answer') : judgeNonAnswer(r, []);
  const reason = r.code === 'content_filter' || /content management policy/.test(r.message);
  if (r.status >= 500) return fail(`refusal turned into a ${r.status}: "${r.message.slice(0, 50)}"`);
  return reason
    ? pass(`${r.status} content_filter reached the caller, not retried`)
    : cleanError(`${r.status} without the provider's reason: "${r.message.slice(0, 50)}"`);
}

/** Primary faults for the flapping scenario's bad turns, in rotation. */
const FLAPS: Step[] = [
  { kind: 'status', status: 500 },
  { kind: 'reset' },
  { kind: 'status', status: 503 },
  { kind: 'status', status: 502 },
];

export const SCENARIOS: readonly Scenario[] = [
  {
    id: '429-retry-after',
    title: '429 with Retry-After',
    route: 'single',
    passes: 'the primary is retried no sooner than Retry-After (1 s) and its answer arrives',
    calls: both([{ kind: 'status', status: 429, retryAfter: '1' }]),
    judge: (o) =>
      worst(judgeRetryGaps(o.primary, 900, 'with Retry-After: 1'), judgeAnswer(o.reading, [PRIMARY])),
  },
  {
    id: '429-no-retry-after',
    title: '429 without Retry-After',
    route: 'single',
    passes: 'the primary is retried after a backoff (≥ 50 ms, never at once) and its answer arrives',
    calls: both([{ kind: 'status', status: 429 }]),
    judge: (o) =>
      worst(judgeRetryGaps(o.primary, 50, 'without Retry-After'), judgeAnswer(o.reading, [PRIMARY])),
  },
  {
    id: '500-once',
    title: '500 once',
    route: 'single',
    passes: 'the primary is retried and its answer arrives',
    calls: both([{ kind: 'status', status: 500 }]),
    judge: answered([PRIMARY]),
  },
  {
    id: '503-persistent',
    title: '503 persistent',
    route: 'fallback',
    passes: 'every call is answered by the fallback',
    primaryThen: { kind: 'status', status: 503 },
    calls: [...both([]), ...both([])],
    judge: answered([FALLBACK]),
  },
  {
    id: 'reset-before-headers',
    title: 'reset before headers',
    route: 'fallback',
    passes: 'a complete answer (fallback, or the primary retried)',
    calls: both([{ kind: 'reset' }]),
    judge: answered(EITHER),
  },
  {
    id: 'no-response',
    title: 'no response',
    route: 'fallback',
    passes: 'the silent primary is abandoned and the fallback answers within the deadline',
    calls: both([{ kind: 'hang' }]),
    judge: answered(EITHER),
  },
  {
    id: 'slow-first-token',
    title: 'slow first token',
    route: 'fallback',
    passes: 'headers but no first byte for 120 s: the fallback answers within the deadline',
    calls: both([primaryStep({ kind: 'slow-first-token', delayMs: FOREVER_MS })]),
    judge: answered(EITHER),
  },
  {
    id: 'stream-cut',
    title: 'stream cut',
    route: 'fallback',
    passes: 'stream: an in-band error after the partial text; JSON (cut in half): a complete answer',
    calls: both([primaryStep({ kind: 'cut-stream', afterChunks: 2, chunkDelayMs: TRICKLE_MS })]),
    judge: judgeMidStream,
  },
  {
    id: 'stream-stall',
    title: 'stream stall',
    route: 'fallback',
    passes: 'stream: an in-band error within the deadline; JSON (stalled half way): a complete answer',
    calls: both([primaryStep({ kind: 'stall', afterChunks: 2, chunkDelayMs: TRICKLE_MS })]),
    judge: judgeMidStream,
  },
  {
    id: 'malformed-chunk',
    title: 'malformed chunk',
    route: 'fallback',
    passes:
      'the malformed event is skipped (stream) or the answer comes from elsewhere (JSON); complete text',
    calls: both([primaryStep({ kind: 'malformed-chunk', afterChunks: 2 })]),
    judge: answered(EITHER),
  },
  {
    id: 'no-done',
    title: 'no [DONE]',
    route: 'fallback',
    passes: 'the stream ends promptly with the complete text, finish_reason and the upstream usage',
    calls: streamOnly([primaryStep({ kind: 'no-done' })]),
    judge: (o) => judgeAnswer(o.reading, [PRIMARY], { usage: true }),
  },
  {
    id: 'context-length',
    title: 'context length exceeded',
    route: 'fallback',
    passes: 'the fallback (no smaller window declared) answers',
    calls: both([{ kind: 'context-length' }]),
    judge: judgeContextLength,
  },
  {
    id: 'content-filter',
    title: 'content filter',
    route: 'fallback',
    passes: 'the 4xx content_filter refusal reaches the caller with its reason, not retried anywhere',
    calls: both([{ kind: 'content-filter' }]),
    judge: judgeContentFilter,
  },
  {
    id: 'flapping-primary',
    title: 'flapping primary',
    route: 'fallback',
    passes: 'the primary alternates good and bad (500, reset, 503, 502) over 8 calls: every call answered',
    calls: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({
      stream: i % 4 >= 2,
      primary: i % 2 === 0 ? [] : [FLAPS[(i - 1) / 2] ?? { kind: 'status', status: 500 }],
    })),
    judge: answered(EITHER),
  },
  {
    id: 'failover-accounting',
    title: 'failover accounting',
    route: 'fallback',
    passes: 'the answer names the fallback model that answered and its usage alone',
    primaryThen: { kind: 'status', status: 503 },
    calls: both([]),
    judge: (o) => judgeAnswer(o.reading, [FALLBACK], { model: true, usage: true }),
  },
];

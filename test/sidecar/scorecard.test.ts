// The reliability scorecard (bench/scorecard, issue #7) run against Turnout alone: every failure class
// must grade pass, so a regression fails CI with the judge's reason. The scenarios are the bench's own
// definitions; the fakes are simulated providers. The judges themselves are checked on hand-made
// exchanges first, so a pass means what the rubric says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { turnoutGateway } from '../../bench/peers/turnout.ts';
import type { Exchange } from '../../bench/scorecard/exchange.ts';
import { judgeBilling, judgeRetryGaps } from '../../bench/scorecard/judges.ts';
import { read } from '../../bench/scorecard/reading.ts';
import { runScenario } from '../../bench/scorecard/run.ts';
import {
  FALLBACK,
  PRIMARY,
  SCENARIOS,
  type Observation,
  type Scenario,
} from '../../bench/scorecard/scenarios.ts';
import type { RecordedRequest, StepKind } from '../fakes/index.ts';

const scenario = (id: string): Scenario => {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s) throw new Error(`no scenario ${id}`);
  return s;
};

const chunk = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    object: 'chat.completion.chunk',
    model: FALLBACK.model,
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  });
const finish = (reason = 'stop') =>
  JSON.stringify({
    object: 'chat.completion.chunk',
    model: FALLBACK.model,
    choices: [{ index: 0, delta: {}, finish_reason: reason }],
  });
const usageChunk = (prompt: number, completion: number) =>
  JSON.stringify({
    model: FALLBACK.model,
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  });

function sse(data: string[], ending: Exchange['ending'] = 'end'): Exchange {
  return {
    stream: true,
    elapsedMs: 5,
    status: 200,
    contentType: 'text/event-stream',
    body: '',
    events: data.map((d) => ({ data: d })),
    ending,
  };
}

function json(status: number, body: unknown, ending: Exchange['ending'] = 'end'): Exchange {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    stream: false,
    elapsedMs: 5,
    status,
    contentType: 'application/json',
    body: text,
    events: [],
    ending,
  };
}

function recorded(step: StepKind, extra: Partial<RecordedRequest> = {}): RecordedRequest {
  return {
    seq: 1,
    method: 'POST',
    path: '/v1/chat/completions',
    query: '',
    headers: {},
    body: {},
    bodyBytes: 2,
    receivedAt: 0,
    endpoint: 'chat.completions',
    model: 'm',
    stream: false,
    apiKey: undefined,
    step,
    aborted: false,
    completed: true,
    ...extra,
  };
}

function grade(
  id: string,
  x: Exchange,
  upstream: { primary?: RecordedRequest[]; fallback?: RecordedRequest[] } = {},
) {
  const o: Observation = {
    call: { stream: x.stream, primary: [] },
    exchange: x,
    reading: read(x),
    primary: upstream.primary ?? [],
    fallback: upstream.fallback ?? [],
  };
  return scenario(id).judge(o);
}

const fallbackStream = [
  chunk('the fallback says: '),
  chunk('u v w x y z'),
  finish(),
  usageChunk(17, 19),
  '[DONE]',
];

describe('scorecard judges tell outcomes apart', () => {
  it('a complete stream from the fallback passes; the same text cut short but ended cleanly fails', () => {
    assert.equal(grade('503-persistent', sse(fallbackStream)).grade, 'pass');
    const truncated = grade('503-persistent', sse([chunk('the fallback says: '), finish(), '[DONE]']));
    assert.equal(truncated.grade, 'fail');
    assert.match(truncated.reason, /truncated answer presented as complete/);
    const noFinish = grade('503-persistent', sse([chunk(FALLBACK.text)]));
    assert.match(noFinish.reason, /without a finish_reason/);
  });

  it('a broken-off stream, a reasonless 502, a foreign error body and the deadline are failures', () => {
    const broken = sse([chunk('the fallback says: ')], 'broken');
    assert.equal(grade('503-persistent', broken).grade, 'fail');
    assert.equal(grade('503-persistent', json(502, '')).grade, 'fail');
    assert.equal(grade('503-persistent', json(500, { status: 'failure', message: 'x' })).grade, 'fail');
    assert.equal(
      grade('no-response', { ...json(200, ''), status: undefined, ending: 'deadline' }).grade,
      'fail',
    );
  });

  it('an OpenAI error is a clean error; garbled JSON or events are failures', () => {
    const error = json(503, { error: { message: 'upstream overloaded', type: 'server_error' } });
    assert.equal(grade('503-persistent', error).grade, 'clean error');
    assert.equal(grade('malformed-chunk', json(200, '{not json')).grade, 'fail');
    assert.equal(
      grade('malformed-chunk', sse([chunk('the '), '{not json', finish(), '[DONE]'])).grade,
      'fail',
    );
  });

  it('mid-stream: an in-band error after a prefix passes, after text from elsewhere fails', () => {
    const inBand = (first: string) =>
      sse([chunk(first), JSON.stringify({ error: { message: 'upstream stream failed' } })]);
    assert.equal(grade('stream-cut', inBand('the primary says: ')).grade, 'pass');
    assert.equal(grade('stream-cut', inBand('the primary says: u v w')).grade, 'fail');
    assert.equal(grade('500-once', inBand('the primary says: ')).grade, 'clean error');
  });

  it('failover accounting: the serving model and its usage alone', () => {
    assert.equal(grade('failover-accounting', sse(fallbackStream)).grade, 'pass');
    const summed = [...fallbackStream.slice(0, 3), usageChunk(28, 32), '[DONE]'];
    assert.match(grade('failover-accounting', sse(summed)).reason, /usage 28\+32=60 tokens/);
    const renamed = fallbackStream.map((d) => d.replace(FALLBACK.model, PRIMARY.model));
    assert.match(grade('failover-accounting', sse(renamed)).reason, /names primary-model/);
  });

  it('content filter: the reason unretried passes; retried anywhere fails; reason lost is a clean error', () => {
    const refusal = json(400, { error: { message: 'filtered', code: 'content_filter' } });
    assert.equal(grade('content-filter', refusal, { primary: [recorded('content-filter')] }).grade, 'pass');
    const elsewhere = { primary: [recorded('content-filter')], fallback: [recorded('ok')] };
    assert.equal(grade('content-filter', json(200, ''), elsewhere).grade, 'fail');
    const generic = json(400, { error: { message: 'bad request' } });
    assert.equal(
      grade('content-filter', generic, { primary: [recorded('content-filter')] }).grade,
      'clean error',
    );
  });

  it('retry gaps and double billing', () => {
    const at = (ms: number) => recorded('status', { receivedAt: ms });
    assert.equal(judgeRetryGaps([at(0), at(1000)], 900, 'with Retry-After: 1').grade, 'pass');
    assert.equal(judgeRetryGaps([at(0), at(3)], 900, 'with Retry-After: 1').grade, 'fail');
    assert.equal(judgeBilling([recorded('status'), recorded('ok')]).grade, 'pass');
    assert.equal(judgeBilling([recorded('ok'), recorded('ok')]).grade, 'fail');
  });
});

describe('reliability scorecard: Turnout passes every failure class', () => {
  for (const s of SCENARIOS) {
    it(s.title, async () => {
      const result = await runScenario(turnoutGateway, s);
      assert.equal(result.grade, 'pass', result.reason);
    });
  }
});

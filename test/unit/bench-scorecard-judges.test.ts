// The scorecard's judges on hand-made exchanges: what a caller could see from a gateway, graded as the
// bench grades it. A judge that passes a let-down caller makes every gateway look good, Turnout included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Exchange } from '../../bench/scorecard/exchange.ts';
import type { Grade } from '../../bench/scorecard/judges.ts';
import { read } from '../../bench/scorecard/reading.ts';
import { FALLBACK, PRIMARY, SCENARIOS } from '../../bench/scorecard/scenarios.ts';

const DONE = '[DONE]';

/** A stream that ended cleanly, with these event data in order. */
const sse = (data: string[]): Exchange => ({
  stream: true,
  elapsedMs: 5,
  status: 200,
  contentType: 'text/event-stream',
  body: data.map((d) => `data: ${d}\n\n`).join(''),
  events: data.map((d) => ({ data: d })),
  ending: 'end',
});

const json = (body: unknown): Exchange => ({
  stream: false,
  elapsedMs: 5,
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(body),
  events: [],
  ending: 'end',
});

const chunk = (model: string, content: string, finish: string | null = null) =>
  JSON.stringify({ model, choices: [{ index: 0, delta: { content }, finish_reason: finish }] });
const usage = (model: string, prompt: number, completion: number) =>
  JSON.stringify({
    model,
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  });
const inBand = JSON.stringify({
  error: { message: 'upstream stream failed', code: 'upstream_stream_error' },
});

/** The complete stream of one fake's answer, in three deltas, with its usage; [DONE] unless left out. */
function answerStream(a: typeof PRIMARY, done = true): string[] {
  const third = Math.ceil(a.text.length / 3);
  return [
    chunk(a.model, a.text.slice(0, third)),
    chunk(a.model, a.text.slice(third, 2 * third)),
    chunk(a.model, a.text.slice(2 * third), 'stop'),
    usage(a.model, a.usage.prompt, a.usage.completion),
    ...(done ? [DONE] : []),
  ];
}

function grade(id: string, x: Exchange): Grade {
  const scenario = SCENARIOS.find((s) => s.id === id);
  assert.ok(scenario, id);
  const verdict = scenario.judge({
    call: { stream: x.stream, primary: [] },
    exchange: x,
    reading: read(x),
    primary: [],
    fallback: [],
  });
  return verdict.grade;
}

describe('scorecard judges: mid-stream failures', () => {
  for (const id of ['stream-cut', 'stream-stall']) {
    it(`${id}: an in-band error passes only after the text the primary had sent`, () => {
      const prefix = PRIMARY.text.slice(0, 10);
      assert.equal(grade(id, sse([chunk(PRIMARY.model, prefix), inBand])), 'pass');
      // The fakes send text before the fault: an error with none before it lost that text, or was
      // sent instead of failing over before anything was committed.
      assert.equal(grade(id, sse([inBand])), 'clean error');
      assert.equal(grade(id, sse([chunk(PRIMARY.model, 'not the answer'), inBand])), 'fail');
    });

    it(`${id}: a complete answer passes, from either upstream`, () => {
      assert.equal(grade(id, sse(answerStream(PRIMARY))), 'pass');
      assert.equal(grade(id, sse(answerStream(FALLBACK))), 'pass');
    });
  }
});

describe('scorecard judges: the end of a stream', () => {
  it('no [DONE]: the relayed stream must end with data: [DONE]', () => {
    assert.equal(grade('no-done', sse(answerStream(PRIMARY))), 'pass');
    assert.equal(grade('no-done', sse(answerStream(PRIMARY, false))), 'fail');
  });

  it('503 persistent: a fallback stream without [DONE] fails; a JSON answer needs none', () => {
    assert.equal(grade('503-persistent', sse(answerStream(FALLBACK))), 'pass');
    assert.equal(grade('503-persistent', sse(answerStream(FALLBACK, false))), 'fail');
    const completion = {
      model: FALLBACK.model,
      choices: [{ index: 0, message: { role: 'assistant', content: FALLBACK.text }, finish_reason: 'stop' }],
    };
    assert.equal(grade('503-persistent', json(completion)), 'pass');
  });
});

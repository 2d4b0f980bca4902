// The soak's verdict logic on hand-made results (the soak itself runs for ten minutes and is not run in
// tests): which errors an injected fault explains, internal errors on the sidecar's stderr, and whether
// the decision log says what the callers saw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeStream, type Failure } from '../../bench/soak/load.ts';
import { passed, soakMarkdown, type SoakRecord } from '../../bench/soak/report.ts';
import {
  callerClasses,
  decisionClass,
  disagreements,
  isExplained,
  isInternalErrorLine,
  type Flatness,
} from '../../bench/soak/verdict.ts';

const MODEL = 'gpt-4o-mini';
const ANSWER = `echo:${MODEL}:soak-7`;
const CUT = new Map([[7, ['cut-stream']]]);

const delta = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;
const inBand = `data: ${JSON.stringify({ error: { code: 'upstream_stream_error', message: 'cut' } })}\n\n`;

describe('soak: which stream errors a cut explains', () => {
  it('an in-band error after a true prefix of the answer, on a stream the primary cut', () => {
    const f = judgeStream(7, delta(ANSWER.slice(0, 9)) + inBand, MODEL, 'primary');
    assert.equal(f?.prefixIntact, true);
    assert.ok(f && isExplained(f, CUT));
  });

  it('not an in-band error with no text before it: the fake sent deltas before it cut', () => {
    const f = judgeStream(7, inBand, MODEL, 'primary');
    assert.equal(f?.kind, 'in-band-error');
    assert.equal(f?.prefixIntact, false);
    assert.ok(f && !isExplained(f, CUT));
  });

  it('not text that is no prefix of the answer, nor a cut the upstream did not inject', () => {
    const garbled = judgeStream(7, delta('echo:other') + inBand, MODEL, 'primary');
    assert.ok(garbled && !isExplained(garbled, CUT));
    const uncut = judgeStream(7, delta(ANSWER.slice(0, 9)) + inBand, MODEL, 'primary');
    assert.ok(uncut && !isExplained(uncut, new Map()));
  });
});

describe('soak: internal errors and the decision log', () => {
  it('recognises the internal error lines turnout dev writes', () => {
    assert.ok(isInternalErrorLine('internal error: TypeError: x is undefined'));
    assert.ok(!isInternalErrorLine('    at handle (server.ts:1:1)'));
    assert.ok(!isInternalErrorLine('telemetry: OTEL_TRACES_SAMPLER_ARG is not a number'));
  });

  const totals = (failures: Failure[]) => ({ ok: { stream: 5, json: 4 }, failures });
  const cut: Failure = {
    id: 7,
    stream: true,
    kind: 'in-band-error',
    code: 'upstream_stream_error',
    provider: 'primary',
    prefixIntact: true,
  };
  const refused: Failure = {
    id: 8,
    stream: false,
    kind: 'http-error',
    status: 502,
    code: 'upstream_unavailable',
  };
  const logOf = (decisions: { status: number; outcome: string }[]) => {
    const byClass = new Map<string, number>();
    for (const d of decisions) byClass.set(decisionClass(d), (byClass.get(decisionClass(d)) ?? 0) + 1);
    return byClass;
  };
  const answered = Array.from({ length: 9 }, () => ({ status: 200, outcome: 'ok' }));

  it('agrees when every call is logged as its caller saw it', () => {
    const log = logOf([
      ...answered,
      { status: 200, outcome: 'upstream_stream_error' },
      { status: 502, outcome: 'upstream_unavailable' },
    ]);
    assert.deepEqual(disagreements(callerClasses(totals([cut, refused])), log), []);
  });

  it('disagrees when a stream its caller saw fail is logged as answered, or a call is missing', () => {
    const okInstead = logOf([...answered, { status: 200, outcome: 'ok' }, { status: 502, outcome: 'x' }]);
    assert.deepEqual(disagreements(callerClasses(totals([cut, refused])), okInstead), [
      '200 ok: callers saw 9, the decision log has 10',
      '200 upstream_stream_error: callers saw 1, the decision log has 0',
    ]);
    const missing = logOf([...answered, { status: 200, outcome: 'upstream_stream_error' }]);
    assert.deepEqual(disagreements(callerClasses(totals([cut, refused])), missing), [
      '502: callers saw 1, the decision log has 0',
    ]);
  });

  const flat: Flatness = {
    windowS: 60,
    baseline: { rss: 1, fds: 10, heapUsed: 1, samples: 10 },
    final: { rss: 1, fds: 10, heapUsed: 1, samples: 10, fdsMax: 10 },
    rssChange: 0,
    rssFlat: true,
    fdGrowth: 0,
    fdSlack: 4,
    fdFlat: true,
  };
  const sample = { t: 0, rss: 1, fds: 10, heapUsed: 1, inflight: 0 };
  const record = (extra: Partial<SoakRecord> = {}): SoakRecord => ({
    date: '2026-01-01T00:00:00.000Z',
    machine: 'test',
    command: 'npm run soak',
    knobs: { seconds: 600, rps: 500, faultRate: 0.05, connections: 64, sampleS: 5, settleS: 75 },
    sidecar: 'built JS',
    cpuBusyBefore: 0,
    loadavg: { before: 0, after: 0 },
    totals: { scheduled: 9, ok: { stream: 5, json: 4 }, failures: [], seconds: 600 },
    latency: { stream: { p50: 1, p99: 1, max: 1 }, json: { p50: 1, p99: 1, max: 1 } },
    explained: [],
    unexplained: [],
    injected: {},
    primaryRequests: 9,
    decisions: { byStatus: { '200': 9 }, failedOver: 0, disagreements: [] },
    stderr: [],
    internalErrors: 0,
    samples: [sample],
    idle: { before: sample, after: sample, settle: [sample] },
    flat,
    exitCode: 0,
    ...extra,
  });

  it('a run passes only without internal errors and with a decision log that agrees', () => {
    assert.equal(passed(record()), true);
    assert.equal(passed(record({ internalErrors: 1 })), false);
    assert.equal(passed(record({ internalErrors: undefined, stderr: ['internal error: boom'] })), false);
    const disagreeing = record({
      decisions: {
        byStatus: {},
        failedOver: 0,
        disagreements: ['502: callers saw 1, the decision log has 0'],
      },
    });
    assert.equal(passed(disagreeing), false);
    assert.match(
      soakMarkdown(disagreeing),
      /decision log agrees with what callers saw \| 502: callers saw 1/,
    );
    assert.match(
      soakMarkdown(record({ internalErrors: 2 })),
      /internal errors on the sidecar's stderr \| 2 \| 0 \| \*\*FAIL\*\*/,
    );
  });
});

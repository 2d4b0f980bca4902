// The rate search's load generator, as the bench reads it: vegeta's targets written in its JSON format,
// its nanosecond timestamps parsed without losing precision, and latencies re-counted from each hit's
// due time so a pacer that fell behind shows up as latency, not as a gateway that looked fast.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTimestamp, summarizeHits, targetLine, type VegetaHit } from '../../bench/peers/vegeta.ts';

/** A hit sent `sentUs` µs after 12:00:00 UTC that took `latencyUs`. */
function hit(seq: number, sentUs: number, latencyUs: number, code = 200, error = ''): VegetaHit {
  const ns = Math.round(sentUs * 1000);
  const whole = Math.floor(ns / 1e9);
  const frac = String(ns % 1e9).padStart(9, '0');
  const timestamp = `2026-11-23T12:00:${String(whole).padStart(2, '0')}.${frac}Z`;
  return { seq, code, timestamp, latency: latencyUs * 1000, error };
}

describe('vegeta results', () => {
  it('writes a JSON target with the body in base64 and every header as a list', () => {
    const line = JSON.parse(
      targetLine({
        url: 'http://127.0.0.1:1/v1/chat/completions',
        body: '{"a":"é"}',
        headers: { 'x-k': 'v' },
      }),
    ) as { method: string; url: string; body: string; header: Record<string, string[]> };
    assert.equal(line.method, 'POST');
    assert.equal(Buffer.from(line.body, 'base64').toString(), '{"a":"é"}');
    assert.deepEqual(line.header, { 'Content-Type': ['application/json'], 'x-k': ['v'] });
  });

  it('parses RFC 3339 timestamps to the nanosecond, with or without a fraction or a zone offset', () => {
    assert.deepEqual(parseTimestamp('2026-11-23T00:09:00.720573639Z'), [
      Date.UTC(2026, 10, 23, 0, 9, 0),
      720_573_639,
    ]);
    assert.deepEqual(parseTimestamp('2026-11-23T00:09:00.5Z'), [
      Date.UTC(2026, 10, 23, 0, 9, 0),
      500_000_000,
    ]);
    assert.deepEqual(parseTimestamp('2026-11-23T01:09:00+01:00'), [Date.UTC(2026, 10, 23, 0, 9, 0), 0]);
    assert.throws(() => parseTimestamp('yesterday'), /vegeta timestamp not understood: yesterday/);
  });

  it('counts latency from the due time: a hit sent late carries its lateness', () => {
    // 1000 req/s: hit i is due at i ms. Hit 2 went out 3 ms late and took 0.2 ms.
    const hits = [hit(0, 0, 200), hit(1, 1000, 200), hit(2, 5000, 200), hit(3, 3000, 200)];
    const r = summarizeHits(hits, 1000, 4);
    assert.deepEqual(
      r.latencies.map((l) => Math.round(l)),
      [200, 200, 3200, 200],
    );
    assert.equal(r.ok, 4);
    assert.equal(r.errors, 0);
    assert.equal(r.scheduled, 4);
  });

  it('takes the start from the most punctual hit, not from a late first one', () => {
    const hits = [hit(0, 700, 100), hit(1, 1000, 100), hit(2, 2000, 100)];
    const r = summarizeHits(hits, 1000, 3);
    assert.deepEqual(
      r.latencies.map((l) => Math.round(l)),
      [800, 100, 100],
    );
  });

  it('counts non-200 answers, transport errors and hits never sent as errors', () => {
    const hits = [hit(0, 0, 100), hit(1, 1000, 100, 500), hit(2, 2000, 0, 0, 'connection refused')];
    const r = summarizeHits(hits, 1000, 6);
    assert.equal(r.ok, 1);
    assert.equal(r.errors, 2 + 3);
    assert.equal(r.scheduled, 6);
  });

  it('forgives the one hit that rate × duration rounds to but vegeta stops before sending', () => {
    const hits = [hit(0, 0, 100), hit(1, 1000, 100), hit(2, 2000, 100)];
    const r = summarizeHits(hits, 1000, 4);
    assert.equal(r.errors, 0);
    assert.equal(r.scheduled, 3);
    assert.equal(r.ok, r.scheduled);
  });

  it('reports the achieved rate over the span from the first due time to the last answer', () => {
    const hits = Array.from({ length: 100 }, (_, i) => hit(i, i * 10_000, 500));
    const r = summarizeHits(hits, 100, 100);
    assert.ok(Math.abs(r.seconds - 0.9905) < 1e-6, String(r.seconds));
    assert.ok(Math.abs(r.achievedRps - 100 / 0.9905) < 1e-3, String(r.achievedRps));
  });
});

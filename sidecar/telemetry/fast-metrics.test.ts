import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.ts';

const BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 1, 10];
const LABELS = ['policy', 'route'] as const;

/** Exposition lines with each line's labels sorted, so label order does not count; order of lines does not either. */
function normalised(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(m, `unparsable line: ${line}`);
      const labels = (m[2] ?? '')
        .split(/,(?=\w+=")/)
        .filter(Boolean)
        .sort()
        .join(',');
      return `${m[1]}{${labels}} ${Number(m[3])}`;
    })
    .sort();
}

const observation = fc.record({
  labels: fc.tuple(fc.constantFrom('app', 'batch', 'a"b'), fc.constantFrom('main', 'smart', 'x\\y')),
  value: fc.oneof(fc.double({ min: 0, max: 20, noNaN: true }), fc.constantFrom(...BUCKETS)),
});

describe('fast metrics', () => {
  it('a histogram exposes exactly what prom-client would for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const ours = new Registry();
        const theirs = new Registry();
        const fast = new FastHistogram({
          name: 'h',
          help: 'h',
          labelNames: LABELS,
          buckets: BUCKETS,
          registers: [ours],
        });
        const reference = new Histogram({
          name: 'h',
          help: 'h',
          labelNames: LABELS,
          buckets: BUCKETS,
          registers: [theirs],
        });
        for (const { labels, value } of observations) {
          fast.observe(labels, value);
          reference.observe({ policy: labels[0], route: labels[1] }, value);
        }
        assert.deepEqual(normalised(await ours.metrics()), normalised(await theirs.metrics()));
      }),
    );
  });

  it('a counter exposes exactly what prom-client would for the same increments', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (incs) => {
        const ours = new Registry();
        const theirs = new Registry();
        const fast = new FastCounter({ name: 'c_total', help: 'c', labelNames: LABELS, registers: [ours] });
        const reference = new Counter({
          name: 'c_total',
          help: 'c',
          labelNames: LABELS,
          registers: [theirs],
        });
        for (const { labels, value } of incs) {
          fast.inc(labels, value);
          reference.inc({ policy: labels[0], route: labels[1] }, value);
        }
        assert.deepEqual(normalised(await ours.metrics()), normalised(await theirs.metrics()));
      }),
    );
  });

  it('keeps series apart, ignores values that are not finite (or negative, for a counter), and refuses the wrong number of labels', async () => {
    const registry = new Registry();
    const h = new FastHistogram({
      name: 'h',
      help: 'h',
      labelNames: LABELS,
      buckets: [1],
      registers: [registry],
    });
    const c = new FastCounter({ name: 'c_total', help: 'c', labelNames: ['a'], registers: [registry] });
    h.observe(['p', 'r'], 0.5);
    h.observe(['p', 'r'], NaN);
    h.observe(['p', 'r'], Infinity);
    h.observe(['p', 'r2'], 2);
    c.inc(['x']);
    c.inc(['x'], -1);
    c.inc(['x'], NaN);
    c.inc(['y'], 2.5);
    const text = await registry.metrics();
    assert.match(text, /^h_count\{policy="p",route="r"\} 1$/m);
    assert.match(text, /^h_bucket\{policy="p",route="r2",le="1"\} 0$/m);
    assert.match(text, /^h_bucket\{policy="p",route="r2",le="\+Inf"\} 1$/m);
    assert.match(text, /^c_total\{a="x"\} 1$/m);
    assert.match(text, /^c_total\{a="y"\} 2.5$/m);
    assert.throws(() => h.observe(['p'], 1), /h: 1 label values for 2 labels/);
    // Values that would run together if joined stay two series.
    h.observe(['a,b', 'c'], 1);
    h.observe(['a', 'b,c'], 1);
    assert.match(await registry.metrics(), /^h_count\{policy="a,b",route="c"\} 1$/m);
    assert.match(await registry.metrics(), /^h_count\{policy="a",route="b,c"\} 1$/m);
  });

  it('refuses a second metric of the same name on one registry, as prom-client does', () => {
    const registry = new Registry();
    new FastCounter({ name: 'dup_total', help: 'd', labelNames: ['a'], registers: [registry] });
    assert.throws(
      () => new Counter({ name: 'dup_total', help: 'd', labelNames: ['a'], registers: [registry] }),
      /already been registered/,
    );
  });
});

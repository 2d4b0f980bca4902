import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carried } from '../../bench/report-carry.ts';
import type { AnySuite } from '../../bench/suite.ts';

const suite = (name: string, title: string) => ({ name, title }) as AnySuite;

const PREVIOUS = [
  '# Benchmark results',
  '',
  '## Targets',
  '',
  '| suite | metric | value | target | result |',
  '|---|---|---:|---:|---|',
  '| alpha | a metric | 1× | ≤ 2× | pass |',
  '| beta | b metric | 9 MB | ≤ 8 MB | **FAIL** |',
  '| beta | b other | 3 | ≥ 1 | pass |',
  '',
  '## Alpha suite',
  '',
  'Suite `alpha`, run 2026-11-20 10:00 UTC with `BENCH_ONLY=alpha npm run bench` in 3 s.',
  '',
  '## Beta suite',
  '',
  'Suite `beta`, run 2026-11-21 11:00 UTC with `BENCH_ONLY=beta,gamma npm run bench` in 9 s.',
  '',
  '| x | y |',
  '',
  '## Gamma suite',
  '',
  'Suite `gamma`: no result recorded yet (`BENCH_ONLY=gamma npm run bench`).',
  '',
].join('\n');

describe('bench report: sections carried from the previous RESULTS.md', () => {
  it("keeps a suite's own target rows and its whole section, with its run date and command", () => {
    const beta = carried(PREVIOUS, suite('beta', 'Beta suite'));
    assert.deepEqual(beta?.rows, [
      '| beta | b metric | 9 MB | ≤ 8 MB | **FAIL** |',
      '| beta | b other | 3 | ≥ 1 | pass |',
    ]);
    assert.equal(
      beta?.section,
      '## Beta suite\n\nSuite `beta`, run 2026-11-21 11:00 UTC with `BENCH_ONLY=beta,gamma npm run bench` in 9 s.\n\n| x | y |',
    );
    assert.equal(beta?.date, '2026-11-21');
    assert.equal(beta?.command, 'BENCH_ONLY=beta,gamma npm run bench');
  });

  it('carries nothing for a suite that was never recorded or has no section', () => {
    assert.equal(carried(PREVIOUS, suite('gamma', 'Gamma suite')), undefined);
    assert.equal(carried(PREVIOUS, suite('delta', 'Delta suite')), undefined);
    assert.equal(carried('', suite('alpha', 'Alpha suite')), undefined);
  });

  it('stops a section at the next heading, not at a longer title that starts the same', () => {
    const alpha = carried(PREVIOUS, suite('alpha', 'Alpha suite'));
    assert.equal(alpha?.section.endsWith('in 3 s.'), true);
    assert.deepEqual(alpha?.rows, ['| alpha | a metric | 1× | ≤ 2× | pass |']);
  });
});

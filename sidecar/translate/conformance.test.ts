// Table-driven conformance: every recorded-style payload in test/fixtures/translate/ runs through the
// translator its folder names and must produce the canonical output stored alongside it. Stream
// outputs must also be valid streams of the target dialect (checked by reassembling them).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleAnthropic } from './testing/assemble-anthropic.ts';
import { assembleOpenAi } from './testing/assemble-openai.ts';
import { RUNNERS, loadFixtures, type Fixture } from './testing/conformance.ts';
import type { ParsedFrame } from './testing/frames.ts';

const fixtures = loadFixtures();

function expectedOf(f: Fixture): unknown {
  if (f.expectedError !== undefined) return { expectedError: f.expectedError };
  assert.notEqual(f.expected, undefined, `${f.file} has neither expected nor expectedError`);
  return { expected: f.expected };
}

describe('translation conformance fixtures', () => {
  it('cover every translator, and every folder has a translator', () => {
    const kinds = new Set(fixtures.map((f) => f.kind));
    assert.deepEqual([...kinds].sort(), Object.keys(RUNNERS).sort());
    for (const f of fixtures)
      assert.ok(f.description && f.source, `${f.file} documents what it is and where its shape comes from`);
  });

  for (const f of fixtures) {
    it(`${f.file}: ${f.description}`, () => {
      const runner = RUNNERS[f.kind];
      assert.ok(runner);
      // Round-trip through JSON: what matters is what goes on the wire (no undefined fields).
      const actual: unknown = JSON.parse(JSON.stringify(runner(f)));
      assert.deepEqual(actual, expectedOf(f));
      if (f.kind.endsWith('-stream-to-openai') || f.kind.endsWith('-stream-to-anthropic')) {
        const frames = (f.expected as { frames: ParsedFrame[] }).frames;
        if (f.kind.endsWith('-to-openai')) assembleOpenAi(frames);
        else assembleAnthropic(frames);
      }
    });
  }
});

// Property: request translators, fed anything at all, return a JSON-serialisable request or throw one
// of the two documented 400 errors — never anything else (a TypeError here would be a 500 at the edge).
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAiRequestFromAnthropic } from './anthropic-inbound-request.ts';
import { anthropicRequestFromOpenAi } from './anthropic-request.ts';
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { geminiRequestFromOpenAi } from './gemini-request.ts';
import { mutate, request } from './testing/arbitraries.ts';

const TRANSLATORS: Record<string, (body: unknown) => unknown> = {
  anthropicRequestFromOpenAi: (body) =>
    anthropicRequestFromOpenAi(body, { model: 'claude', maxTokensDefault: 1024 }),
  geminiRequestFromOpenAi: (body) => geminiRequestFromOpenAi(body, { model: 'gemini' }),
  openAiRequestFromAnthropic: (body) => openAiRequestFromAnthropic(body, { model: 'gpt' }),
  'openAiRequestFromAnthropic ∘ anthropicRequestFromOpenAi': (body) =>
    openAiRequestFromAnthropic(anthropicRequestFromOpenAi(body, { model: 'claude' })),
};

/** The translation either succeeds with plain JSON or fails with a documented error; which is fine. */
function translatesOrRefuses(translate: (body: unknown) => unknown, body: unknown): void {
  let out: unknown;
  try {
    out = translate(body);
  } catch (e) {
    assert.ok(e instanceof UnsupportedParameter || e instanceof InvalidRequest, `unexpected ${String(e)}`);
    assert.equal(typeof e.param, 'string');
    return;
  }
  assert.deepEqual(JSON.parse(JSON.stringify(out)), out, 'the output is plain JSON');
}

const hostile = fc.oneof(
  fc.anything(),
  fc.jsonValue(),
  fc.record({ model: fc.string(), messages: fc.jsonValue() }),
  fc.record({
    messages: fc.array(
      fc.dictionary(fc.constantFrom('role', 'content', 'tool_calls', 'tool_call_id'), fc.jsonValue()),
    ),
  }),
  request.chain(mutate),
);

describe('request translators under hostile input', () => {
  for (const [name, translate] of Object.entries(TRANSLATORS)) {
    it(`${name}: only UnsupportedParameter or InvalidRequest, otherwise plain JSON`, () => {
      fc.assert(
        fc.property(hostile, (body) => translatesOrRefuses(translate, body)),
        { numRuns: 1000 },
      );
    });
  }

  it('well-formed generated requests always translate (no refusals)', () => {
    fc.assert(
      fc.property(request, (body) => {
        anthropicRequestFromOpenAi(body, { model: 'claude' });
        geminiRequestFromOpenAi(body, { model: 'gemini' });
        openAiRequestFromAnthropic(anthropicRequestFromOpenAi(body, { model: 'claude' }));
      }),
      { numRuns: 300 },
    );
  });
});

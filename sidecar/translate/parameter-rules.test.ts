import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { UnsupportedParameter } from './errors.ts';
import {
  ANTHROPIC_INBOUND_PARAMETER_RULES,
  ANTHROPIC_PARAMETER_RULES,
  GEMINI_PARAMETER_RULES,
  checkParameters,
} from './parameter-rules.ts';

const TABLES = {
  ANTHROPIC_PARAMETER_RULES,
  GEMINI_PARAMETER_RULES,
  ANTHROPIC_INBOUND_PARAMETER_RULES,
};

describe('parameter rules', () => {
  it('name each parameter once per table, with a note', () => {
    for (const [name, rules] of Object.entries(TABLES)) {
      const params = rules.map((r) => r.param);
      assert.equal(new Set(params).size, params.length, name);
      for (const rule of rules) assert.ok(rule.note.length > 0, `${name}.${rule.param}`);
    }
  });

  it('returns what will be dropped, unknown parameters included, and ignores nulls', () => {
    const body = {
      model: 'm',
      messages: [],
      seed: 1,
      logit_bias: {},
      something_new: true,
      top_logprobs: null,
      n: 1,
    };
    assert.deepEqual(checkParameters(body, ANTHROPIC_PARAMETER_RULES, 'Anthropic'), [
      'seed',
      'logit_bias',
      'something_new',
    ]);
    assert.deepEqual(checkParameters(body, GEMINI_PARAMETER_RULES, 'Gemini'), [
      'logit_bias',
      'something_new',
    ]);
  });

  it('refuses conditionally (n > 1) and unconditionally (audio)', () => {
    assert.throws(
      () => checkParameters({ n: 2 }, ANTHROPIC_PARAMETER_RULES, 'Anthropic'),
      UnsupportedParameter,
    );
    assert.deepEqual(checkParameters({ n: 2 }, GEMINI_PARAMETER_RULES, 'Gemini'), []);
    assert.throws(
      () => checkParameters({ audio: {} }, GEMINI_PARAMETER_RULES, 'Gemini'),
      UnsupportedParameter,
    );
  });

  it('are all documented in the README table', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    for (const rules of [ANTHROPIC_PARAMETER_RULES, GEMINI_PARAMETER_RULES]) {
      for (const rule of rules.filter((r) => r.action === 'refused'))
        assert.ok(readme.includes(`\`${rule.param}\``), rule.param);
    }
  });
});

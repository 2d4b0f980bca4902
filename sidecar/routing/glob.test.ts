import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { globMatches, modelMatcher } from './glob.ts';

/** The reference semantics: the glob as an anchored regex in which `.` matches any character. */
function reference(glob: string, name: string): boolean {
  const source = [...glob]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(name);
}

describe('globMatches', () => {
  it('agrees with the regex reading of the glob on generated globs and names', () => {
    const alphabet = fc.constantFrom('a', 'b', '-', '/', '.', '\n');
    const glob = fc
      .array(fc.oneof(alphabet, fc.constantFrom('*', '?')), { maxLength: 8 })
      .map((a) => a.join(''));
    const name = fc.array(alphabet, { maxLength: 12 }).map((a) => a.join(''));
    fc.assert(
      fc.property(glob, name, (g, n) => globMatches(g, n) === reference(g, n)),
      { numRuns: 5000 },
    );
  });

  it('matches * and ? across slashes, takes every other character literally, and is anchored', () => {
    assert.ok(globMatches('gpt-4o*', 'gpt-4o-mini'));
    assert.ok(globMatches('meta-llama/*', 'meta-llama/Llama-3.1-70B'));
    assert.ok(globMatches('o?', 'o1'));
    assert.ok(globMatches('claude-*-4-*', 'claude-sonnet-4-5'));
    assert.ok(!globMatches('gpt-4.1', 'gpt-421'), 'a dot is literal');
    assert.ok(!globMatches('gpt-4o', 'gpt-4o-mini'), 'anchored');
    assert.ok(!globMatches('*mini*', 'gpt-4o'));
  });
});

describe('modelMatcher', () => {
  it('an empty list matches everything; exact names, prefixes, suffixes and general globs', () => {
    assert.ok(modelMatcher([])('anything'));
    const m = modelMatcher(['smart', 'claude-*', '*-mini', '*4o?2*']);
    assert.ok(m('smart') && m('claude-haiku-4-5') && m('gpt-4o-mini') && m('gpt-4o-2024'));
    assert.ok(!m('smarter') && !m('gpt-4'));
  });

  it('matches a long caller-chosen name against a many-star glob without a regex, newlines included', () => {
    const m = modelMatcher(['*mini*', 'claude-*-4-*']);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- put back below, always called with a regex as `this`
    const realExec = RegExp.prototype.exec; // RegExp#test and String#match go through exec
    let regexRuns = 0;
    RegExp.prototype.exec = function (this: RegExp, s: string) {
      regexRuns++;
      return realExec.call(this, s);
    };
    try {
      // The names that made the backtracking regex take the square of their length.
      assert.equal(m(`${'mini'.repeat(15_000)}\n`), true);
      assert.equal(m(`claude-${'-4-'.repeat(20_000)}\n`), true);
      assert.equal(m(`${'min'.repeat(20_000)}\n`), false);
    } finally {
      RegExp.prototype.exec = realExec;
    }
    assert.equal(regexRuns, 0);
  });
});

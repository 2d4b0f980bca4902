import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretRedactor } from './redact.ts';
import { labelHash, MAX_SCOPE_VALUE_CHARS, SCOPE_HASH_CHARS, scopeHash, scopeLabel } from './scope-label.ts';

const redactor = new SecretRedactor();

describe('scopeLabel', () => {
  it('leaves "policy" and short plain header values as they are', () => {
    assert.equal(scopeLabel('policy', redactor), 'policy');
    assert.equal(scopeLabel('header:x-tenant=acme', redactor), 'header:x-tenant=acme');
  });

  it('redacts a secret-shaped value, keeping a short hash so two callers stay two series', () => {
    const a = scopeLabel('header:x-user=Bearer sk-proj-CALLERSECRET1234567890', redactor);
    const b = scopeLabel('header:x-user=Bearer sk-proj-OTHERSECRET09876543210', redactor);
    assert.match(a, /^header:x-user=[^#]*\[REDACTED\]#[0-9a-f]{16}$/);
    assert.ok(!a.includes('CALLERSECRET'));
    assert.notEqual(a, b);
    assert.equal(a, scopeLabel('header:x-user=Bearer sk-proj-CALLERSECRET1234567890', redactor), 'stable');
  });

  it('cuts a long value, keeping a hash of the whole', () => {
    const long = 'T'.repeat(3000);
    const label = scopeLabel(`header:x-tenant=${long}`, redactor);
    assert.equal(
      label,
      `header:x-tenant=${'T'.repeat(MAX_SCOPE_VALUE_CHARS)}…#${label.slice(-SCOPE_HASH_CHARS)}`,
    );
    assert.notEqual(label, scopeLabel(`header:x-tenant=${long}U`, redactor), 'same prefix, another value');
  });

  it('without a redactor (no telemetry), still cuts', () => {
    const label = scopeLabel(`header:x-tenant=${'a'.repeat(500)}`, undefined);
    assert.ok(label.length < 100, label);
  });

  it('hashes a value sent with a hash-shaped tail, so it cannot pose as another scope’s label', () => {
    const victim = scopeLabel('header:x-user=Bearer sk-proj-CALLERSECRET1234567890', redactor);
    const value = victim.slice('header:x-user='.length);
    const posing = scopeLabel(`header:x-user=${value}`, redactor);
    assert.notEqual(posing, victim);
    assert.equal(posing, `header:x-user=${value}#${scopeHash(`header:x-user=${value}`)}`);
    assert.equal(
      scopeLabel('header:x-user=abc#1234', redactor),
      'header:x-user=abc#1234',
      'not the hash shape',
    );
  });

  it('labelHash finds the hash of the raw value in a label, and nothing in a value shown as sent', () => {
    const scope = `header:x-tenant=${'T'.repeat(100)}`;
    assert.equal(labelHash(scopeLabel(scope, redactor)), scopeHash(scope));
    assert.equal(labelHash(scopeLabel('header:x-tenant=acme', redactor)), undefined);
    assert.equal(scopeHash('policy'), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretRedactor } from './redact.ts';
import { MAX_SCOPE_VALUE_CHARS, scopeLabel } from './scope-label.ts';

const redactor = new SecretRedactor();

describe('scopeLabel', () => {
  it('leaves "policy" and short plain header values as they are', () => {
    assert.equal(scopeLabel('policy', redactor), 'policy');
    assert.equal(scopeLabel('header:x-tenant=acme', redactor), 'header:x-tenant=acme');
  });

  it('redacts a secret-shaped value, keeping a short hash so two callers stay two series', () => {
    const a = scopeLabel('header:x-user=Bearer sk-proj-CALLERSECRET1234567890', redactor);
    const b = scopeLabel('header:x-user=Bearer sk-proj-OTHERSECRET09876543210', redactor);
    assert.match(a, /^header:x-user=[^#]*\[REDACTED\]#[0-9a-f]{8}$/);
    assert.ok(!a.includes('CALLERSECRET'));
    assert.notEqual(a, b);
    assert.equal(a, scopeLabel('header:x-user=Bearer sk-proj-CALLERSECRET1234567890', redactor), 'stable');
  });

  it('cuts a long value, keeping a hash of the whole', () => {
    const long = 'T'.repeat(3000);
    const label = scopeLabel(`header:x-tenant=${long}`, redactor);
    assert.equal(label, `header:x-tenant=${'T'.repeat(MAX_SCOPE_VALUE_CHARS)}…#${label.slice(-8)}`);
    assert.notEqual(label, scopeLabel(`header:x-tenant=${long}U`, redactor), 'same prefix, another value');
  });

  it('without a redactor (no telemetry), still cuts', () => {
    const label = scopeLabel(`header:x-tenant=${'a'.repeat(500)}`, undefined);
    assert.ok(label.length < 100, label);
  });
});

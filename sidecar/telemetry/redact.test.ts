import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuntimeSnapshot } from '../snapshot/runtime.ts';
import { REDACTED, SecretRedactor } from './redact.ts';

const runtimeWith = (...keys: (string | undefined)[]) =>
  ({ providers: new Map(keys.map((apiKey, i) => [`p${i}`, { apiKey }])) }) as unknown as RuntimeSnapshot;

describe('SecretRedactor', () => {
  it('replaces the exact keys of the snapshot, whatever they look like', () => {
    const r = new SecretRedactor();
    r.update(runtimeWith('plain-secret-value-1', 'short', undefined));
    assert.equal(
      r.redact('got plain-secret-value-1 twice: plain-secret-value-1'),
      `got ${REDACTED} twice: ${REDACTED}`,
    );
    assert.equal(r.redact('short stays'), 'short stays', 'too short to match verbatim safely');
  });

  it('keeps the previous snapshot keys for calls that began before a reload', () => {
    const r = new SecretRedactor();
    r.update(runtimeWith('old-key-0123456789'));
    r.update(runtimeWith('new-key-0123456789'));
    assert.equal(r.redact('old-key-0123456789 new-key-0123456789'), `${REDACTED} ${REDACTED}`);
    r.update(runtimeWith('newer-key-0123456789'));
    assert.equal(r.redact('old-key-0123456789'), 'old-key-0123456789', 'two reloads later it is forgotten');
  });

  it('catches key shapes Turnout never held', () => {
    const r = new SecretRedactor();
    for (const text of [
      'sk-proj-abcdefghijklmnop',
      'sk-ant-api03-abcdefghijkl',
      'AIzaSyA1234567890abcdefghijk',
      'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload',
      'GET /v1beta/models/m:generateContent?key=abcdefgh12345678',
    ])
      assert.ok(!/abcdefgh|eyJhbGci|AIzaSy/.test(r.redact(text)), text);
    assert.equal(r.redact('the model said: skip it'), 'the model said: skip it');
  });

  it('returns clean bytes untouched (same buffer), and rewrites only bytes that hold a secret', () => {
    const r = new SecretRedactor();
    r.update(runtimeWith('plain-secret-value-1'));
    const clean = Buffer.from('{"error":{"message":"nope"}}');
    assert.equal(r.redactBytes(clean), clean);
    const dirty = Buffer.from('{"error":{"message":"bad key plain-secret-value-1"}}');
    assert.equal(r.redactBytes(dirty).toString(), `{"error":{"message":"bad key ${REDACTED}"}}`);
  });

  it("catches a key JSON spells with escapes, which the caller's parser turns back into it", () => {
    const r = new SecretRedactor();
    r.update(runtimeWith('plain-secret-value-1'));
    const escaped = [...'plain-secret-value-1'].map(
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    // Wholly or partly escaped: only the parsed form shows the key.
    const half = `plain-\\u0073ecret-value-1`;
    for (const spelled of [escaped.join(''), half]) {
      const body = Buffer.from(`{"error":{"message":"bad key ${spelled}","code":"invalid_api_key"}}`);
      const out = r.redactBytes(body).toString();
      assert.deepEqual(JSON.parse(out), {
        error: { message: `bad key ${REDACTED}`, code: 'invalid_api_key' },
      });
    }
    const sseData = `{"error":{"message":"key ${escaped.join('')}"}}`;
    assert.equal(r.redactJson(sseData), `{"error":{"message":"key ${REDACTED}"}}`);
  });

  it('leaves escaped JSON without a secret as it was, and redacts text that is not JSON as text', () => {
    const r = new SecretRedactor();
    r.update(runtimeWith('plain-secret-value-1'));
    const clean = Buffer.from('{\n  "error": {"message": "line one\\nline two \\u00e9"}\n}');
    assert.equal(r.redactBytes(clean), clean, 'same buffer: formatting kept');
    const notJson = Buffer.from('<p>C:\\path plain-secret-value-1</p>');
    assert.equal(r.redactBytes(notJson).toString(), `<p>C:\\path ${REDACTED}</p>`);
  });
});

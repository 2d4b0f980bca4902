import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failoverDecision } from '../sidecar/telemetry/testing/decisions.ts';
import { decisionLine, printable } from './decision-line.ts';

describe('decisionLine', () => {
  it('says where the call went, what failed on the way and what it cost, on one line', () => {
    assert.equal(
      decisionLine(failoverDecision()),
      '10:00:00.000 200 stream model=smart route=app/smart (priority) primary/gpt-4o ✗503 → secondary/backup-model ✓200 skipped[tertiary/m: circuit open until 2026-11-22T10:01:00.000Z] 54ms 10+20tok $0.000005',
    );
  });

  it('escapes control characters in the caller’s model name, so it cannot forge lines or colour the terminal', () => {
    const forged = 'smart\n10:00:01.000 200 model=x route=admin/ok \x1b[31mFAKE\x1b[0m\r\u2028\u202e';
    const line = decisionLine(failoverDecision({ requestedModel: forged }));
    assert.equal(line.split('\n').length, 1, 'one line');
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u202e]/); // eslint-disable-line no-control-regex
    assert.ok(
      line.includes(
        'model=smart\\n10:00:01.000 200 model=x route=admin/ok \\x1b[31mFAKE\\x1b[0m\\r\\u2028\\u202e route=app/smart',
      ),
      line,
    );
  });

  it('escapes skipped reasons and attempt fields too, and leaves printable text alone', () => {
    const line = decisionLine(
      failoverDecision({ skipped: [{ provider: 'p', model: 'm', reason: 'upstream said "no"\n\x07' }] }),
    );
    assert.ok(line.includes('skipped[p/m: upstream said "no"\\n\\x07]'), line);
    assert.equal(printable('gpt-4o → ✓ héllo'), 'gpt-4o → ✓ héllo');
  });
});

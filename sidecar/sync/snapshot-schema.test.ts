import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { snapshotFor } from '../../operator/compile/index.ts';
import { FakeDesiredState, namespaceYaml } from '../../operator/push/testing/index.ts';
import { Backoff } from './backoff.ts';
import { InvalidSnapshot, parseSnapshot } from './snapshot-schema.ts';

describe('snapshot schema', () => {
  const desired = new FakeDesiredState();
  desired.apply(namespaceYaml('a', 'sk-a'));

  it('accepts what the compiler produces, for every label set, unchanged', () => {
    for (const labels of [{}, { app: 'other' }] as Record<string, string>[]) {
      const snap = snapshotFor(desired.compiled('a'), 'a', labels);
      assert.deepEqual(parseSnapshot(JSON.parse(JSON.stringify(snap)), 'a'), snap);
    }
    const empty = snapshotFor(undefined, 'a', {});
    assert.deepEqual(parseSnapshot(empty), empty);
  });

  it('refuses content that does not hash to its version', () => {
    const snap = snapshotFor(desired.compiled('a'), 'a', {});
    const tampered = { ...snap, credentials: { sim: 'sk-evil' } };
    assert.throws(() => parseSnapshot(tampered), InvalidSnapshot);
    assert.throws(() => parseSnapshot({ ...snap, version: `sha256:${'0'.repeat(64)}` }), /does not match/);
  });
});

describe('backoff', () => {
  it('doubles up to the cap, with half of each delay random, and resets', () => {
    const low = new Backoff({ baseMs: 100, maxMs: 1000 }, () => 0);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => low.next()),
      [50, 100, 200, 400, 500],
    );
    const high = new Backoff({ baseMs: 100, maxMs: 1000 }, () => 0.999999);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => high.next()),
      [100, 200, 400, 800, 1000],
    );
    high.reset();
    assert.equal(high.next(), 100);
  });
});

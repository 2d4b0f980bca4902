// What the cache keeps of a RoutingPolicy as the apiserver serves it after `kubectl apply` and the
// operator's own writes: everything the reconciler and status writes read, none of the copies it never reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAST_ACCEPTED_ANNOTATION } from '../reconcile/last-accepted.ts';
import { LAST_APPLIED_ANNOTATION, projectPolicy } from './objects.ts';

const spec = {
  routes: [
    { name: 'main', match: { model: ['gpt-4o'] }, targets: [{ provider: 'openai', model: 'gpt-4o' }] },
  ],
};
const applied = { apiVersion: 'turnout.dev/v1alpha1', kind: 'RoutingPolicy', metadata: { name: 'p' }, spec };
const status = { observedGeneration: 3, conditions: [{ type: 'Accepted', status: 'True' }] };

function served(annotations: Record<string, string>) {
  return {
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: {
      name: 'p',
      namespace: 'team-a',
      uid: 'uid-1',
      generation: 3,
      resourceVersion: '42',
      labels: { team: 'a' },
      annotations,
      managedFields: [
        { manager: 'kubectl-client-side-apply', operation: 'Update', fieldsV1: { 'f:spec': {} } },
      ],
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec,
    status,
  };
}

describe('projectPolicy', () => {
  it("drops managedFields and kubectl's last-applied copy, keeping what status writes and fallbacks need", () => {
    const lastAccepted = JSON.stringify({ generation: 2, spec });
    const cached = projectPolicy(
      served({
        [LAST_APPLIED_ANNOTATION]: JSON.stringify(applied),
        [LAST_ACCEPTED_ANNOTATION]: lastAccepted,
        'example.com/owner': 'team-a',
      }),
    );
    assert.deepEqual(cached.issues, []);
    assert.deepEqual(cached.ref, {
      namespace: 'team-a',
      name: 'p',
      uid: 'uid-1',
      generation: 3,
      resourceVersion: '42',
    });
    assert.deepEqual(cached.status, status);
    assert.deepEqual(cached.annotations, {
      [LAST_ACCEPTED_ANNOTATION]: lastAccepted,
      'example.com/owner': 'team-a',
    });
    const meta = cached.valid?.metadata as Record<string, unknown> | undefined;
    assert.ok(meta);
    assert.equal(meta['managedFields'], undefined);
    assert.equal(meta['creationTimestamp'], undefined);
    assert.deepEqual(meta['labels'], { team: 'a' });
    assert.deepEqual(meta['annotations'], cached.annotations);
    assert.equal(meta['generation'], 3);
    assert.deepEqual(cached.valid?.spec, spec);
  });

  it('leaves annotations without the kubectl copy as they are, and none as none', () => {
    const only = { 'example.com/owner': 'team-a' };
    assert.deepEqual(projectPolicy(served(only)).annotations, only);
    const bare = served({});
    delete (bare.metadata as { annotations?: unknown }).annotations;
    const cached = projectPolicy(bare);
    assert.deepEqual(cached.annotations, {});
    assert.equal(cached.valid?.metadata.annotations, undefined);
  });
});

describe('projectPolicy on a later version of the same object', () => {
  const first = () => projectPolicy(served({ 'example.com/owner': 'team-a' }));

  it('reuses the validated spec when only status and resourceVersion moved (a status write)', () => {
    const before = first();
    const raw = served({ 'example.com/owner': 'team-a' });
    raw.metadata.resourceVersion = '43';
    const newStatus = { observedGeneration: 3, conditions: [{ type: 'Accepted', status: 'False' }] };
    const after = projectPolicy({ ...raw, status: newStatus }, before);
    assert.equal(after.valid?.spec, before.valid?.spec);
    assert.equal(after.ref.resourceVersion, '43');
    assert.equal(after.valid?.metadata.resourceVersion, '43');
    assert.equal(before.ref.resourceVersion, '42');
    assert.deepEqual(after.status, newStatus);
  });

  it('validates again when the generation, the labels or the annotations moved', () => {
    const before = first();
    const edited = served({ 'example.com/owner': 'team-a' });
    edited.metadata.generation = 4;
    const invalid = projectPolicy({ ...edited, spec: { routes: 'not a list' } }, before);
    assert.equal(invalid.valid, undefined);
    assert.ok(invalid.issues.length > 0);
    const relabelled = served({ 'example.com/owner': 'team-a' });
    relabelled.metadata.labels = { team: 'b' };
    const l = projectPolicy(relabelled, before);
    assert.notEqual(l.valid?.spec, before.valid?.spec);
    assert.deepEqual(l.valid?.metadata.labels, { team: 'b' });
    const reannotated = projectPolicy(served({ [LAST_ACCEPTED_ANNOTATION]: '{}' }), before);
    assert.deepEqual(reannotated.annotations, { [LAST_ACCEPTED_ANNOTATION]: '{}' });
    assert.notEqual(reannotated.valid?.spec, before.valid?.spec);
  });
});

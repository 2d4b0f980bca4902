// Verdicts and the served compilation for one namespace, without a cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Secret } from '../../api/index.ts';
import { projectPolicy, projectProvider, type CachedPolicy } from '../kube/objects.ts';
import { LastAccepted, LAST_ACCEPTED_ANNOTATION, annotationUpdate } from './last-accepted.ts';
import { planNamespace } from './plan.ts';
import { policyStatus } from './policy-status.ts';
import { readyReason } from './provider-status.ts';

const ns = 'team';
const meta = (name: string, generation = 1, annotations?: Record<string, string>) => ({
  name,
  namespace: ns,
  uid: `uid-${name}`,
  generation,
  resourceVersion: String(generation),
  ...(annotations && { annotations }),
});
const provider = (raw: Record<string, unknown> = {}) =>
  projectProvider({
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'ModelProvider',
    metadata: meta('sim'),
    spec: { type: 'mock', models: [{ name: 'small' }] },
    ...raw,
  });
const policy = (generation: number, target: string, annotations?: Record<string, string>) =>
  projectPolicy({
    apiVersion: 'turnout.dev/v1alpha1',
    kind: 'RoutingPolicy',
    metadata: meta('bot', generation, annotations),
    spec: { routes: [{ name: 'main', targets: [{ provider: target, model: 'small' }] }] },
    status: { conditions: [] },
  });
const secrets: Secret[] = [];

describe('planNamespace', () => {
  it('serves the last accepted version of a refused policy, and says why it was refused', () => {
    const memory = new LastAccepted();
    const good = policy(1, 'sim');
    const first = planNamespace(ns, [provider()], [good], secrets, (p) => memory.recall(p));
    assert.equal(first.policies[0]?.verdict.accepted, true);
    memory.remember(good);

    const bad = policy(2, 'missing');
    const plan = planNamespace(ns, [provider()], [bad], secrets, (p) => memory.recall(p));
    const verdict = plan.policies[0]?.verdict;
    assert.equal(verdict?.accepted, false);
    assert.equal(verdict?.servedGeneration, 1);
    assert.equal(verdict?.errors[0]?.path, 'spec.routes[0].targets[0].provider');
    assert.equal(plan.compiled?.policies[0]?.generation, 1);

    const status = policyStatus(
      bad,
      verdict,
      { selected: 0, synced: 0, stale: 0, rejected: 0, rejections: [] },
      undefined,
      'now',
    );
    const [accepted, programmed] = status['conditions'] as { reason: string; message: string }[];
    assert.equal(accepted?.reason, 'InvalidReference');
    assert.match(accepted?.message ?? '', /sidecars keep running generation 1/);
    assert.equal(programmed?.reason, 'Invalid');
  });

  it('recovers the last accepted version from the annotation when memory has none', () => {
    const text = annotationUpdate(policy(1, 'sim'));
    assert.ok(text);
    const bad = policy(3, 'missing', { [LAST_ACCEPTED_ANNOTATION]: text });
    const plan = planNamespace(ns, [provider()], [bad], secrets, (p: CachedPolicy) =>
      new LastAccepted().recall(p),
    );
    assert.equal(plan.compiled?.policies[0]?.generation, 1);
    assert.equal(
      annotationUpdate(policy(1, 'sim', { [LAST_ACCEPTED_ANNOTATION]: text })),
      undefined,
      'already written',
    );
  });

  it('reports an object zod refuses as InvalidSpec instead of dropping it silently', () => {
    const broken = provider({ spec: { type: 'mock', models: [] } });
    assert.equal(broken.valid, undefined);
    const plan = planNamespace(ns, [broken], [], secrets, () => undefined);
    assert.equal(plan.providers[0]?.errors[0]?.path, 'spec.models');
    assert.equal(readyReason(plan.providers[0]?.errors ?? []), 'InvalidSpec');
    assert.equal(plan.compiled, undefined);
  });
});

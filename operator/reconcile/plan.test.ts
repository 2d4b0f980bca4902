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

  describe('when a reference of an accepted policy breaks (Secret or ModelProvider deleted)', () => {
    const keyed = (name: string) =>
      projectProvider({
        apiVersion: 'turnout.dev/v1alpha1',
        kind: 'ModelProvider',
        metadata: meta(name),
        spec: {
          type: 'openai',
          endpoint: 'https://api.openai.com/v1',
          auth: { secretRef: { name: `${name}-key`, key: 'apiKey' } },
          models: [{ name: 'gpt-4o' }],
        },
      });
    const secret = (name: string): Secret => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-key`, namespace: ns, uid: `s-${name}`, resourceVersion: '1' },
      data: { apiKey: Buffer.from(`sk-${name}`).toString('base64') },
    });
    const chain = (generation: number, spec?: object, annotations?: Record<string, string>) =>
      projectPolicy({
        apiVersion: 'turnout.dev/v1alpha1',
        kind: 'RoutingPolicy',
        metadata: meta('bot', generation, annotations),
        spec: spec ?? {
          routes: [
            {
              name: 'main',
              targets: [{ provider: 'primary', model: 'gpt-4o' }],
              fallbacks: [{ provider: 'backup', model: 'gpt-4o' }],
            },
          ],
        },
      });
    const providers = [keyed('primary'), keyed('backup')];
    const noCounts = { selected: 0, synced: 0, stale: 0, rejected: 0, rejections: [] };
    const conditions = (cached: CachedPolicy, verdict: Parameters<typeof policyStatus>[1]) =>
      policyStatus(cached, verdict, noCounts, undefined, 'now')['conditions'] as {
        type: string;
        status: string;
        reason: string;
        message: string;
      }[];

    it('keeps serving the policy without a fallback whose Secret was deleted, and says so', () => {
      const memory = new LastAccepted();
      const rp = chain(1);
      const before = planNamespace(ns, providers, [rp], [secret('primary'), secret('backup')], (p) =>
        memory.recall(p),
      );
      assert.equal(before.policies[0]?.verdict.accepted, true);
      memory.remember(rp);

      const plan = planNamespace(ns, providers, [rp], [secret('primary')], (p) => memory.recall(p));
      const verdict = plan.policies[0]?.verdict;
      assert.ok(verdict);
      assert.equal(verdict.accepted, false, 'generation 1 no longer compiles as written');
      assert.equal(verdict.servedGeneration, 1);
      assert.deepEqual(verdict.dropped, ['backup/gpt-4o']);
      const route = plan.compiled?.policies[0]?.routes[0];
      assert.deepEqual(
        route?.targets.map((t) => t.provider),
        ['primary'],
      );
      assert.deepEqual(route?.fallbacks, [], 'the broken fallback is left out');
      assert.deepEqual(plan.policies[0]?.selector, {});
      assert.equal(plan.compiled?.providers.has('backup'), false, 'the deleted key is not served');

      const [accepted, programmed] = conditions(rp, verdict);
      assert.equal(accepted?.reason, 'InvalidReference');
      assert.match(accepted?.message ?? '', /fallbacks\[0\]\.provider/);
      assert.match(accepted?.message ?? '', /sidecars run this generation without backup\/gpt-4o/);
      assert.doesNotMatch(accepted?.message ?? '', /no (earlier )?generation/);
      assert.equal(programmed?.status, 'False');
      assert.match(programmed?.message ?? '', /run it without its unresolved targets/);
    });

    it('does the same from the annotation alone (a restarted operator), when the ModelProvider is deleted', () => {
      const text = annotationUpdate(chain(1));
      assert.ok(text);
      const rp = chain(1, undefined, { [LAST_ACCEPTED_ANNOTATION]: text });
      const plan = planNamespace(ns, [keyed('primary')], [rp], [secret('primary')], (p) =>
        new LastAccepted().recall(p),
      );
      assert.equal(plan.policies[0]?.verdict.servedGeneration, 1);
      assert.deepEqual(plan.policies[0]?.verdict.dropped, ['backup/gpt-4o']);
      assert.equal(plan.compiled?.policies[0]?.routes[0]?.targets[0]?.provider, 'primary');
    });

    it('serves nothing of a route left without targets, without claiming no generation was accepted', () => {
      const memory = new LastAccepted();
      const rp = chain(1);
      memory.remember(rp);
      const plan = planNamespace(ns, providers, [rp], [secret('backup')], (p) => memory.recall(p));
      const verdict = plan.policies[0]?.verdict;
      assert.ok(verdict);
      assert.equal(verdict.servedGeneration, undefined);
      assert.equal(verdict.lastAcceptedGeneration, 1);
      assert.equal(plan.compiled?.policies.length ?? 0, 0);
      const [accepted] = conditions(rp, verdict);
      assert.match(accepted?.message ?? '', /generation 1 was accepted earlier, but no longer compiles/);
      assert.doesNotMatch(accepted?.message ?? '', /no earlier generation/);
    });

    it('says no earlier generation is on record only for a policy never accepted', () => {
      const rp = chain(1);
      const plan = planNamespace(ns, providers, [rp], [secret('primary')], () => undefined);
      const verdict = plan.policies[0]?.verdict;
      assert.ok(verdict);
      assert.equal(verdict.servedGeneration, undefined);
      assert.equal(plan.compiled?.policies.length ?? 0, 0, 'a new policy is not served in part');
      const [accepted] = conditions(rp, verdict);
      assert.match(accepted?.message ?? '', /no earlier generation of this policy is on record as accepted/);
    });

    it('trims an older accepted generation too, when the current one refuses its own spec', () => {
      const memory = new LastAccepted();
      memory.remember(chain(1));
      const selfContradicting = chain(2, {
        routes: [
          {
            name: 'main',
            targets: [{ provider: 'primary', model: 'gpt-4o' }],
            retry: { backoff: { base: '10s', max: '1s' } },
          },
        ],
      });
      const plan = planNamespace(ns, providers, [selfContradicting], [secret('primary')], (p) =>
        memory.recall(p),
      );
      const verdict = plan.policies[0]?.verdict;
      assert.equal(verdict?.servedGeneration, 1);
      assert.deepEqual(verdict?.dropped, ['backup/gpt-4o']);
      assert.equal(plan.compiled?.policies[0]?.generation, 1);
      const [accepted] = conditions(selfContradicting, verdict ?? ({} as never));
      assert.equal(accepted?.reason, 'InvalidSpec');
      assert.match(accepted?.message ?? '', /sidecars run generation 1 without backup\/gpt-4o/);
    });
  });
});

// The status a ModelProvider should have. Messages name the Secret and key, never a value from it.
import type { CachedProvider, Issue } from '../kube/objects.ts';
import { type ConditionInput, withTransitions } from './conditions.ts';
import { describeIssues } from './policy-status.ts';

export type ReadyReason =
  'CredentialsResolved' | 'NoCredentialsRequired' | 'SecretNotFound' | 'SecretKeyNotFound' | 'InvalidSpec';

export function readyReason(errors: readonly Issue[]): ReadyReason {
  // Own-spec problems come first: fixing the Secret would not make such a provider ready.
  const other = errors.some((e) => !e.path.startsWith('spec.auth.secretRef.'));
  if (other) return 'InvalidSpec';
  if (errors.some((e) => e.path === 'spec.auth.secretRef.name')) return 'SecretNotFound';
  return 'SecretKeyNotFound';
}

function readyCondition(
  cached: CachedProvider,
  errors: readonly Issue[],
  warnings: readonly Issue[],
): ConditionInput {
  if (errors.length > 0) {
    return { type: 'Ready', status: 'False', reason: readyReason(errors), message: describeIssues(errors) };
  }
  const warn = warnings.length > 0 ? `; warnings: ${describeIssues(warnings)}` : '';
  const ref = cached.valid?.spec.auth?.secretRef;
  if (ref) {
    return {
      type: 'Ready',
      status: 'True',
      reason: 'CredentialsResolved',
      message: `API key read from Secret ${ref.name}, key ${ref.key}${warn}`,
    };
  }
  const why = cached.valid?.spec.type === 'mock' ? 'simulated provider' : 'no auth.secretRef';
  return {
    type: 'Ready',
    status: 'True',
    reason: 'NoCredentialsRequired',
    message: `${why}: no API key needed${warn}`,
  };
}

export function providerStatus(
  cached: CachedProvider,
  errors: readonly Issue[],
  warnings: readonly Issue[],
  now: string,
): Record<string, unknown> {
  const generation = cached.ref.generation;
  const previous = (cached.status as { conditions?: unknown } | undefined)?.conditions;
  return {
    observedGeneration: generation,
    conditions: withTransitions([readyCondition(cached, errors, warnings)], previous, generation, now),
  };
}

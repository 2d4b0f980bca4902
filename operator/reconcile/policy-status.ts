// The status a RoutingPolicy should have, computed without I/O from what the reconciler found.
import type { CachedPolicy, Issue } from '../kube/objects.ts';
import { type ConditionInput, withTransitions } from './conditions.ts';
import type { SidecarCounts } from './sidecar-counts.ts';

export interface PolicyVerdict {
  accepted: boolean;
  errors: Issue[];
  warnings: Issue[];
  routes: number;
  /** The generation sidecars get: this one when accepted, else the last accepted one, if any. */
  servedGeneration?: number | undefined;
}

/** A reference to another object (a provider or one of its models) is what failed, not the policy's own shape. */
const REFERENCE_PATH = /\.(provider|model)$/;

export function acceptedReason(errors: readonly Issue[]): 'InvalidReference' | 'InvalidSpec' {
  return errors.length > 0 && errors.every((e) => REFERENCE_PATH.test(e.path))
    ? 'InvalidReference'
    : 'InvalidSpec';
}

export const describeIssues = (issues: readonly Issue[], max = 5): string =>
  issues
    .slice(0, max)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join('; ') + (issues.length > max ? `; and ${issues.length - max} more` : '');

function acceptedCondition(v: PolicyVerdict, generation: number): ConditionInput {
  if (v.accepted) {
    const warn = v.warnings.length > 0 ? `; warnings: ${describeIssues(v.warnings)}` : '';
    return {
      type: 'Accepted',
      status: 'True',
      reason: 'Accepted',
      message: `generation ${generation} compiled: ${v.routes} route(s)${warn}`,
    };
  }
  const keep =
    v.servedGeneration !== undefined
      ? `sidecars keep running generation ${v.servedGeneration}`
      : 'no generation of this policy was accepted yet, so sidecars get none of it';
  return {
    type: 'Accepted',
    status: 'False',
    reason: acceptedReason(v.errors),
    message: `${describeIssues(v.errors)} (${keep})`,
  };
}

function programmedCondition(v: PolicyVerdict, c: SidecarCounts, generation: number): ConditionInput {
  const base = { type: 'Programmed' } as const;
  if (!v.accepted) {
    return {
      ...base,
      status: 'False',
      reason: 'Invalid',
      message: `generation ${generation} is not accepted (see Accepted)`,
    };
  }
  if (c.selected === 0) {
    return {
      ...base,
      status: 'False',
      reason: 'NoSidecars',
      message: 'no injected pod matches workloadSelector',
    };
  }
  if (c.rejected > 0) {
    const who = c.rejections.slice(0, 3).join('; ');
    return {
      ...base,
      status: 'False',
      reason: 'Rejected',
      message: `${c.rejected} of ${c.selected} sidecars refused the snapshot: ${who}`,
    };
  }
  if (c.synced === c.selected) {
    return {
      ...base,
      status: 'True',
      reason: 'Programmed',
      message: `all ${c.selected} selected sidecars run generation ${generation}`,
    };
  }
  return {
    ...base,
    status: 'False',
    reason: 'Pending',
    message: `${c.synced} of ${c.selected} selected sidecars run generation ${generation}; ${c.stale} not yet`,
  };
}

export function policyStatus(
  cached: CachedPolicy,
  verdict: PolicyVerdict,
  counts: SidecarCounts,
  snapshotVersion: string | undefined,
  now: string,
): Record<string, unknown> {
  const generation = cached.ref.generation;
  const previous = (cached.status as { conditions?: unknown } | undefined)?.conditions;
  const conditions = [
    acceptedCondition(verdict, generation),
    programmedCondition(verdict, counts, generation),
  ];
  return {
    observedGeneration: generation,
    conditions: withTransitions(conditions, previous, generation, now),
    snapshotVersion: snapshotVersion ?? null,
    sidecars: {
      selected: counts.selected,
      synced: counts.synced,
      stale: counts.stale,
      rejected: counts.rejected,
    },
  };
}

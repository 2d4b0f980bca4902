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
  /**
   * "provider/model" of the targets left out of the served version: a ModelProvider or Secret it
   * references broke after that version was accepted (see plan.ts).
   */
  dropped?: string[] | undefined;
  /** The newest generation accepted earlier, when one is on record but nothing of it can be served now. */
  lastAcceptedGeneration?: number | undefined;
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
  return {
    type: 'Accepted',
    status: 'False',
    reason: acceptedReason(v.errors),
    message: `${describeIssues(v.errors)} (${servedNote(v, generation)})`,
  };
}

/** What sidecars run of a policy whose current generation is refused. */
function servedNote(v: PolicyVerdict, generation: number): string {
  const dropped = v.dropped ?? [];
  if (v.servedGeneration !== undefined) {
    const which = v.servedGeneration === generation ? 'this generation' : `generation ${v.servedGeneration}`;
    return dropped.length > 0
      ? `sidecars run ${which} without ${dropped.join(', ')}, whose provider or model no longer resolves`
      : `sidecars keep running ${which}`;
  }
  if (v.lastAcceptedGeneration !== undefined)
    return `generation ${v.lastAcceptedGeneration} was accepted earlier, but no longer compiles against this namespace's ModelProviders and Secrets, so sidecars get none of this policy`;
  return 'no earlier generation of this policy is on record as accepted, so sidecars get none of it';
}

/** Selected pods that run no sidecar: they never sync, and restarting them lets the webhook inject one. */
function withoutSidecarNote(c: SidecarCounts): string {
  const n = c.withoutSidecar ?? 0;
  if (n === 0) return '';
  return `; ${n} matching pod(s) run no sidecar (created before injection was enabled, or while the webhook was down): restart them to inject it`;
}

function programmedCondition(v: PolicyVerdict, c: SidecarCounts, generation: number): ConditionInput {
  const base = { type: 'Programmed' } as const;
  const missing = withoutSidecarNote(c);
  if (!v.accepted) {
    // Served without its unresolved targets: how far that version got is still worth showing.
    const degraded =
      v.servedGeneration === generation
        ? `; ${c.synced} of ${c.selected} selected sidecars run it without its unresolved targets`
        : '';
    return {
      ...base,
      status: 'False',
      reason: 'Invalid',
      message: `generation ${generation} is not accepted as written (see Accepted)${degraded}${missing}`,
    };
  }
  if (c.selected === 0) {
    return {
      ...base,
      status: 'False',
      reason: 'NoSidecars',
      message: `no pod running the sidecar matches workloadSelector${missing}`,
    };
  }
  if (c.rejected > 0) {
    const who = c.rejections.slice(0, 3).join('; ');
    return {
      ...base,
      status: 'False',
      reason: 'Rejected',
      message: `${c.rejected} of ${c.selected} sidecars refused the snapshot: ${who}${missing}`,
    };
  }
  if (c.synced === c.selected) {
    return {
      ...base,
      status: 'True',
      reason: 'Programmed',
      message: `all ${c.selected} selected sidecars run generation ${generation}${missing}`,
    };
  }
  return {
    ...base,
    status: 'False',
    reason: 'Pending',
    message: `${c.synced} of ${c.selected} selected sidecars run generation ${generation}; ${c.stale} not yet${missing}`,
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

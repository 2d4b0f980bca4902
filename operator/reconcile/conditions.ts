// Conditions as controller-runtime's meta.SetStatusCondition keeps them: lastTransitionTime moves only
// when the status flips, and a status write happens only when something other than that time changed.
import { canonicalJson, type Condition } from '../../api/index.ts';

export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** Kubernetes caps condition messages at 32 KiB; ours stay far shorter to remain readable. */
const MAX_MESSAGE = 1024;

export function withTransitions(
  next: readonly ConditionInput[],
  previous: unknown,
  generation: number,
  now: string,
): Condition[] {
  const prev = Array.isArray(previous) ? (previous as Partial<Condition>[]) : [];
  return next.map((c) => {
    const before = prev.find((p) => p.type === c.type);
    const lastTransitionTime =
      before?.status === c.status && typeof before.lastTransitionTime === 'string'
        ? before.lastTransitionTime
        : now;
    return { ...c, message: truncate(c.message), lastTransitionTime, observedGeneration: generation };
  });
}

export function conditionOf(status: unknown, type: string): Partial<Condition> | undefined {
  const conditions = (status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return (conditions as Partial<Condition>[]).find((c) => c.type === type);
}

/** Equal apart from lastTransitionTime, and apart from fields `desired` leaves to other writers. */
export function sameStatus(current: unknown, desired: Record<string, unknown>): boolean {
  const cur = (current ?? {}) as Record<string, unknown>;
  const strip = (s: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(desired)) {
      const v = s[k];
      // null (a field the patch removes) and absent are the same state.
      out[k] =
        k === 'conditions' && Array.isArray(v)
          ? v.map((c: Record<string, unknown>) => ({ ...c, lastTransitionTime: undefined }))
          : (v ?? null);
    }
    return canonicalJson(out);
  };
  return strip(cur) === strip(desired);
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}

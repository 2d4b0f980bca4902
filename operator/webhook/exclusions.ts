// Pods the injector must leave alone, whatever label brought them here. The webhook configuration's
// selectors and matchConditions already keep most of them from reaching us (so an operator outage never
// blocks them); this is the same rule again on the server, in case the configuration was edited.
import { annotationsOf, INJECT_KEY, isInjectedAlready, labelsOf, type PodLike } from './pod.ts';

export interface ExclusionContext {
  /** The namespace the pod is being created in (from the AdmissionRequest: metadata may lack it). */
  namespace: string;
  /** kube-system, kube-public, … and always the operator's own namespace. */
  excludedNamespaces: ReadonlySet<string>;
}

/** Why the pod gets no patch, or undefined when it should be injected. */
export function skipReason(pod: PodLike, ctx: ExclusionContext): string | undefined {
  if (ctx.excludedNamespaces.has(ctx.namespace)) return `namespace ${ctx.namespace} is never injected`;
  // A hostNetwork pod shares the node's loopback: its "in-pod" proxy would be reachable node-wide.
  if (pod.spec?.hostNetwork === true) return 'hostNetwork pods are never injected';
  if (annotationsOf(pod)[INJECT_KEY] === 'false') return `opted out by annotation ${INJECT_KEY}: "false"`;
  if (labelsOf(pod)[INJECT_KEY] === 'false') return `opted out by label ${INJECT_KEY}: "false"`;
  if (isInjectedAlready(pod)) return 'already injected';
  return undefined;
}

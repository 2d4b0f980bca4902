// The parts of a Pod the injector reads, as they arrive in an AdmissionReview (raw JSON: anything may
// be missing), and the labels and annotations through which users talk to it.
import type { V1Container, V1EnvVar, V1Volume } from '@kubernetes/client-node';

export const INJECT_KEY = 'turnout.dev/inject';
/** Annotation: `explicit` (default) or `transparent`. */
export const MODE_ANNOTATION = 'turnout.dev/mode';
/** Set on injected pods: the mode they were injected in. */
export const INJECTED_ANNOTATION = 'turnout.dev/injected';
/** Set on transparent pods: the hostnames their hostAliases send to the sidecar. */
export const HOSTS_ANNOTATION = 'turnout.dev/transparent-hosts';
export const SIDECAR_NAME = 'turnout-proxy';

export type Mode = 'explicit' | 'transparent';

export interface ContainerLike {
  name: string;
  env?: V1EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
  restartPolicy?: string;
}

export interface PodLike {
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    containers?: ContainerLike[];
    initContainers?: ContainerLike[];
    volumes?: V1Volume[];
    hostNetwork?: boolean;
    hostAliases?: { ip?: string; hostnames?: string[] }[];
    securityContext?: { sysctls?: { name: string; value: string }[] };
    /** Sets the sidecar's drain window (see drainTimeout in sidecar-spec.ts). */
    terminationGracePeriodSeconds?: number;
  };
}

export type SidecarContainer = V1Container & { restartPolicy: 'Always' };

export const labelsOf = (pod: PodLike): Record<string, string> => pod.metadata?.labels ?? {};
export const annotationsOf = (pod: PodLike): Record<string, string> => pod.metadata?.annotations ?? {};

export function isInjectedAlready(pod: PodLike): boolean {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return all.some((c) => c.name === SIDECAR_NAME);
}

/** The pod's requested mode, or an error message for a value we do not know. */
export function modeOf(pod: PodLike, fallback: Mode): Mode | { error: string } {
  const raw = annotationsOf(pod)[MODE_ANNOTATION];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'explicit' || raw === 'transparent') return raw;
  return { error: `annotation ${MODE_ANNOTATION} must be "explicit" or "transparent" (got "${raw}")` };
}

// From a pod to the add-only patch that injects it (pure: the admission server does the I/O). Running
// it on its own output yields nothing: an injected pod is recognised by its sidecar and skipped, and
// every single addition is also guarded by "only if absent".
import { appEnv } from './app-env.ts';
import type { InjectorConfig } from './config.ts';
import { skipReason } from './exclusions.ts';
import { AddPatch, pointer, type AddOp } from './json-patch.ts';
import {
  HOSTS_ANNOTATION,
  INJECTED_ANNOTATION,
  labelsOf,
  modeOf,
  type ContainerLike,
  type Mode,
  type PodLike,
} from './pod.ts';
import { PATHS, sidecarContainer, sidecarVolumes, VOLUMES, type SidecarNames } from './sidecar-spec.ts';
import { transparentPodLevel } from './transparent-pod.ts';

export interface InjectionContext {
  config: InjectorConfig;
  names: SidecarNames;
  excludedNamespaces: ReadonlySet<string>;
  /** Provider hostnames for a pod with these labels in this namespace (transparent mode). */
  hostsFor(namespace: string, labels: Readonly<Record<string, string>>): string[];
}

export type InjectionPlan =
  | { kind: 'skip'; reason: string }
  | { kind: 'deny'; message: string }
  | { kind: 'patch'; ops: AddOp[]; mode: Mode; hosts: string[]; warnings: string[] };

export function planInjection(pod: PodLike, namespace: string, ctx: InjectionContext): InjectionPlan {
  const reason = skipReason(pod, { namespace, excludedNamespaces: ctx.excludedNamespaces });
  if (reason) return { kind: 'skip', reason };
  const mode = modeOf(pod, ctx.config.injection.defaultMode);
  if (typeof mode === 'object') return { kind: 'deny', message: mode.error };
  const spec = pod.spec ?? {};
  const volumes = sidecarVolumes(ctx.config.sidecar, ctx.names, mode);
  const clash = volumes.find((v) => spec.volumes?.some((own) => own.name === v.name));
  if (clash)
    return {
      kind: 'deny',
      message: `the pod already has a volume named ${clash.name}, which Turnout injects`,
    };
  const warnings: string[] = [];
  const patch = new AddPatch();
  let hosts: string[] = [];
  if (mode === 'transparent') {
    const level = transparentPodLevel(spec, patch, ctx.hostsFor(namespace, labelsOf(pod)), ctx, warnings);
    if (typeof level === 'string') return { kind: 'deny', message: level };
    hosts = level;
  }
  const annotations = pod.metadata?.annotations;
  patch.setKey('/metadata/annotations', annotations, INJECTED_ANNOTATION, mode);
  if (mode === 'transparent')
    patch.setKey('/metadata/annotations', annotations, HOSTS_ANNOTATION, hosts.join(','));
  for (const v of volumes) patch.append('/spec/volumes', spec.volumes, v);
  const env = appEnv(ctx.config.sidecar, mode);
  spec.containers?.forEach((c, i) => appContainer(patch, ['spec', 'containers', i], c, env, mode));
  // Before the sidecar is inserted at index 0: these indexes still point at the author's containers.
  spec.initContainers?.forEach((c, i) => appContainer(patch, ['spec', 'initContainers', i], c, env, mode));
  const sidecar = sidecarContainer(ctx.config.sidecar, mode, spec.terminationGracePeriodSeconds);
  if (spec.initContainers) patch.add('/spec/initContainers/0', sidecar);
  else patch.add('/spec/initContainers', [sidecar]);
  return { kind: 'patch', ops: patch.ops, mode, hosts, warnings };
}

function appContainer(
  patch: AddPatch,
  at: (string | number)[],
  c: ContainerLike,
  env: { name: string; value: string }[],
  mode: Mode,
): void {
  const path = pointer(...at);
  const own = new Set((c.env ?? []).map((e) => e.name));
  for (const e of env) if (!own.has(e.name)) patch.append(`${path}/env`, c.env, e);
  if (mode !== 'transparent') return;
  const mounted = (c.volumeMounts ?? []).some((m) => m.mountPath === PATHS.ca || m.name === VOLUMES.ca);
  if (!mounted)
    patch.append(`${path}/volumeMounts`, c.volumeMounts, {
      name: VOLUMES.ca,
      mountPath: PATHS.ca,
      readOnly: true,
    });
}

// Transparent mode's pod-level additions: hostAliases sending the provider hostnames to the sidecar's
// loopback TLS listener, and the one sysctl that lets a non-root, capability-free sidecar bind :443
// (net.ipv4.ip_unprivileged_port_start is namespaced per pod and allowed by every PodSecurity level).
import type { AddPatch } from './json-patch.ts';
import type { PodLike } from './pod.ts';

export const UNPRIVILEGED_PORT_SYSCTL = 'net.ipv4.ip_unprivileged_port_start';
export const TRANSPARENT_IP = '127.0.0.1';

/** Adds hostAliases and the sysctl; returns the hostnames intercepted, or why the pod cannot be. */
export function transparentPodLevel(
  spec: NonNullable<PodLike['spec']>,
  patch: AddPatch,
  wanted: readonly string[],
  ctx: { config: { sidecar: { transparentPort: number } } },
  warnings: string[],
): string[] | string {
  const port = ctx.config.sidecar.transparentPort;
  const sysctls = spec.securityContext?.sysctls;
  const own = sysctls?.find((s) => s.name === UNPRIVILEGED_PORT_SYSCTL);
  if (own && Number(own.value) > port)
    return `transparent mode needs ${UNPRIVILEGED_PORT_SYSCTL} <= ${port}, but the pod sets ${own.value}: remove it or use explicit mode`;
  const aliased = new Set((spec.hostAliases ?? []).flatMap((a) => a.hostnames ?? []));
  const hosts = wanted.filter((h) => !aliased.has(h));
  const kept = wanted.filter((h) => aliased.has(h));
  if (kept.length > 0)
    warnings.push(`turnout: the pod already aliases ${kept.join(', ')}; those keep the pod's own address`);
  if (wanted.length === 0)
    warnings.push(
      'turnout: no RoutingPolicy selects this pod yet, so transparent mode intercepts no hostname; hostnames are fixed when a pod is created, so restart it once its policies exist',
    );
  if (hosts.length > 0)
    patch.append('/spec/hostAliases', spec.hostAliases, { ip: TRANSPARENT_IP, hostnames: hosts });
  if (port < 1024 && !own) {
    const sysctl = { name: UNPRIVILEGED_PORT_SYSCTL, value: '0' };
    if (!spec.securityContext) patch.add('/spec/securityContext', { sysctls: [sysctl] });
    else patch.append('/spec/securityContext/sysctls', sysctls, sysctl);
  }
  return hosts;
}

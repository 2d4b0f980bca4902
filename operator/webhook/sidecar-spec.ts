// The injected sidecar: a native sidecar (an init container with restartPolicy Always), so it starts —
// and, with holdApplicationUntilReady, has a policy snapshot — before any app container, and outlives
// them. Its securityContext meets PodSecurity "restricted" on its own, whatever the pod sets.
import type { V1Probe, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
// Not re-exported from the package root; the package declares no exports map, so its file is importable.
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import { sidecarNodeEnv } from '../../sidecar/node-options.ts';
import type { SidecarConfig } from './config.ts';
import { SIDECAR_NAME, type Mode, type SidecarContainer } from './pod.ts';

export const PATHS = {
  token: '/var/run/secrets/turnout',
  state: '/var/run/turnout/state',
  ca: '/var/run/turnout/ca',
  tls: '/var/run/turnout/tls',
} as const;

export const VOLUMES = {
  token: 'turnout-token',
  state: 'turnout-state',
  ca: 'turnout-ca',
  tls: 'turnout-mesh-tls',
} as const;

export interface SidecarNames {
  /** Per-namespace ConfigMap with the CA files and the sidecar's hosts file. */
  caConfigMap: string;
  /** Per-namespace Secret with the transparent-mode leaf. */
  leafSecret: string;
}

export function sidecarVolumes(cfg: SidecarConfig, names: SidecarNames, mode: Mode): V1Volume[] {
  const volumes: V1Volume[] = [
    {
      name: VOLUMES.token,
      projected: {
        sources: [
          {
            serviceAccountToken: {
              audience: 'turnout',
              expirationSeconds: cfg.tokenExpirationSeconds,
              path: 'token',
            },
          },
        ],
      },
    },
    {
      name: VOLUMES.state,
      emptyDir: {
        ...(cfg.stateVolume.medium && { medium: cfg.stateVolume.medium }),
        sizeLimit: cfg.stateVolume.sizeLimit,
      },
    },
    // Never through subPath for the CA files: only whole-volume mounts follow ConfigMap updates.
    { name: VOLUMES.ca, configMap: { name: names.caConfigMap } },
  ];
  if (mode === 'transparent') volumes.push({ name: VOLUMES.tls, secret: { secretName: names.leafSecret } });
  return volumes;
}

const probe = (path: string, port: number, periodSeconds: number, failureThreshold: number): V1Probe => ({
  httpGet: { path, port },
  periodSeconds,
  failureThreshold,
  timeoutSeconds: 1,
});

/** Kubernetes' default terminationGracePeriodSeconds, and what the sidecar keeps back from it. */
const DEFAULT_GRACE_S = 30;
const DRAIN_MARGIN_S = 5;

/**
 * The sidecar's drain window (TURNOUT_DRAIN_TIMEOUT) from the pod's grace period: the margin leaves time
 * to cut what is left in-band and send the last spend report before the kubelet's SIGKILL. A native
 * sidecar is stopped only after the app containers have exited, so in a pod deletion the window is
 * rarely used; it matters when the sidecar alone restarts (a failed liveness probe) under a running app.
 */
export function drainTimeout(terminationGracePeriodSeconds = DEFAULT_GRACE_S): string {
  return `${Math.max(0, Math.floor(terminationGracePeriodSeconds) - DRAIN_MARGIN_S)}s`;
}

/**
 * Heap and allocator settings sized to the sidecar's memory limit (sidecar/node-options.ts says why);
 * `sidecar.env` in the chart values overrides either variable.
 */
function nodeEnv(cfg: SidecarConfig): Record<string, string> {
  const limit = cfg.resources.limits?.memory;
  let bytes: number | undefined;
  try {
    bytes = limit === undefined ? undefined : Number(quantityToScalar(limit));
  } catch {
    bytes = undefined; // not a quantity: the apiserver will refuse the pod anyway; no heap ceiling here
  }
  return { ...sidecarNodeEnv(bytes) };
}

export function sidecarContainer(
  cfg: SidecarConfig,
  mode: Mode,
  terminationGracePeriodSeconds?: number,
): SidecarContainer {
  const loopback = (port: number) => `127.0.0.1:${port}`;
  const env = [
    { name: 'TURNOUT_OPERATOR_URL', value: cfg.operatorUrl },
    { name: 'TURNOUT_CA_FILE', value: `${PATHS.ca}/ca.crt` },
    { name: 'TURNOUT_TOKEN_FILE', value: `${PATHS.token}/token` },
    { name: 'TURNOUT_POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'TURNOUT_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'TURNOUT_STATE_DIR', value: PATHS.state },
    { name: 'TURNOUT_LISTEN', value: loopback(cfg.port) },
    // Health and metrics only: kubelet probes and Prometheus reach the pod IP, never the routing port.
    { name: 'TURNOUT_METRICS_LISTEN', value: `0.0.0.0:${cfg.opsPort}` },
    ...(mode === 'transparent'
      ? [
          { name: 'TURNOUT_TRANSPARENT_LISTEN', value: loopback(cfg.transparentPort) },
          { name: 'TURNOUT_TRANSPARENT_CERT', value: `${PATHS.tls}/tls.crt` },
          { name: 'TURNOUT_TRANSPARENT_KEY', value: `${PATHS.tls}/tls.key` },
        ]
      : []),
    ...('TURNOUT_DRAIN_TIMEOUT' in cfg.env
      ? []
      : [{ name: 'TURNOUT_DRAIN_TIMEOUT', value: drainTimeout(terminationGracePeriodSeconds) }]),
    ...Object.entries(nodeEnv(cfg))
      .filter(([name]) => !(name in cfg.env))
      .map(([name, value]) => ({ name, value })),
    ...Object.entries(cfg.env).map(([name, value]) => ({ name, value })),
  ];
  const mounts: V1VolumeMount[] = [
    { name: VOLUMES.token, mountPath: PATHS.token, readOnly: true },
    { name: VOLUMES.state, mountPath: PATHS.state },
    { name: VOLUMES.ca, mountPath: PATHS.ca, readOnly: true },
  ];
  if (mode === 'transparent') {
    mounts.push({ name: VOLUMES.tls, mountPath: PATHS.tls, readOnly: true });
    // The pod's hostAliases send provider hostnames to 127.0.0.1 — for the sidecar too, which would
    // then call itself. A container that mounts /etc/hosts gets no kubelet-managed one, so the sidecar
    // alone resolves provider hosts through DNS.
    mounts.push({ name: VOLUMES.ca, mountPath: '/etc/hosts', subPath: 'hosts', readOnly: true });
  }
  const ready = cfg.holdApplicationUntilReady ? '/readyz' : '/healthz';
  return {
    name: SIDECAR_NAME,
    image: cfg.image,
    imagePullPolicy: cfg.imagePullPolicy,
    restartPolicy: 'Always',
    args: ['sidecar'],
    env,
    ports: [{ name: 'turnout-ops', containerPort: cfg.opsPort, protocol: 'TCP' }],
    resources: cfg.resources,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: cfg.runAsUser,
      runAsGroup: cfg.runAsGroup,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // App containers start once this passes: with a snapshot loaded (or just listening, when not held).
    startupProbe: probe(ready, cfg.opsPort, 1, 300),
    readinessProbe: probe('/readyz', cfg.opsPort, 5, 3),
    livenessProbe: probe('/healthz', cfg.opsPort, 10, 3),
    volumeMounts: mounts,
  };
}
